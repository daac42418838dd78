package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// idleConfig holds the flags of the idle workload.
type idleConfig struct {
	commonConfig
	ns        []int
	level     string // "sio": Socket.IO clients in a room; "eio": bare Engine.IO sessions
	rooms     string // "own" or "shared"
	settle    time.Duration
	samples   int
	sampleGap time.Duration
	cpuWindow time.Duration
	nsFlag    string
}

// maxServerSessions keeps the server below its own 20,000 open-files hard
// limit, with room for the listener, logs and runtime descriptors.
const maxServerSessions = 19500

// register adds the idle flags to fs; with prefix "idle-" for "all", where
// several workloads share one flag set.
func (c *idleConfig) register(fs *flag.FlagSet, prefix string) {
	fs.StringVar(&c.nsFlag, prefix+"n", "1000,5000,10000,19000", "idle: comma-separated session counts, ascending")
	fs.StringVar(&c.level, prefix+"level", "sio", `idle: "sio" (Socket.IO clients: CONNECT to / and join a room) or "eio" (bare Engine.IO sessions)`)
	fs.StringVar(&c.rooms, prefix+"rooms", "own", `idle: "own" (each client joins a room of its own) or "shared" (all join one room)`)
	fs.DurationVar(&c.settle, prefix+"settle", 3*time.Second, "idle: wait after each ramp step before reading RSS")
	fs.IntVar(&c.samples, prefix+"samples", 5, "idle: RSS samples per step (the median is reported)")
	fs.DurationVar(&c.sampleGap, prefix+"sample-gap", 500*time.Millisecond, "idle: time between RSS samples")
	// 25 s is one default pingInterval: every session is pinged exactly once
	// in the window whatever the ramp timing, so servers compare fairly; a
	// 10 s window would catch a share of the pings that depends on how fast
	// each server ramped.
	fs.DurationVar(&c.cpuWindow, prefix+"cpu-window", 25*time.Second, "idle: CPU window at the top N (one ping interval)")
}

func (c *idleConfig) check() error {
	c.ns = nil
	for s := range strings.SplitSeq(c.nsFlag, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n <= 0 {
			return fmt.Errorf("bench: bad session count %q", s)
		}
		c.ns = append(c.ns, n)
	}
	if !slices.IsSorted(c.ns) {
		return errors.New("bench: --n must be ascending")
	}
	if top := c.ns[len(c.ns)-1]; top > maxServerSessions {
		return fmt.Errorf("bench: %d sessions exceed what one server process may hold here (%d)", top, maxServerSessions)
	}
	if c.samples <= 0 {
		return errors.New("bench: --samples must be positive")
	}
	if c.level != "sio" && c.level != "eio" {
		return fmt.Errorf("bench: --level %q: want sio or eio", c.level)
	}
	if c.rooms != "own" && c.rooms != "shared" {
		return fmt.Errorf("bench: --rooms %q: want own or shared", c.rooms)
	}
	return nil
}

func parseIdleFlags(args []string) (idleConfig, error) {
	var cfg idleConfig
	return cfg, parseWorkload("idle", "riptide,node", &cfg.commonConfig, &cfg, args)
}

// runIdle is the "idle" subcommand.
func runIdle(args []string) error {
	cfg, err := parseIdleFlags(args)
	if err != nil {
		return err
	}
	return runWorkload(cfg.commonConfig, func(ctx context.Context, env *runEnv) (*idleResults, error) {
		return idleWorkload(ctx, env, cfg)
	})
}

// idleWorkload measures every server in turn.
func idleWorkload(ctx context.Context, env *runEnv, cfg idleConfig) (*idleResults, error) {
	res := &idleResults{
		Workload: "idle",
		Date:     time.Now().UTC().Format(time.RFC3339),
		Command:  commandLine(),
		Machine:  machineInfo(),
		Settings: idleSettings{
			N: cfg.ns, Level: cfg.level, Rooms: cfg.rooms, SettleSeconds: cfg.settle.Seconds(), Samples: cfg.samples,
			CPUWindowSeconds: cfg.cpuWindow.Seconds(), PerWorker: cfg.perWorker,
		},
	}
	var firstErr error
	for _, name := range cfg.servers {
		def, _ := lookupServer(name)
		sr := runIdleServer(ctx, env, def, cfg)
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

// runIdleServer measures one server. It never returns with a process of its
// own still running.
func runIdleServer(ctx context.Context, env *runEnv, def serverDef, cfg idleConfig) (sr serverResult) {
	sr = serverResult{Name: def.Name, Desc: def.Desc}
	fail := func(err error) serverResult {
		sr.Error = err.Error()
		logf("[%s] error: %v", def.Name, err)
		return sr
	}
	waitQuiet(ctx, def.Name, cfg.quiet)
	srv, err := launch(ctx, env, def)
	if err != nil {
		return fail(err)
	}
	defer srv.stop()

	// Baseline: the server's RSS with no session, after the same settle time.
	if err := sleepCtx(ctx, cfg.settle); err != nil {
		return fail(err)
	}
	if sr.BaselineRSSKiB, _, err = sampleRSS(ctx, srv.pid, cfg.samples, cfg.sampleGap); err != nil {
		return fail(err)
	}
	logf("[%s] baseline RSS %s", def.Name, fmtKiB(float64(sr.BaselineRSSKiB)))

	kBefore := readKernel()
	top := cfg.ns[len(cfg.ns)-1]
	room := ""
	if cfg.level == "sio" && cfg.rooms == "shared" {
		room = "idle"
	}
	pool, err := startPool(poolConfig{
		addr: srv.addr, path: def.Path, jwtSecret: def.JWTSecret,
		workers:     (top + cfg.perWorker - 1) / cfg.perWorker,
		srcsPer:     cfg.srcsPer,
		srcBase:     env.nextSrcBase(), // fresh source addresses per pool
		concurrency: cfg.concurrency,
		role:        roleIdle,
		sio:         cfg.level == "sio",
		room:        room,
		ownRooms:    cfg.level == "sio" && cfg.rooms == "own",
	})
	if err != nil {
		return fail(err)
	}
	// Kill the server first: its side of each connection then takes the
	// TIME_WAIT state, not the clients' source ports.
	defer pool.close()
	defer srv.stop()
	if err := pool.waitReady(ctx, 10*time.Second); err != nil {
		return fail(err)
	}
	if nf := pool.status().MinNoFile; nf < uint64(cfg.perWorker)+100 {
		return fail(fmt.Errorf("bench: workers may open %d files, need %d", nf, cfg.perWorker+100))
	}

	var rampSeconds float64
	prev := 0
	for _, n := range cfg.ns {
		elapsed, err := ramp(ctx, def.Name, srv, pool, n, prev, cfg.stepTimeout)
		if err != nil {
			return fail(err)
		}
		rampSeconds += elapsed.Seconds()
		pt := idlePoint{N: n, RampSeconds: round(elapsed.Seconds(), 3)}
		if elapsed > 0 {
			pt.ConnectsPerSec = round(float64(n-prev)/elapsed.Seconds(), 0)
		}
		if err := sleepCtx(ctx, cfg.settle); err != nil {
			return fail(err)
		}
		pt.RSSKiB, pt.RSSSamplesKiB, err = sampleRSS(ctx, srv.pid, cfg.samples, cfg.sampleGap)
		if err != nil {
			return fail(err)
		}
		pt.Sessions = pool.status().Connected
		sr.Points = append(sr.Points, pt)
		logf("[%s] N=%d sessions=%d RSS %s (%.0f connects/s)", def.Name, n, pt.Sessions, fmtKiB(float64(pt.RSSKiB)), pt.ConnectsPerSec)
		prev = n
	}
	if rampSeconds > 0 {
		sr.ConnectsPerSec = round(float64(top)/rampSeconds, 0)
	}
	sr.Kernel = newKernelCost(kBefore, readKernel(), pool.status().Connected)
	logf("[%s] kernel, per socket: %.2f KiB in the socket slab caches, %.2f KiB of Slab, %.2f KiB of TCP buffers",
		def.Name, sr.Kernel.CachesKiBPerSocket, sr.Kernel.SlabKiBPerSocket, sr.Kernel.TCPMemKiBPerSocket)

	// Idle CPU at the top N: the clients only answer pings now.
	waitQuiet(ctx, def.Name, cfg.quiet)
	logf("[%s] idle CPU window %v at N=%d", def.Name, cfg.cpuWindow, top)
	s0, err := readCPU(srv.pid)
	if err != nil {
		return fail(err)
	}
	prof := startPerf(cfg.perfDir, perfName(def.Name, "idle"), srv.pid)
	m0, _ := machineBusy()
	c0, t0 := pool.cpu(), time.Now()
	err = sleepCtx(ctx, cfg.cpuWindow)
	s1, err2 := readCPU(srv.pid)
	c1 := pool.cpu()
	m1, _ := machineBusy()
	wall := time.Since(t0).Seconds()
	prof.stop()
	if err := errors.Join(err, err2); err != nil {
		return fail(err)
	}
	sr.IdleCPUPercent = round(100*(s1-s0)/wall, 2)
	sr.ClientCPUPercent = round(100*(c1-c0)/wall, 2)
	sr.OthersCPUPercent = round(max(0, 100*(m1-m0)/wall-sr.IdleCPUPercent-sr.ClientCPUPercent), 2)

	st := pool.status()
	sr.Failed, sr.Lost, sr.Pongs = st.Failed, st.Lost, st.Pongs
	ends, lsq := slopes(sr.Points)
	sr.SlopeEndsKiB, sr.SlopeLSQKiB = round(ends, 3), round(lsq, 3)
	sr.Projection = project(&sr, 1_000_000)
	logf("[%s] %.2f KiB/session (ends), %.2f KiB/session (least squares), idle CPU %.2f%%, clients %.2f%%, lost %d, failed %d",
		def.Name, sr.SlopeEndsKiB, sr.SlopeLSQKiB, sr.IdleCPUPercent, sr.ClientCPUPercent, sr.Lost, sr.Failed)
	if st.Lost > 0 {
		sr.Error = fmt.Sprintf("%d sessions lost during the run (last error: %s)", st.Lost, st.Err)
	}
	return sr
}

// ramp raises the pool to n sessions, printing progress every second, and
// returns the time it took.
func ramp(ctx context.Context, name string, srv *serverProc, pool *clientPool, n, prev int, timeout time.Duration) (time.Duration, error) {
	start := time.Now()
	if err := pool.setTarget(n); err != nil {
		return 0, err
	}
	deadline := start.Add(timeout)
	lastPrint, lastCount := start, prev
	for {
		st := pool.status()
		if st.AllDone {
			elapsed := time.Since(start)
			if st.Connected < n {
				return elapsed, fmt.Errorf("reached %d of %d sessions (failed %d, lost %d; last error: %s)", st.Connected, n, st.Failed, st.Lost, st.Err)
			}
			logf("[%s] ramp to %d done in %.1fs", name, n, elapsed.Seconds())
			return elapsed, nil
		}
		if now := time.Now(); now.Sub(lastPrint) >= time.Second {
			rate := float64(st.Connected-lastCount) / now.Sub(lastPrint).Seconds()
			logf("[%s] ramp to %d: %d connected (%.0f/s), %d in flight, %d failed, %d lost", name, n, st.Connected, rate, st.InFlight, st.Failed, st.Lost)
			lastPrint, lastCount = now, st.Connected
		}
		if !srv.alive() {
			return 0, fmt.Errorf("server exited during the ramp; log %s:\n%s", srv.logPath, tail(srv.logPath, 2000))
		}
		if err := pool.anyDead(); err != nil {
			return 0, err
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("ramp to %d timed out after %v at %d sessions (last error: %s)", n, timeout, st.Connected, st.Err)
		}
		if err := sleepCtx(ctx, 10*time.Millisecond); err != nil {
			return 0, err
		}
	}
}

// sampleRSS takes k samples of VmRSS, gap apart, and returns their median.
func sampleRSS(ctx context.Context, pid, k int, gap time.Duration) (int64, []int64, error) {
	samples := make([]int64, 0, k)
	for i := range k {
		if i > 0 {
			if err := sleepCtx(ctx, gap); err != nil {
				return 0, nil, err
			}
		}
		v, err := readRSS(pid)
		if err != nil {
			return 0, nil, err
		}
		samples = append(samples, v)
	}
	return median(samples), samples, nil
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// moduleRoot walks up from the working directory to the directory holding
// go.mod, so the bench runs from anywhere inside the repository.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for range 64 {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	return "", errors.New("bench: run inside the riptide module (no go.mod found)")
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, time.Now().Format("15:04:05 ")+format+"\n", args...)
}
