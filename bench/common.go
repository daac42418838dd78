package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// commonConfig holds the flags every workload takes.
type commonConfig struct {
	servers     []string
	serversFlag string
	out         string
	md          bool
	timeout     time.Duration
	stepTimeout time.Duration
	perWorker   int
	srcsPer     int
	concurrency int
	quiet       time.Duration
	perfDir     string
}

func (c *commonConfig) register(fs *flag.FlagSet, defServers string) {
	fs.StringVar(&c.serversFlag, "servers", defServers, "comma-separated servers: "+strings.Join(serverNames(), ", "))
	fs.StringVar(&c.out, "out", "", "write JSON results to this file")
	fs.BoolVar(&c.md, "md", false, "print markdown tables on stdout instead of JSON")
	fs.DurationVar(&c.timeout, "timeout", 10*time.Minute, "hard limit for the whole run")
	fs.DurationVar(&c.stepTimeout, "step-timeout", 2*time.Minute, "limit for one ramp step or one measured run")
	fs.IntVar(&c.perWorker, "per-worker", 9000, "at most this many sessions per client worker process")
	fs.IntVar(&c.srcsPer, "srcs", 4, "127.x.y.z source addresses per worker")
	fs.IntVar(&c.concurrency, "concurrency", 32, "dials in flight per worker")
	fs.StringVar(&c.perfDir, "perf-dir", "", "record a perf profile of the server during each measured run into this directory")
	fs.DurationVar(&c.quiet, "quiet-wait", 2*time.Minute, "before each measurement, wait at most this long for other processes to go quiet (0: do not wait)")
}

func (c *commonConfig) check() error {
	c.servers = nil
	for s := range strings.SplitSeq(c.serversFlag, ",") {
		s = strings.TrimSpace(s)
		if _, ok := lookupServer(s); !ok {
			return fmt.Errorf("bench: unknown server %q (known: %s)", s, strings.Join(serverNames(), ", "))
		}
		c.servers = append(c.servers, s)
	}
	if c.perWorker <= 0 || c.perWorker > 19000 || c.srcsPer <= 0 || c.srcsPer > 250 || c.concurrency <= 0 {
		return errors.New("bench: --per-worker, --srcs and --concurrency must be positive and within limits")
	}
	return nil
}

// withRun gives f a context bounded by timeout and cancelled by SIGINT or
// SIGTERM, and a scratch directory removed afterwards.
func withRun(timeout time.Duration, f func(context.Context, *runEnv) error) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "riptide-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	return f(ctx, &runEnv{root: root, tmp: tmp})
}

// results is what every workload's result document can do.
type results interface {
	encodeJSON(io.Writer) error
}

// workloadConfig is a workload's own flags.
type workloadConfig interface {
	register(fs *flag.FlagSet, prefix string)
	check() error
}

// parseWorkload parses the flags of subcommand name into common and own.
func parseWorkload(name, defServers string, common *commonConfig, own workloadConfig, args []string) error {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	common.register(fs, defServers)
	own.register(fs, "")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return fmt.Errorf("bench: unexpected arguments %q", fs.Args())
	}
	return errors.Join(common.check(), own.check())
}

// workloadResult is what a workload returns: JSON, and a markdown rendering.
type workloadResult interface {
	results
	markdown() string
}

// runWorkload runs one workload under the run's timeout and writes its results, also when
// it failed part way (what was measured is still worth keeping).
func runWorkload[R workloadResult](common commonConfig, work func(context.Context, *runEnv) (R, error)) error {
	return withRun(common.timeout, func(ctx context.Context, env *runEnv) error {
		res, err := work(ctx, env)
		if werr := emit(common, res, res.markdown); werr != nil {
			return werr
		}
		return err
	})
}

// emit writes res to cfg.out (if set) and prints either the markdown or the
// JSON on stdout.
func emit(cfg commonConfig, res results, markdown func() string) error {
	if cfg.out != "" {
		if err := writeJSONFile(cfg.out, res); err != nil {
			return err
		}
		logf("wrote %s", cfg.out)
	}
	if cfg.md {
		fmt.Print(markdown())
		return nil
	}
	return res.encodeJSON(os.Stdout)
}

func commandLine() string {
	return "go run ./bench " + strings.Join(os.Args[1:], " ")
}

// prepare returns the argv of the server called name, running prep once
// per run (builds are cached in env).
func (e *runEnv) prepare(ctx context.Context, name string, prep func(context.Context, *runEnv) (func(int) []string, error)) (func(int) []string, error) {
	e.mu.Lock()
	argv, ok := e.prepared[name]
	e.mu.Unlock()
	if ok {
		return argv, nil
	}
	logf("[%s] preparing", name)
	argv, err := prep(ctx, e)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	if e.prepared == nil {
		e.prepared = map[string]func(int) []string{}
	}
	e.prepared[name] = argv
	e.mu.Unlock()
	return argv, nil
}

// launch prepares def and starts it on a free port, after its backend when
// it has one (serverDef.Backend).
func launch(ctx context.Context, env *runEnv, def serverDef) (*serverProc, error) {
	argv, err := env.prepare(ctx, def.Name, def.Prepare)
	if err != nil {
		return nil, err
	}
	var backend *serverProc
	backendURL := ""
	if def.Backend {
		bargv, err := env.prepare(ctx, backendName, prepareBackend)
		if err != nil {
			return nil, err
		}
		if backend, err = start(ctx, env, def.Name+"-"+backendName, bargv, ""); err != nil {
			return nil, err
		}
		backendURL = backend.backendURL()
		logf("[%s] backend pid %d on %s", def.Name, backend.pid, backendURL)
	}
	srv, err := start(ctx, env, def.Name, argv, backendURL)
	if err != nil {
		if backend != nil {
			backend.stop()
		}
		return nil, err
	}
	srv.backend = backend
	logf("[%s] pid %d listening on %s", def.Name, srv.pid, srv.addr)
	return srv, nil
}

// start starts a prepared server called name on a free port; "%u" in its
// arguments becomes backendURL.
func start(ctx context.Context, env *runEnv, name string, argv func(int) []string, backendURL string) (*serverProc, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	args := argv(port)
	for i := range args {
		args[i] = strings.ReplaceAll(args[i], "%u", backendURL)
	}
	return startServer(ctx, env, name, args, port, 30*time.Second)
}

// cpuMeter reads the CPU time of the server, of its backend (if it has
// one), of the client workers and of the whole machine over a window.
type cpuMeter struct {
	server, backend int // backend: 0 without one
	clients         []int
	s0, b0, c0, m0  float64
	t0              time.Time
}

func startCPU(srv *serverProc, clients ...[]int) *cpuMeter {
	m := &cpuMeter{server: srv.pid}
	for _, c := range clients {
		m.clients = append(m.clients, c...)
	}
	if srv.backend != nil {
		m.backend = srv.backend.pid
		m.b0, _ = readCPU(m.backend)
	}
	m.s0, _ = readCPU(m.server)
	m.c0 = sumCPU(m.clients)
	m.m0, _ = machineBusy()
	m.t0 = time.Now()
	return m
}

// cpuUse is a window's CPU, in % of one core.
type cpuUse struct {
	Server, Backend, Clients float64
	// Others is what the rest of the machine used (the bench's parent,
	// other processes, kernel threads): a busy neighbour shows here.
	Others float64
}

// stop returns the CPU used since start.
func (m *cpuMeter) stop() cpuUse {
	wall := time.Since(m.t0).Seconds()
	s1, _ := readCPU(m.server)
	var b1 float64
	if m.backend != 0 {
		b1, _ = readCPU(m.backend)
	}
	c1 := sumCPU(m.clients)
	m1, _ := machineBusy()
	if wall <= 0 {
		return cpuUse{}
	}
	pct := func(sec float64) float64 { return round(100*sec/wall, 1) }
	u := cpuUse{Server: pct(s1 - m.s0), Backend: pct(b1 - m.b0), Clients: pct(c1 - m.c0)}
	u.Others = round(max(0, 100*(m1-m.m0)/wall-u.Server-u.Backend-u.Clients), 1)
	return u
}

// machineBusy returns the seconds all CPUs have spent busy since boot, from
// /proc/stat (everything but idle and iowait).
func machineBusy() (float64, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, err
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line) // cpu user nice system idle iowait irq softirq steal ...
	if len(f) < 9 || f[0] != "cpu" {
		return 0, errors.New("bench: unexpected /proc/stat")
	}
	var busy int64
	for i, v := range f[1:9] {
		if i == 3 || i == 4 { // idle, iowait
			continue
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, err
		}
		busy += n
	}
	return float64(busy) / clockTicks, nil
}

// waitQuiet waits, at most maxWait, until the rest of the machine has been
// quiet for a second (below 15% of one core busy), so that a neighbour's
// build does not land in a measurement. It returns the last busy reading
// and whether the machine was quiet.
func waitQuiet(ctx context.Context, name string, maxWait time.Duration) (float64, bool) {
	if maxWait <= 0 {
		return 0, true
	}
	deadline := time.Now().Add(maxWait)
	for {
		b0, err := machineBusy()
		if err != nil {
			return 0, true
		}
		if sleepCtx(ctx, time.Second) != nil {
			return 0, false
		}
		b1, _ := machineBusy()
		pct := round(100*(b1-b0), 1)
		if pct < 15 {
			return pct, true
		}
		if time.Now().After(deadline) {
			logf("[%s] machine still busy (%.0f%% of a core used by others); measuring anyway", name, pct)
			return pct, false
		}
		logf("[%s] machine busy (%.0f%% of a core used by others), waiting", name, pct)
	}
}

func sumCPU(pids []int) float64 {
	var sum float64
	for _, p := range pids {
		if c, err := readCPU(p); err == nil {
			sum += c
		}
	}
	return sum
}
