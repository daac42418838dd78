package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// The cluster workload: two nodes of one server on one throwaway Redis,
// subscribers split evenly between them in one room, one publisher on node
// 1. Every broadcast is delivered locally by node 1 and, through Redis
// pub/sub, by node 2: the figures are split by node, so the cross-node cost
// shows apart from the local fan-out. The clusters run one at a time, each
// on a fresh Redis.

// clusterConfig holds the flags of the cluster workload.
type clusterConfig struct {
	commonConfig
	n         int
	modes     []string
	modesFlag string
	rate      int
	duration  time.Duration
	windows   []int
	winFlag   string
	pad       int
	workers   int
	redisBin  string
}

// clusterPrepare returns, per server, the argv of one cluster node on
// 127.0.0.1:port joined to the Redis at url. Only servers with a Redis
// adapter that speaks @socket.io/redis-adapter's format are listed.
var clusterPrepare = map[string]func(ctx context.Context, env *runEnv) (func(port int, url string) []string, error){
	"riptide": func(ctx context.Context, env *runEnv) (func(int, string) []string, error) {
		argv, err := prepareGoBinary("riptide-cluster", "", "./cmd/riptide", "--addr", "127.0.0.1:%d")(ctx, env)
		if err != nil {
			return nil, err
		}
		return func(port int, url string) []string { return append(argv(port), "--redis", url) }, nil
	},
	"node": func(ctx context.Context, env *runEnv) (func(int, string) []string, error) {
		argv, err := prepareNodeScript("bench/servers/node-sio-redis.js")(ctx, env)
		if err != nil {
			return nil, err
		}
		return func(port int, url string) []string { return append(argv(port), "--redis", url) }, nil
	},
}

// clusterDesc describes a cluster node, per server.
var clusterDesc = map[string]string{
	"riptide": "riptide (./cmd/riptide --redis, default options)",
	"node":    "Node socket.io 4.8 + @socket.io/redis-adapter 8.3 (bench/servers/node-sio-redis.js, default options)",
}

func (c *clusterConfig) register(fs *flag.FlagSet, prefix string) {
	fs.IntVar(&c.n, prefix+"n", 2000, "cluster: subscribers, split evenly between the two nodes")
	fs.StringVar(&c.modesFlag, prefix+"modes", "paced,flat", "cluster: paced (--paced-rate) and/or flat (as fast as the window allows)")
	fs.IntVar(&c.rate, prefix+"paced-rate", 20000, "cluster: paced mode, deliveries per second over both nodes")
	fs.DurationVar(&c.duration, prefix+"duration", 10*time.Second, "cluster: publishing time per measured run")
	fs.StringVar(&c.winFlag, prefix+"window", "2,16", "cluster: flat runs, one per window: broadcasts published but not yet received by every subscriber, at most")
	fs.IntVar(&c.pad, prefix+"pad", 32, "cluster: bytes of padding string per message")
	fs.IntVar(&c.workers, prefix+"workers", 1, "cluster: subscriber worker processes per node")
	fs.StringVar(&c.redisBin, prefix+"redis-server", "redis-server", "cluster: the redis-server binary")
}

func (c *clusterConfig) check() error {
	for _, s := range c.servers {
		if clusterPrepare[s] == nil {
			return fmt.Errorf("bench: %s has no cluster mode here (cluster servers: riptide, node)", s)
		}
	}
	fc := fanoutConfig{modesFlag: c.modesFlag, winFlag: c.winFlag, subsFlag: "1",
		rate: c.rate, duration: c.duration, workers: c.workers, pad: c.pad}
	if err := fc.check(); err != nil {
		return err
	}
	c.modes, c.windows = fc.modes, fc.windows
	if c.n < 2 || c.n > 2*(maxServerSessions-10) || c.workers > c.n/2 {
		return errors.New("bench: --n must be at least 2 (and at least 2 x --workers) and within the servers' limits")
	}
	return nil
}

func parseClusterFlags(args []string) (clusterConfig, error) {
	var cfg clusterConfig
	return cfg, parseWorkload("cluster", "riptide,node", &cfg.commonConfig, &cfg, args)
}

// runCluster is the "cluster" subcommand.
func runCluster(args []string) error {
	cfg, err := parseClusterFlags(args)
	if err != nil {
		return err
	}
	return runWorkload(cfg.commonConfig, func(ctx context.Context, env *runEnv) (*clusterResults, error) {
		return clusterWorkload(ctx, env, cfg)
	})
}

func clusterWorkload(ctx context.Context, env *runEnv, cfg clusterConfig) (*clusterResults, error) {
	res := &clusterResults{
		Workload: "cluster",
		Date:     time.Now().UTC().Format(time.RFC3339),
		Command:  commandLine(),
		Machine:  machineInfo(),
		Settings: clusterSettings{
			Subscribers: cfg.n, Nodes: 2, Modes: cfg.modes, PacedRate: cfg.rate,
			DurationSeconds: cfg.duration.Seconds(), Windows: cfg.windows, PadBytes: cfg.pad,
			WorkersPerNode: cfg.workers,
		},
	}
	if out, err := exec.Command(cfg.redisBin, "--version").Output(); err == nil {
		res.Settings.Redis = strings.TrimSpace(string(out))
	}
	var firstErr error
	for _, name := range cfg.servers {
		sr := runClusterServer(ctx, env, name, cfg)
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

// startRedis starts a throwaway redis-server on a free loopback port, with
// no persistence, its working directory in the scratch directory.
func startRedis(ctx context.Context, env *runEnv, bin, name string) (*serverProc, string, error) {
	path, err := exec.LookPath(bin)
	if err != nil {
		return nil, "", fmt.Errorf("bench: %s not found (apt-get install -y redis-server): %w", bin, err)
	}
	port, err := freePort()
	if err != nil {
		return nil, "", err
	}
	argv := []string{path, "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", env.tmp, "--daemonize", "no", "--loglevel", "warning"}
	p, err := startServer(ctx, env, name, argv, port, 10*time.Second)
	if err != nil {
		return nil, "", err
	}
	url := "redis://" + p.addr
	logf("[%s] pid %d listening on %s", name, p.pid, p.addr)
	return p, url, nil
}

// runClusterServer measures one cluster: a Redis, two nodes, subscribers
// on both, the publisher on node 1. It never returns with a process of its
// own still running.
func runClusterServer(ctx context.Context, env *runEnv, name string, cfg clusterConfig) (sr clusterServer) {
	sr = clusterServer{Name: name, Desc: clusterDesc[name]}
	fail := func(err error) clusterServer {
		sr.Error = err.Error()
		logf("[%s] cluster error: %v", name, err)
		return sr
	}
	logf("[%s] preparing cluster node", name)
	argv, err := clusterPrepare[name](ctx, env)
	if err != nil {
		return fail(err)
	}
	rds, url, err := startRedis(ctx, env, cfg.redisBin, name+"-redis")
	if err != nil {
		return fail(err)
	}
	defer rds.stop()
	var nodes [2]*serverProc
	for i := range nodes {
		port, err := freePort()
		if err != nil {
			return fail(err)
		}
		p, err := startServer(ctx, env, fmt.Sprintf("%s-node%d", name, i+1), argv(port, url), port, 30*time.Second)
		if err != nil {
			return fail(err)
		}
		defer p.stop()
		logf("[%s] node %d pid %d listening on %s", name, i+1, p.pid, p.addr)
		nodes[i] = p
	}

	var gen atomic.Int64
	relay := make(chan struct{}, 1)
	poke := func() {
		select {
		case relay <- struct{}{}:
		default:
		}
	}
	var subs [2]*clientPool
	for i := range subs {
		p, err := startPool(poolConfig{
			addr: nodes[i].addr, path: "/socket.io/", workers: cfg.workers,
			srcsPer: cfg.srcsPer, srcBase: env.nextSrcBase(), concurrency: cfg.concurrency,
			role: roleSub, sio: true, room: fanoutRoom, readBuf: 2048, onComplete: poke,
		})
		if err != nil {
			return fail(err)
		}
		defer p.close()
		subs[i] = p
	}
	pub, err := startPool(poolConfig{
		addr: nodes[0].addr, path: "/socket.io/", workers: 1,
		srcsPer: 1, srcBase: env.nextSrcBase(), concurrency: 1,
		role: rolePub, sio: true,
	})
	if err != nil {
		return fail(err)
	}
	defer pub.close()
	// Deferred last, so run first: the servers take the TIME_WAIT states.
	defer func() {
		for _, p := range nodes {
			p.stop()
		}
	}()
	if err := errors.Join(subs[0].waitReady(ctx, 10*time.Second), subs[1].waitReady(ctx, 10*time.Second),
		pub.waitReady(ctx, 10*time.Second)); err != nil {
		return fail(err)
	}
	if _, err := ramp(ctx, name+" publisher", nodes[0], pub, 1, 0, cfg.stepTimeout); err != nil {
		return fail(err)
	}
	half := [2]int{cfg.n - cfg.n/2, cfg.n / 2}
	for i := range subs {
		if _, err := ramp(ctx, fmt.Sprintf("%s node %d", name, i+1), nodes[i], subs[i], half[i], 0, cfg.stepTimeout); err != nil {
			return fail(err)
		}
	}
	// Give node 2's room membership time to be known cluster-wide (it is
	// not needed by Redis broadcasting, which is sent to every node, but a
	// settled start is cheap).
	if err := sleepCtx(ctx, 500*time.Millisecond); err != nil {
		return fail(err)
	}

	completed := func(g int64) int64 { return min(subs[0].completed(g), subs[1].completed(g)) }
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
			if c := completed(g); c > last {
				last = c
				if pub.send(fmt.Sprintf("done %d %d", g, c)) != nil {
					return
				}
			}
		}
	}()

	run := clusterRun{name: name, cfg: cfg, nodes: nodes, redis: rds, subs: subs, pub: pub,
		gen: &gen, half: half, completed: completed}
	for _, mode := range cfg.modes {
		windows := []int{slices.Max(cfg.windows)}
		if mode == "flat" {
			windows = cfg.windows
		}
		for _, w := range windows {
			ph := run.phase(ctx, mode, w)
			sr.Phases = append(sr.Phases, ph)
			if ph.Error != "" {
				return fail(fmt.Errorf("%s, window %d: %s", mode, w, ph.Error))
			}
		}
	}
	return sr
}

// clusterRun is what one cluster's phases share.
type clusterRun struct {
	name      string
	cfg       clusterConfig
	nodes     [2]*serverProc
	redis     *serverProc
	subs      [2]*clientPool
	pub       *clientPool
	gen       *atomic.Int64
	half      [2]int
	completed func(gen int64) int64
}

// phase publishes for cfg.duration and waits until every subscriber on both
// nodes has every broadcast (or none arrives for 10 s).
func (r *clusterRun) phase(ctx context.Context, mode string, window int) clusterPhase {
	cfg, n := r.cfg, r.cfg.n
	ph := clusterPhase{Mode: mode, Window: window}
	every := time.Duration(float64(n) / float64(cfg.rate) * float64(time.Second)).Truncate(time.Microsecond)
	if mode == "paced" {
		ph.OfferedPerSec = round(float64(n)/every.Seconds(), 0)
		ph.EveryMs = round(every.Seconds()*1000, 3)
	}
	g := r.gen.Add(1)
	for i, p := range r.subs {
		if err := p.send(fmt.Sprintf("reset %d", g)); err != nil {
			ph.Error = err.Error()
			return ph
		}
		if err := p.waitAll(ctx, "reset", 10*time.Second, func(st workerStatus) bool { return st.Gen == g }); err != nil {
			ph.Error = err.Error()
			return ph
		}
		if st := p.status(); st.Connected != r.half[i] {
			ph.Error = fmt.Sprintf("node %d: %d of %d subscribers connected at the start", i+1, st.Connected, r.half[i])
			return ph
		}
	}
	pad := strings.Repeat("x", cfg.pad)
	if pad == "" {
		pad = "-"
	}
	tag := fmt.Sprintf("[%s] cluster %d %s w=%d", r.name, n, mode, window)
	waitQuiet(ctx, r.name, cfg.quiet)
	logf("%s: publishing for %v", tag, cfg.duration)
	pids := []int{r.nodes[0].pid, r.nodes[1].pid, r.redis.pid}
	clients := slices.Concat(r.subs[0].pids(), r.subs[1].pids(), r.pub.pids())
	cpu0 := make([]float64, len(pids))
	for i, p := range pids {
		cpu0[i], _ = readCPU(p)
	}
	c0 := sumCPU(clients)
	m0, _ := machineBusy()
	t0 := time.Now()
	if err := r.pub.send(fmt.Sprintf("pub %d %s %d %d %d %s %s", g, mode, every.Microseconds(),
		cfg.duration.Milliseconds(), window, fanoutRoom, pad)); err != nil {
		ph.Error = err.Error()
		return ph
	}

	var sent int64
	pubDone := false
	lastPrint, lastDone, lastProgress := t0, int64(0), t0
	deadline := t0.Add(cfg.duration + cfg.stepTimeout)
	var tEnd time.Time
	for {
		now := time.Now()
		done := r.completed(g)
		if done != lastDone {
			lastDone, lastProgress = done, now
		}
		if !pubDone {
			if st, _ := r.pub.workers[0].status(); st.PubGen == g && st.PubDone {
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
			st, _ := r.pub.workers[0].status()
			logf("%s: %.0fs, %d broadcasts sent, %d received by all; received on node 1 %d, node 2 %d",
				tag, now.Sub(t0).Seconds(), st.PubSent, done, r.subs[0].status().Count, r.subs[1].status().Count)
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
		for i, p := range []*serverProc{r.nodes[0], r.nodes[1], r.redis} {
			if !p.alive() {
				ph.Error = fmt.Sprintf("process %d (%s) exited: %s", p.pid, []string{"node 1", "node 2", "redis"}[i], tail(p.logPath, 1000))
				return ph
			}
		}
		if err := sleepCtx(ctx, time.Millisecond); err != nil {
			ph.Error = err.Error()
			return ph
		}
	}
	wall := time.Since(t0).Seconds()
	pct := func(d float64) float64 { return round(100*d/wall, 1) }
	var cpu [3]float64
	for i, p := range pids {
		c1, _ := readCPU(p)
		cpu[i] = pct(c1 - cpu0[i])
	}
	ph.Node1CPUPercent, ph.Node2CPUPercent, ph.RedisCPUPercent = cpu[0], cpu[1], cpu[2]
	ph.ClientCPUPercent = pct(sumCPU(clients) - c0)
	m1, _ := machineBusy()
	ph.OthersCPUPercent = round(max(0, pct(m1-m0)-cpu[0]-cpu[1]-cpu[2]-ph.ClientCPUPercent), 1)
	ph.Node1RSSKiB, _ = readRSS(r.nodes[0].pid)
	ph.Node2RSSKiB, _ = readRSS(r.nodes[1].pid)

	elapsed := tEnd.Sub(t0).Seconds()
	ph.Seconds = round(elapsed, 3)
	ph.Broadcasts = sent
	var all mergedHist
	for i, p := range r.subs {
		stats, err := p.collectStats(ctx, g, 10*time.Second)
		if err != nil {
			ph.Error = err.Error()
			return ph
		}
		var h mergedHist
		ns := clusterNodeStats{Node: i + 1, Subscribers: r.half[i], Expected: sent * int64(r.half[i])}
		for _, s := range stats {
			ns.Delivered += s.Count
			ph.Stray += s.Stray
			h.add(s.Hist)
			all.add(s.Hist)
		}
		ns.Lost = ns.Expected - ns.Delivered
		if elapsed > 0 {
			ns.DeliveriesPerSec = round(float64(ns.Delivered)/elapsed, 0)
		}
		ns.P50Ms, ns.P99Ms, ns.MaxMs = round(h.quantile(0.50), 3), round(h.quantile(0.99), 3), round(h.maxValue(), 3)
		ph.Nodes = append(ph.Nodes, ns)
		ph.Delivered += ns.Delivered
	}
	ph.Expected = sent * int64(n)
	ph.Lost = ph.Expected - ph.Delivered
	if elapsed > 0 {
		ph.DeliveriesPerSec = round(float64(ph.Delivered)/elapsed, 0)
		ph.BroadcastsPerSec = round(float64(sent)/elapsed, 1)
	}
	ph.P50Ms, ph.P99Ms, ph.MaxMs = round(all.quantile(0.50), 3), round(all.quantile(0.99), 3), round(all.maxValue(), 3)
	if mode == "paced" {
		planned := int64(cfg.duration / every)
		if sent < planned*95/100 {
			ph.Note = fmt.Sprintf("did not keep pace: %d of %d broadcasts", sent, planned)
		}
	}
	ph.Limit = clusterLimit(r.name == "node", mode == "paced", ph)
	if ph.Lost != 0 && ph.Error == "" {
		ph.Error = fmt.Sprintf("%d messages lost", ph.Lost)
	}
	logf("%s: %d broadcasts, %d/%d messages in %.2fs: %.0f msgs/s (node 1 %.0f, node 2 %.0f), p50 %.2f/%.2f ms, p99 %.2f/%.2f ms; CPU node 1 %.0f%%, node 2 %.0f%%, redis %.0f%%, clients %.0f%% (%s)",
		tag, sent, ph.Delivered, ph.Expected, elapsed, ph.DeliveriesPerSec, ph.Nodes[0].DeliveriesPerSec, ph.Nodes[1].DeliveriesPerSec,
		ph.Nodes[0].P50Ms, ph.Nodes[1].P50Ms, ph.Nodes[0].P99Ms, ph.Nodes[1].P99Ms,
		ph.Node1CPUPercent, ph.Node2CPUPercent, ph.RedisCPUPercent, ph.ClientCPUPercent, ph.Limit)
	return ph
}

// clusterLimit names what most likely bounds a cluster figure: a Node node
// at a full core, or the machine's CPU (all processes share it).
func clusterLimit(oneCore, paced bool, ph clusterPhase) string {
	busy := ""
	if ph.OthersCPUPercent >= 10 {
		busy = fmt.Sprintf("; other processes took %.0f%%", ph.OthersCPUPercent)
	}
	return clusterReason(oneCore, paced, ph) + busy
}

func clusterReason(oneCore, paced bool, ph clusterPhase) string {
	if paced {
		return "paced: offered load"
	}
	capacity := 100 * float64(runtime.NumCPU())
	servers := ph.Node1CPUPercent + ph.Node2CPUPercent + ph.RedisCPUPercent
	total := servers + ph.ClientCPUPercent + ph.OthersCPUPercent
	switch {
	case oneCore && ph.Node1CPUPercent >= 90:
		return fmt.Sprintf("node 1: its one JS thread is saturated (%.0f%% of a core)", ph.Node1CPUPercent)
	case oneCore && ph.Node2CPUPercent >= 90:
		return fmt.Sprintf("node 2: its one JS thread is saturated (%.0f%% of a core)", ph.Node2CPUPercent)
	case total >= 0.85*capacity && ph.ClientCPUPercent >= servers:
		return fmt.Sprintf("clients: CPU saturated, load generator took %.0f%% of %.0f%%", ph.ClientCPUPercent, capacity)
	case total >= 0.85*capacity:
		return fmt.Sprintf("CPU saturated: nodes and Redis %.0f%%, clients %.0f%% of %.0f%%", servers, ph.ClientCPUPercent, capacity)
	default:
		return fmt.Sprintf("neither CPU-bound (nodes and Redis %.0f%%, clients %.0f%%): window/latency-bound", servers, ph.ClientCPUPercent)
	}
}

// clusterResults is the JSON document the cluster workload writes.
type clusterResults struct {
	Workload string          `json:"workload"`
	Date     string          `json:"date"`
	Command  string          `json:"command"`
	Machine  machine         `json:"machine"`
	Settings clusterSettings `json:"settings"`
	Servers  []clusterServer `json:"servers"`
}

type clusterSettings struct {
	Subscribers     int      `json:"subscribers"` // over both nodes
	Nodes           int      `json:"nodes"`
	Modes           []string `json:"modes"`
	PacedRate       int      `json:"paced_deliveries_per_sec"`
	DurationSeconds float64  `json:"duration_seconds"`
	Windows         []int    `json:"windows_broadcasts"`
	PadBytes        int      `json:"pad_bytes"`
	WorkersPerNode  int      `json:"subscriber_workers_per_node"`
	Redis           string   `json:"redis,omitempty"`
}

type clusterServer struct {
	Name   string         `json:"name"`
	Desc   string         `json:"desc"`
	Error  string         `json:"error,omitempty"`
	Phases []clusterPhase `json:"phases"`
}

// clusterNodeStats is one node's subscribers in a phase. Node 1 holds the
// publisher (local deliveries); node 2 gets every broadcast through Redis
// (cross-node deliveries).
type clusterNodeStats struct {
	Node             int     `json:"node"`
	Subscribers      int     `json:"subscribers"`
	Expected         int64   `json:"expected"`
	Delivered        int64   `json:"delivered"`
	Lost             int64   `json:"lost"`
	DeliveriesPerSec float64 `json:"deliveries_per_sec"`
	P50Ms            float64 `json:"p50_ms"`
	P99Ms            float64 `json:"p99_ms"`
	MaxMs            float64 `json:"max_ms"`
}

// clusterPhase is one measured run of one cluster.
type clusterPhase struct {
	Mode             string             `json:"mode"`
	Window           int                `json:"window_broadcasts"`
	OfferedPerSec    float64            `json:"offered_per_sec,omitempty"`
	EveryMs          float64            `json:"every_ms,omitempty"`
	Seconds          float64            `json:"seconds"`
	Broadcasts       int64              `json:"broadcasts"`
	Expected         int64              `json:"expected"`
	Delivered        int64              `json:"delivered"`
	Lost             int64              `json:"lost"`
	Stray            int64              `json:"stray,omitempty"`
	DeliveriesPerSec float64            `json:"deliveries_per_sec"`
	BroadcastsPerSec float64            `json:"broadcasts_per_sec"`
	P50Ms            float64            `json:"p50_ms"`
	P99Ms            float64            `json:"p99_ms"`
	MaxMs            float64            `json:"max_ms"`
	Nodes            []clusterNodeStats `json:"nodes"`
	Node1CPUPercent  float64            `json:"node1_cpu_percent"` // % of one core, over the run
	Node2CPUPercent  float64            `json:"node2_cpu_percent"`
	RedisCPUPercent  float64            `json:"redis_cpu_percent"`
	ClientCPUPercent float64            `json:"client_cpu_percent"`
	OthersCPUPercent float64            `json:"others_cpu_percent"`
	Node1RSSKiB      int64              `json:"node1_rss_kib"`
	Node2RSSKiB      int64              `json:"node2_rss_kib"`
	Limit            string             `json:"limited_by"`
	Note             string             `json:"note,omitempty"`
	Error            string             `json:"error,omitempty"`
	// Ratios to riptide's figures in the same phase (this / riptide).
	Ratios map[string]float64 `json:"ratios_to_riptide,omitempty"`
}

func (r *clusterResults) encodeJSON(w io.Writer) error { return encodeIndented(w, r) }

// Ratio keys of the cluster results beyond the fan-out ones: per node.
const (
	ratioLocalP99  = "node1_p99"
	ratioRemoteP99 = "node2_p99"
)

func (r *clusterResults) computeRatios() {
	var ref *clusterServer
	for i := range r.Servers {
		if r.Servers[i].Name == "riptide" {
			ref = &r.Servers[i]
		}
	}
	if ref == nil {
		return
	}
	for i := range r.Servers {
		s := &r.Servers[i]
		if s == ref {
			continue
		}
		for j := range s.Phases {
			p := &s.Phases[j]
			for _, q := range ref.Phases {
				if q.Mode != p.Mode || q.Window != p.Window || q.Error != "" || p.Error != "" ||
					len(p.Nodes) != 2 || len(q.Nodes) != 2 {
					continue
				}
				p.Ratios = map[string]float64{}
				for k, v := range map[string][2]float64{
					ratioRate:      {p.DeliveriesPerSec, q.DeliveriesPerSec},
					ratioP50:       {p.P50Ms, q.P50Ms},
					ratioP99:       {p.P99Ms, q.P99Ms},
					ratioLocalP99:  {p.Nodes[0].P99Ms, q.Nodes[0].P99Ms},
					ratioRemoteP99: {p.Nodes[1].P99Ms, q.Nodes[1].P99Ms},
				} {
					if x, ok := ratio(v[0], v[1]); ok {
						p.Ratios[k] = x
					}
				}
			}
		}
	}
}

// markdown renders one row per (mode, window, server), the servers of a
// phase together; other servers' cells carry their ratio to riptide.
func (r *clusterResults) markdown() string {
	var b strings.Builder
	b.WriteString("| mode | cluster | broadcasts/s | deliveries/s | p50 ms | p99 ms | node 1 (local) p50 / p99 ms | node 2 (via Redis) p50 / p99 ms | lost | CPU % node 1 / node 2 / Redis | client CPU % | limited by |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	type key struct {
		mode   string
		window int
	}
	var order []key
	for _, s := range r.Servers {
		for _, p := range s.Phases {
			if k := (key{p.Mode, p.Window}); !slices.Contains(order, k) {
				order = append(order, k)
			}
		}
	}
	for _, k := range order {
		for _, s := range r.Servers {
			for _, p := range s.Phases {
				if (key{p.Mode, p.Window}) != k {
					continue
				}
				m := fmt.Sprintf("flat, window %d", p.Window)
				if p.Mode == "paced" {
					m = fmt.Sprintf("paced, %.0f/s (1 broadcast per %g ms)", p.OfferedPerSec, p.EveryMs)
				}
				limit := p.Limit
				if p.Note != "" {
					limit += "; " + p.Note
				}
				if p.Error != "" {
					limit += "; error: " + p.Error
				}
				node := func(i int) string {
					if i >= len(p.Nodes) {
						return "-"
					}
					key := ratioLocalP99
					if i == 1 {
						key = ratioRemoteP99
					}
					return fmt.Sprintf("%.2f / %s", p.Nodes[i].P50Ms, withRatio(fmt.Sprintf("%.2f", p.Nodes[i].P99Ms), p.Ratios, key))
				}
				row := []string{
					m, s.Name,
					fmt.Sprintf("%.1f", p.BroadcastsPerSec),
					withRatio(fmt.Sprintf("%.0f", p.DeliveriesPerSec), p.Ratios, ratioRate),
					withRatio(fmt.Sprintf("%.2f", p.P50Ms), p.Ratios, ratioP50),
					withRatio(fmt.Sprintf("%.2f", p.P99Ms), p.Ratios, ratioP99),
					node(0), node(1),
					strconv.FormatInt(p.Lost, 10),
					fmt.Sprintf("%.0f / %.0f / %.0f", p.Node1CPUPercent, p.Node2CPUPercent, p.RedisCPUPercent),
					fmt.Sprintf("%.0f", p.ClientCPUPercent),
					limit,
				}
				b.WriteString("| " + strings.Join(row, " | ") + " |\n")
			}
		}
	}
	for _, s := range r.Servers {
		if s.Error != "" {
			fmt.Fprintf(&b, "\n%s: %s\n", s.Name, s.Error)
		}
	}
	return b.String()
}
