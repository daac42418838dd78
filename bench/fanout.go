package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// fanoutConfig holds the flags of the fan-out workload.
type fanoutConfig struct {
	commonConfig
	subs      []int
	modes     []string
	rate      int // paced: deliveries per second asked for
	duration  time.Duration
	windows   []int
	winFlag   string
	pad       int
	workers   int
	subsFlag  string
	modesFlag string
}

// fanoutRoom is the room every subscriber joins.
const fanoutRoom = "fan"

func (c *fanoutConfig) register(fs *flag.FlagSet, prefix string) {
	fs.StringVar(&c.subsFlag, prefix+"subs", "1000,10000", "fan-out: comma-separated subscriber counts, ascending")
	fs.StringVar(&c.modesFlag, prefix+"modes", "paced,flat", "fan-out: paced (--paced-rate) and/or flat (as fast as the window allows)")
	// 20,000 deliveries/s is within every server's reach here at both
	// sizes (one broadcast every 50 ms to 1,000, every 500 ms to 10,000),
	// so the paced runs compare latency at the same load, not overload.
	fs.IntVar(&c.rate, prefix+"paced-rate", 20000, "fan-out: paced mode, deliveries per second (broadcasts/s = this / subscribers)")
	fs.DurationVar(&c.duration, prefix+"duration", 10*time.Second, "fan-out: publishing time per measured run")
	// The window bounds what a server may hold: W broadcasts are W queued
	// messages per subscriber at most (W x 10,000 in all), so a server that
	// cannot keep up shows it in the rate, not in its queues. 2 is just
	// enough to pipeline (the next broadcast is ready while one is out);
	// deeper windows let a server coalesce queued messages into fewer
	// writes, which some do and some do not: the flat runs sweep it.
	fs.StringVar(&c.winFlag, prefix+"window", "2,8,16", "fan-out: flat runs, one per window: broadcasts published but not yet received by every subscriber, at most")
	fs.IntVar(&c.pad, prefix+"pad", 32, "fan-out: bytes of padding string per message")
	fs.IntVar(&c.workers, prefix+"workers", 2, "fan-out: subscriber worker processes (more if --per-worker needs it)")
}

func (c *fanoutConfig) check() error {
	c.subs, c.modes = nil, nil
	for s := range strings.SplitSeq(c.subsFlag, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n <= 0 || n > maxServerSessions-10 {
			return fmt.Errorf("bench: bad subscriber count %q", s)
		}
		if len(c.subs) > 0 && n < c.subs[len(c.subs)-1] {
			return errors.New("bench: --subs must be ascending")
		}
		c.subs = append(c.subs, n)
	}
	for m := range strings.SplitSeq(c.modesFlag, ",") {
		m = strings.TrimSpace(m)
		if m != "paced" && m != "flat" {
			return fmt.Errorf("bench: bad fan-out mode %q (paced, flat)", m)
		}
		c.modes = append(c.modes, m)
	}
	c.windows = nil
	for w := range strings.SplitSeq(c.winFlag, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(w))
		if err != nil || n <= 0 || n > 1000 {
			return fmt.Errorf("bench: bad window %q", w)
		}
		c.windows = append(c.windows, n)
	}
	if c.rate <= 0 || c.duration <= 0 || c.workers <= 0 || c.pad < 0 || c.pad > 1000 {
		return errors.New("bench: --paced-rate, --duration, --window, --workers must be positive, --pad within 0..1000")
	}
	return nil
}

func parseFanoutFlags(args []string) (fanoutConfig, error) {
	var cfg fanoutConfig
	return cfg, parseWorkload("fanout", "riptide,node,zishang520", &cfg.commonConfig, &cfg, args)
}

// runFanout is the "fanout" subcommand.
func runFanout(args []string) error {
	cfg, err := parseFanoutFlags(args)
	if err != nil {
		return err
	}
	return runWorkload(cfg.commonConfig, func(ctx context.Context, env *runEnv) (*fanoutResults, error) {
		return fanoutWorkload(ctx, env, cfg)
	})
}

func fanoutWorkload(ctx context.Context, env *runEnv, cfg fanoutConfig) (*fanoutResults, error) {
	res := &fanoutResults{
		Workload: "fanout",
		Date:     time.Now().UTC().Format(time.RFC3339),
		Command:  commandLine(),
		Machine:  machineInfo(),
		Settings: fanoutSettings{
			Subscribers: cfg.subs, Modes: cfg.modes, PacedRate: cfg.rate,
			DurationSeconds: cfg.duration.Seconds(), Windows: cfg.windows, PadBytes: cfg.pad,
			SubscriberWorkers: cfg.workers,
		},
	}
	var firstErr error
	for _, name := range cfg.servers {
		def, _ := lookupServer(name)
		sr := runFanoutServer(ctx, env, def, cfg)
		if sr.Error != "" && firstErr == nil {
			firstErr = fmt.Errorf("bench: %s: %s", name, sr.Error)
		}
		res.Servers = append(res.Servers, sr)
		if ctx.Err() != nil {
			break
		}
	}
	res.computeRatios()
	return res, firstErr
}

// runFanoutServer measures one server: subscribers join one room, one
// publisher (in its own worker process) publishes to it. It never returns
// with a process of its own still running.
func runFanoutServer(ctx context.Context, env *runEnv, def serverDef, cfg fanoutConfig) (sr fanoutServer) {
	sr = fanoutServer{Name: def.Name, Desc: def.Desc}
	fail := func(err error) fanoutServer {
		sr.Error = err.Error()
		logf("[%s] fanout error: %v", def.Name, err)
		return sr
	}
	srv, err := launch(ctx, env, def)
	if err != nil {
		return fail(err)
	}
	defer srv.stop()

	top := cfg.subs[len(cfg.subs)-1]
	nw := max(cfg.workers, (top+cfg.perWorker-1)/cfg.perWorker)
	nw = min(nw, cfg.subs[0]) // every worker holds at least one subscriber
	var gen atomic.Int64
	relay := make(chan struct{}, 1)
	subs, err := startPool(poolConfig{
		addr: srv.addr, path: def.Path, jwtSecret: def.JWTSecret, workers: nw,
		srcsPer: cfg.srcsPer, srcBase: env.nextSrcBase(), concurrency: cfg.concurrency,
		role: roleSub, sio: true, room: fanoutRoom,
		// 2 KiB: a subscriber that falls behind takes a batch of queued
		// frames per read instead of one.
		readBuf: 2048,
		onComplete: func() {
			select {
			case relay <- struct{}{}:
			default:
			}
		},
	})
	if err != nil {
		return fail(err)
	}
	defer subs.close()
	pub, err := startPool(poolConfig{
		addr: srv.addr, path: def.Path, jwtSecret: def.JWTSecret, workers: 1,
		srcsPer: 1, srcBase: env.nextSrcBase(), concurrency: 1,
		role: rolePub, sio: true,
	})
	if err != nil {
		return fail(err)
	}
	defer pub.close()
	defer srv.stop() // first: the server side takes the TIME_WAIT states
	if err := errors.Join(subs.waitReady(ctx, 10*time.Second), pub.waitReady(ctx, 10*time.Second)); err != nil {
		return fail(err)
	}
	if _, err := ramp(ctx, def.Name+" publisher", srv, pub, 1, 0, cfg.stepTimeout); err != nil {
		return fail(err)
	}

	// The relay tells the publisher how far every subscriber has got.
	relayCtx, stopRelay := context.WithCancel(ctx)
	defer stopRelay()
	go func() {
		var last, lastGen int64
		for {
			select {
			case <-relayCtx.Done():
				return
			case <-relay:
			}
			g := gen.Load()
			if g != lastGen {
				last, lastGen = 0, g
			}
			if c := subs.completed(g); c > last {
				last = c
				if pub.send(fmt.Sprintf("done %d %d", g, c)) != nil {
					return
				}
			}
		}
	}()

	prev := 0
	for _, n := range cfg.subs {
		if _, err := ramp(ctx, def.Name, srv, subs, n, prev, cfg.stepTimeout); err != nil {
			return fail(err)
		}
		prev = n
		for _, mode := range cfg.modes {
			// Paced runs take the deepest window: it only matters if the
			// server falls behind the schedule.
			windows := []int{slices.Max(cfg.windows)}
			if mode == "flat" {
				windows = cfg.windows
			}
			for _, w := range windows {
				ph := runFanoutPhase(ctx, def, cfg, srv, subs, pub, &gen, n, mode, w)
				sr.Phases = append(sr.Phases, ph)
				if ph.Error != "" {
					return fail(fmt.Errorf("%d subscribers, %s, window %d: %s", n, mode, w, ph.Error))
				}
			}
		}
	}
	return sr
}

// runFanoutPhase publishes for cfg.duration and waits until every
// subscriber has every broadcast (or none arrives for 10 s).
func runFanoutPhase(ctx context.Context, def serverDef, cfg fanoutConfig, srv *serverProc, subs, pub *clientPool,
	gen *atomic.Int64, n int, mode string, window int) fanoutPhase {
	ph := fanoutPhase{Subscribers: n, Mode: mode, Window: window}
	// One broadcast every n/rate seconds; the schedule is in µs.
	every := time.Duration(float64(n) / float64(cfg.rate) * float64(time.Second)).Truncate(time.Microsecond)
	if mode == "paced" {
		ph.OfferedPerSec = round(float64(n)/every.Seconds(), 0)
		ph.EveryMs = round(every.Seconds()*1000, 3)
	}
	g := gen.Add(1)
	if err := subs.send(fmt.Sprintf("reset %d", g)); err != nil {
		ph.Error = err.Error()
		return ph
	}
	if err := subs.waitAll(ctx, "reset", 10*time.Second, func(st workerStatus) bool { return st.Gen == g }); err != nil {
		ph.Error = err.Error()
		return ph
	}
	if st := subs.status(); st.Connected != n {
		ph.Error = fmt.Sprintf("%d of %d subscribers connected at the start", st.Connected, n)
		return ph
	}
	pad := strings.Repeat("x", cfg.pad)
	if pad == "" {
		pad = "-"
	}
	tag := fmt.Sprintf("[%s] fanout %d %s w=%d", def.Name, n, mode, window)
	waitQuiet(ctx, def.Name, cfg.quiet)
	logf("%s: publishing for %v", tag, cfg.duration)
	prof := startPerf(cfg.perfDir, perfName(def.Name, fmt.Sprintf("fanout-%d-%s-w%d", n, mode, window)), srv.pid)
	cpu := startCPU(srv, subs.pids(), pub.pids())
	t0 := time.Now()
	if err := pub.send(fmt.Sprintf("pub %d %s %d %d %d %s %s", g, mode, every.Microseconds(),
		cfg.duration.Milliseconds(), window, fanoutRoom, pad)); err != nil {
		ph.Error = err.Error()
		return ph
	}

	// Publishing, then draining: done when every subscriber has every
	// broadcast; lost when nothing has completed for 10 s.
	var sent int64
	pubDone := false
	lastPrint, lastDone, lastProgress := t0, int64(0), t0
	deadline := t0.Add(cfg.duration + cfg.stepTimeout)
	var tEnd time.Time
	for {
		now := time.Now()
		done := subs.completed(g)
		if done != lastDone {
			lastDone, lastProgress = done, now
		}
		if !pubDone {
			if st, _ := pub.workers[0].status(); st.PubGen == g && st.PubDone {
				pubDone, sent = true, st.PubSent
				if st.PubErr != "" {
					ph.Error = "publisher: " + st.PubErr
				}
			}
		}
		if pubDone && done >= sent {
			tEnd = now
			break
		}
		if now.Sub(lastPrint) >= time.Second {
			st, _ := pub.workers[0].status()
			logf("%s: %.0fs, %d broadcasts sent, %d received by all, %d messages received",
				tag, now.Sub(t0).Seconds(), st.PubSent, done, subs.status().Count)
			lastPrint = now
		}
		if pubDone && now.Sub(lastProgress) > 10*time.Second {
			tEnd = lastProgress
			ph.Error = fmt.Sprintf("broadcasts %d..%d never reached every subscriber", done+1, sent)
			break
		}
		if now.After(deadline) {
			tEnd = now
			ph.Error = "run did not finish in time"
			break
		}
		if !srv.alive() {
			ph.Error = "server exited: " + tail(srv.logPath, 1000)
			return ph
		}
		if err := sleepCtx(ctx, time.Millisecond); err != nil {
			ph.Error = err.Error()
			return ph
		}
	}
	use := cpu.stop()
	prof.stop()
	ph.ServerCPUPercent, ph.ClientCPUPercent, ph.OthersCPUPercent = use.Server, use.Clients, use.Others
	ph.ServerRSSKiB, _ = readRSS(srv.pid)

	stats, err := subs.collectStats(ctx, g, 10*time.Second)
	if err != nil {
		ph.Error = err.Error()
		return ph
	}
	var h mergedHist
	for _, s := range stats {
		ph.Delivered += s.Count
		ph.Stray += s.Stray
		h.add(s.Hist)
	}
	elapsed := tEnd.Sub(t0).Seconds()
	ph.Seconds = round(elapsed, 3)
	ph.Broadcasts = sent
	ph.Expected = sent * int64(n)
	ph.Lost = ph.Expected - ph.Delivered
	if elapsed > 0 {
		ph.DeliveriesPerSec = round(float64(ph.Delivered)/elapsed, 0)
		ph.BroadcastsPerSec = round(float64(sent)/elapsed, 1)
	}
	ph.P50Ms, ph.P99Ms, ph.MaxMs = round(h.quantile(0.50), 3), round(h.quantile(0.99), 3), round(h.maxValue(), 3)
	if mode == "paced" {
		planned := int64(cfg.duration / every)
		if sent < planned*95/100 {
			ph.Note = fmt.Sprintf("did not keep pace: %d of %d broadcasts", sent, planned)
		}
	}
	ph.Limit = limitedBy(def, mode == "paced", use)
	if ph.Lost != 0 && ph.Error == "" {
		ph.Error = fmt.Sprintf("%d messages lost", ph.Lost)
	}
	logf("%s: %d broadcasts, %d/%d messages in %.2fs: %.0f msgs/s, p50 %.2f ms, p99 %.2f ms; server CPU %.0f%%, clients %.0f%% (%s)",
		tag, sent, ph.Delivered, ph.Expected, elapsed, ph.DeliveriesPerSec, ph.P50Ms, ph.P99Ms,
		ph.ServerCPUPercent, ph.ClientCPUPercent, ph.Limit)
	return ph
}

// limitedBy names what most likely bounds a throughput figure, from the CPU
// the server (and its backend) and the client processes used over the run,
// in % of one core. The machine has runtime.NumCPU() cores shared by all.
func limitedBy(def serverDef, paced bool, use cpuUse) string {
	capacity := 100 * float64(runtime.NumCPU())
	busy := ""
	if use.Backend > 0 {
		busy = fmt.Sprintf("; the backend took %.0f%%", use.Backend)
	}
	if use.Others >= 10 {
		busy += fmt.Sprintf("; other processes took %.0f%%", use.Others)
	}
	return limitReason(def, paced, use.Server, use.Clients, use.Others+use.Backend, capacity) + busy
}

// limitReason: a single-threaded server at a full core is server-bound;
// otherwise, when the machine is nearly all busy (server, clients and
// everything else together), the side that took more CPU is named.
func limitReason(def serverDef, paced bool, server, clients, others, capacity float64) string {
	saturated := server+clients+others >= 0.85*capacity
	switch {
	case paced:
		return "paced: offered load"
	case def.OneCore && server >= 90:
		return fmt.Sprintf("server: its one JS thread is saturated (%.0f%% of a core)", server)
	case saturated && clients >= server:
		return fmt.Sprintf("clients: CPU saturated, load generator took %.0f%% of %.0f%%", clients, capacity)
	case saturated:
		return fmt.Sprintf("CPU saturated: server %.0f%%, clients %.0f%% of %.0f%%", server, clients, capacity)
	default:
		return fmt.Sprintf("neither CPU-bound (server %.0f%%, clients %.0f%%): window/latency-bound", server, clients)
	}
}
