package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"time"
)

// echoConfig holds the flags of the echo workload.
type echoConfig struct {
	commonConfig
	clients  int
	duration time.Duration
	warmup   time.Duration
	workers  int
}

func (c *echoConfig) register(fs *flag.FlagSet, prefix string) {
	fs.IntVar(&c.clients, prefix+"clients", 1000, "echo: clients, each with one ping-with-ack in flight")
	fs.DurationVar(&c.duration, prefix+"duration", 10*time.Second, "echo: measured time")
	fs.DurationVar(&c.warmup, prefix+"warmup", 2*time.Second, "echo: unmeasured run first (JIT, pools, buffers)")
	fs.IntVar(&c.workers, prefix+"workers", 2, "echo: client worker processes")
}

func (c *echoConfig) check() error {
	if c.clients <= 0 || c.clients > maxServerSessions || c.duration <= 0 || c.warmup < 0 || c.workers <= 0 {
		return errors.New("bench: --clients, --duration and --workers must be positive, --clients within limits")
	}
	return nil
}

func parseEchoFlags(args []string) (echoConfig, error) {
	var cfg echoConfig
	return cfg, parseWorkload("echo", "riptide,node,zishang520", &cfg.commonConfig, &cfg, args)
}

// runEcho is the "echo" subcommand.
func runEcho(args []string) error {
	cfg, err := parseEchoFlags(args)
	if err != nil {
		return err
	}
	return runWorkload(cfg.commonConfig, func(ctx context.Context, env *runEnv) (*echoResults, error) {
		return echoWorkload(ctx, env, cfg)
	})
}

func echoWorkload(ctx context.Context, env *runEnv, cfg echoConfig) (*echoResults, error) {
	res := &echoResults{
		Workload: "echo",
		Date:     time.Now().UTC().Format(time.RFC3339),
		Command:  commandLine(),
		Machine:  machineInfo(),
		Settings: echoSettings{
			Clients: cfg.clients, DurationSeconds: cfg.duration.Seconds(),
			WarmupSeconds: cfg.warmup.Seconds(), Workers: cfg.workers,
		},
	}
	var firstErr error
	for _, name := range cfg.servers {
		def, _ := lookupServer(name)
		sr := runEchoServer(ctx, env, def, cfg)
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

// runEchoServer measures one server: every client emits "ping" with an ack
// and sends the next one when the ack arrives.
func runEchoServer(ctx context.Context, env *runEnv, def serverDef, cfg echoConfig) (sr echoServer) {
	sr = echoServer{Name: def.Name, Desc: def.Desc, Clients: cfg.clients}
	fail := func(err error) echoServer {
		sr.Error = err.Error()
		logf("[%s] echo error: %v", def.Name, err)
		return sr
	}
	srv, err := launch(ctx, env, def)
	if err != nil {
		return fail(err)
	}
	defer srv.stop()
	pool, err := startPool(poolConfig{
		addr: srv.addr, path: def.Path, jwtSecret: def.JWTSecret,
		workers: min(max(cfg.workers, (cfg.clients+cfg.perWorker-1)/cfg.perWorker), cfg.clients),
		srcsPer: cfg.srcsPer, srcBase: env.nextSrcBase(), concurrency: cfg.concurrency,
		role: roleEcho, sio: true,
	})
	if err != nil {
		return fail(err)
	}
	defer pool.close()
	defer srv.stop()
	if err := pool.waitReady(ctx, 10*time.Second); err != nil {
		return fail(err)
	}
	if _, err := ramp(ctx, def.Name, srv, pool, cfg.clients, 0, cfg.stepTimeout); err != nil {
		return fail(err)
	}
	if cfg.warmup > 0 {
		logf("[%s] echo warm-up %v", def.Name, cfg.warmup)
		if _, err := echoRun(ctx, def, srv, pool, 1, cfg.warmup, cfg.stepTimeout); err != nil {
			return fail(err)
		}
	}
	waitQuiet(ctx, def.Name, cfg.quiet)
	var backend0 int64
	if srv.backend != nil {
		if backend0, err = srv.backend.backendRequests(); err != nil {
			return fail(fmt.Errorf("asking the backend: %w", err))
		}
	}
	prof := startPerf(cfg.perfDir, perfName(def.Name, "echo"), srv.pid)
	cpu := startCPU(srv, pool.pids())
	elapsed, err := echoRun(ctx, def, srv, pool, 2, cfg.duration, cfg.stepTimeout)
	use := cpu.stop()
	prof.stop()
	if err != nil {
		return fail(err)
	}
	sr.ServerCPUPercent, sr.ClientCPUPercent, sr.OthersCPUPercent = use.Server, use.Clients, use.Others
	sr.BackendCPUPercent = use.Backend
	if srv.backend != nil {
		n, err := srv.backend.backendRequests()
		if err != nil {
			return fail(fmt.Errorf("asking the backend: %w", err))
		}
		sr.BackendRequests = n - backend0
	}
	stats, err := pool.collectStats(ctx, 2, 10*time.Second)
	if err != nil {
		return fail(err)
	}
	var h mergedHist
	for _, s := range stats {
		sr.RoundTrips += s.Count
		sr.Broken += s.Broken
		sr.WrongAcks += s.Wrong
		h.add(s.Hist)
	}
	sr.Seconds = round(elapsed.Seconds(), 3)
	sr.PerSec = round(float64(sr.RoundTrips)/elapsed.Seconds(), 0)
	sr.P50Ms, sr.P99Ms, sr.MaxMs = round(h.quantile(0.50), 3), round(h.quantile(0.99), 3), round(h.maxValue(), 3)
	sr.Limit = limitedBy(def, false, use)
	switch {
	case sr.Broken != 0:
		sr.Error = fmt.Sprintf("%d clients lost their session during the run", sr.Broken)
	case sr.WrongAcks != 0:
		sr.Error = fmt.Sprintf("%d acks were not the echo of their ping", sr.WrongAcks)
	case srv.backend != nil && sr.BackendRequests != sr.RoundTrips:
		sr.Error = fmt.Sprintf("the backend answered %d events for %d round trips", sr.BackendRequests, sr.RoundTrips)
	}
	logf("[%s] echo: %d round trips in %.2fs: %.0f/s, p50 %.2f ms, p99 %.2f ms; server CPU %.0f%%, backend %.0f%%, clients %.0f%% (%s)",
		def.Name, sr.RoundTrips, elapsed.Seconds(), sr.PerSec, sr.P50Ms, sr.P99Ms, sr.ServerCPUPercent, sr.BackendCPUPercent, sr.ClientCPUPercent, sr.Limit)
	return sr
}

// echoRun runs one echo run and returns its length: from the command to the
// last answer on every worker.
func echoRun(ctx context.Context, def serverDef, srv *serverProc, pool *clientPool, gen int64, d, timeout time.Duration) (time.Duration, error) {
	if err := pool.send(fmt.Sprintf("reset %d", gen)); err != nil {
		return 0, err
	}
	if err := pool.waitAll(ctx, "reset", 10*time.Second, func(st workerStatus) bool { return st.Gen == gen }); err != nil {
		return 0, err
	}
	t0 := time.Now()
	if err := pool.send(fmt.Sprintf("echo %d %d", gen, d.Milliseconds())); err != nil {
		return 0, err
	}
	deadline := t0.Add(d + timeout)
	lastPrint, lastCount := t0, int64(0)
	for {
		allDone := true
		for _, wp := range pool.workers {
			if st, _ := wp.status(); st.EchoGen != gen {
				allDone = false
			}
		}
		now := time.Now()
		if allDone {
			return now.Sub(t0), nil
		}
		if now.Sub(lastPrint) >= time.Second {
			c := pool.status().Count
			logf("[%s] echo: %.0fs, %d round trips (%.0f/s)", def.Name, now.Sub(t0).Seconds(), c,
				float64(c-lastCount)/now.Sub(lastPrint).Seconds())
			lastPrint, lastCount = now, c
		}
		if now.After(deadline) {
			return 0, fmt.Errorf("echo run %d did not finish within %v", gen, d+timeout)
		}
		if !srv.alive() {
			return 0, errors.New("server exited: " + tail(srv.logPath, 1000))
		}
		if err := pool.anyDead(); err != nil {
			return 0, err
		}
		if err := sleepCtx(ctx, time.Millisecond); err != nil {
			return 0, err
		}
	}
}
