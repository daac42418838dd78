package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// clientPool is the parent's view of the worker processes.
type clientPool struct {
	workers []*workerProc
}

type workerProc struct {
	cmd    *exec.Cmd
	pid    int
	stdin  io.WriteCloser
	exited chan struct{}

	mu     sync.Mutex
	st     workerStatus
	seen   bool // at least one status line arrived
	want   int  // the target last sent
	stats  map[int64]*workerStats
	stderr strings.Builder

	// Subscribers: the latest "c GEN SEQ" line, and who to tell about it.
	compGen, compSeq atomic.Int64
	onComplete       func()
}

// poolConfig says how many workers to start and where they connect.
type poolConfig struct {
	addr        string
	path        string
	workers     int
	srcsPer     int // source addresses per worker
	srcBase     int // second octet of the source addresses, distinct per server run
	concurrency int
	role        string // worker role (default idle)
	sio         bool   // Socket.IO CONNECT after the Engine.IO open
	room        string // every session joins this room
	ownRooms    bool   // every session joins a room of its own
	readBuf     int    // read buffer per session (default 256)
	jwtSecret   string // sessions connect with a JWT signed with this (see serverDef.JWTSecret)
	onComplete  func() // subscribers: called after each completion line
}

// startPool re-executes the bench binary once per worker. Worker w uses the
// source addresses 127.srcBase.(w+1).1 ... 127.srcBase.(w+1).srcsPer.
func startPool(cfg poolConfig) (*clientPool, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	p := &clientPool{}
	for w := range cfg.workers {
		srcs := make([]string, cfg.srcsPer)
		for k := range srcs {
			srcs[k] = fmt.Sprintf("127.%d.%d.%d", cfg.srcBase, w+1, k+1)
		}
		args := []string{"worker",
			"--addr", cfg.addr, "--path", cfg.path,
			"--src", strings.Join(srcs, ","),
			"--concurrency", strconv.Itoa(cfg.concurrency)}
		if cfg.role != "" {
			args = append(args, "--role", cfg.role)
		}
		if cfg.sio {
			args = append(args, "--sio")
		}
		if cfg.room != "" {
			args = append(args, "--room", cfg.room)
		}
		if cfg.ownRooms {
			args = append(args, "--room-prefix", fmt.Sprintf("own-%d-%d-", cfg.srcBase, w+1))
		}
		if cfg.jwtSecret != "" {
			args = append(args, "--jwt-secret", cfg.jwtSecret)
		}
		if cfg.readBuf > 0 {
			args = append(args, "--read-buf", strconv.Itoa(cfg.readBuf))
		}
		cmd := exec.Command(exe, args...)
		// One P per worker: parallelism comes from running several workers,
		// and more Ps would only compete with the server for the 2 cores.
		cmd.Env = append(os.Environ(), "GOMAXPROCS=1")
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		stdin, err := cmd.StdinPipe()
		if err != nil {
			p.close()
			return nil, err
		}
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			p.close()
			return nil, err
		}
		wp := &workerProc{cmd: cmd, stdin: stdin, exited: make(chan struct{}),
			stats: map[int64]*workerStats{}, onComplete: cfg.onComplete}
		cmd.Stderr = &lockedWriter{mu: &wp.mu, w: &wp.stderr}
		if err := cmd.Start(); err != nil {
			p.close()
			return nil, err
		}
		wp.pid = cmd.Process.Pid
		p.workers = append(p.workers, wp)
		go wp.readStatus(stdout)
	}
	return p, nil
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *strings.Builder
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.w.Len() < 64<<10 {
		l.w.Write(b)
	}
	return len(b), nil
}

func (wp *workerProc) readStatus(stdout io.Reader) {
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 64<<10), 1<<20) // stats lines carry histograms
	for sc.Scan() {
		b := sc.Bytes()
		if len(b) > 2 && b[0] == 'c' && b[1] == ' ' {
			wp.completionLine(b[2:])
			continue
		}
		var line workerLine
		if json.Unmarshal(b, &line) != nil {
			continue
		}
		wp.mu.Lock()
		if line.Stats != nil {
			wp.stats[line.Stats.Gen] = line.Stats
		} else {
			wp.st, wp.seen = line.workerStatus, true
		}
		wp.mu.Unlock()
	}
	// Reap after stdout is drained, as exec.Cmd requires.
	_ = wp.cmd.Wait()
	close(wp.exited)
}

// completionLine handles "GEN SEQ" from a subscriber worker.
func (wp *workerProc) completionLine(b []byte) {
	gs, ss, ok := strings.Cut(string(b), " ")
	gen, err1 := strconv.ParseInt(gs, 10, 64)
	seq, err2 := strconv.ParseInt(ss, 10, 64)
	if !ok || err1 != nil || err2 != nil {
		return
	}
	// Order matters to the reader (completed): gen last.
	wp.compGen.Store(0)
	wp.compSeq.Store(seq)
	wp.compGen.Store(gen)
	if wp.onComplete != nil {
		wp.onComplete()
	}
}

func (wp *workerProc) status() (workerStatus, bool) {
	wp.mu.Lock()
	defer wp.mu.Unlock()
	return wp.st, wp.seen
}

func (wp *workerProc) alive() bool {
	select {
	case <-wp.exited:
		return false
	default:
		return true
	}
}

// poolStatus sums the workers' latest statuses.
type poolStatus struct {
	Connected, InFlight, Failed, Lost int
	Pongs, Count                      int64
	AllDone                           bool
	MinNoFile                         uint64
	Err                               string
}

func (p *clientPool) status() poolStatus {
	s := poolStatus{AllDone: true}
	for _, wp := range p.workers {
		st, seen := wp.status()
		s.Connected += st.Connected
		s.InFlight += st.InFlight
		s.Failed += st.Failed
		s.Lost += st.Lost
		s.Pongs += st.Pongs
		s.Count += st.Count
		wp.mu.Lock()
		want := wp.want
		wp.mu.Unlock()
		// A line about an earlier target does not count as done.
		if !seen || !st.Done || st.Target != want {
			s.AllDone = false
		}
		if seen && (s.MinNoFile == 0 || st.NoFile < s.MinNoFile) {
			s.MinNoFile = st.NoFile
		}
		if st.Err != "" {
			s.Err = st.Err
		}
	}
	return s
}

// waitReady waits for every worker's first status line.
func (p *clientPool) waitReady(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		ready := true
		for _, wp := range p.workers {
			if _, seen := wp.status(); !seen {
				ready = false
			}
			if !wp.alive() {
				return fmt.Errorf("bench: worker %d exited: %s", wp.pid, wp.stderrText())
			}
		}
		if ready {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("bench: workers not ready within %v", timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (wp *workerProc) stderrText() string {
	wp.mu.Lock()
	defer wp.mu.Unlock()
	return wp.stderr.String()
}

// setTarget spreads n sessions over the workers as evenly as possible.
func (p *clientPool) setTarget(n int) error {
	k := len(p.workers)
	for i, wp := range p.workers {
		t := n / k
		if i < n%k {
			t++
		}
		wp.mu.Lock()
		wp.want = t
		wp.mu.Unlock()
		if _, err := fmt.Fprintf(wp.stdin, "target %d\n", t); err != nil {
			return fmt.Errorf("bench: worker %d: %w", wp.pid, err)
		}
	}
	return nil
}

// send writes one command line to every worker.
func (p *clientPool) send(cmd string) error {
	for _, wp := range p.workers {
		if _, err := io.WriteString(wp.stdin, cmd+"\n"); err != nil {
			return fmt.Errorf("bench: worker %d: %w", wp.pid, err)
		}
	}
	return nil
}

// waitAll polls until cond holds for every worker's latest status.
func (p *clientPool) waitAll(ctx context.Context, what string, timeout time.Duration, cond func(workerStatus) bool) error {
	deadline := time.Now().Add(timeout)
	for {
		ok := true
		for _, wp := range p.workers {
			if st, seen := wp.status(); !seen || !cond(st) {
				ok = false
			}
		}
		if ok {
			return nil
		}
		if err := p.anyDead(); err != nil {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("bench: timed out after %v waiting for %s", timeout, what)
		}
		if err := sleepCtx(ctx, 2*time.Millisecond); err != nil {
			return err
		}
	}
}

// collectStats asks every worker for the measurements of run gen and waits
// for all the answers.
func (p *clientPool) collectStats(ctx context.Context, gen int64, timeout time.Duration) ([]*workerStats, error) {
	if err := p.send("stats " + strconv.FormatInt(gen, 10)); err != nil {
		return nil, err
	}
	deadline := time.Now().Add(timeout)
	for {
		var out []*workerStats
		for _, wp := range p.workers {
			wp.mu.Lock()
			if s := wp.stats[gen]; s != nil {
				out = append(out, s)
			}
			wp.mu.Unlock()
		}
		if len(out) == len(p.workers) {
			return out, nil
		}
		if err := p.anyDead(); err != nil {
			return nil, err
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("bench: no stats for run %d from every worker within %v", gen, timeout)
		}
		if err := sleepCtx(ctx, 5*time.Millisecond); err != nil {
			return nil, err
		}
	}
}

// completed returns the highest broadcast of run gen that every subscriber
// of every worker has received (0 if any worker has reported none yet).
func (p *clientPool) completed(gen int64) int64 {
	low := int64(-1)
	for _, wp := range p.workers {
		var seq int64
		if wp.compGen.Load() == gen {
			seq = wp.compSeq.Load()
			if wp.compGen.Load() != gen { // changed under us: count as nothing yet
				seq = 0
			}
		}
		if low < 0 || seq < low {
			low = seq
		}
	}
	return max(low, 0)
}

// pids returns the worker process ids.
func (p *clientPool) pids() []int {
	out := make([]int, len(p.workers))
	for i, wp := range p.workers {
		out[i] = wp.pid
	}
	return out
}

// anyDead returns an error if a worker has exited.
func (p *clientPool) anyDead() error {
	for _, wp := range p.workers {
		if !wp.alive() {
			return fmt.Errorf("bench: worker %d exited: %s", wp.pid, wp.stderrText())
		}
	}
	return nil
}

// cpu returns the workers' summed utime+stime in seconds.
func (p *clientPool) cpu() float64 {
	var sum float64
	for _, wp := range p.workers {
		if c, err := readCPU(wp.pid); err == nil {
			sum += c
		}
	}
	return sum
}

// close asks every worker to quit, then kills by PID whoever is still there
// after 5 s.
func (p *clientPool) close() {
	for _, wp := range p.workers {
		_, _ = io.WriteString(wp.stdin, "quit\n")
		wp.stdin.Close()
	}
	deadline := time.After(5 * time.Second)
	for _, wp := range p.workers {
		select {
		case <-wp.exited:
		case <-deadline:
		}
	}
	for _, wp := range p.workers {
		if wp.alive() {
			_ = syscall.Kill(wp.pid, syscall.SIGKILL)
			select {
			case <-wp.exited:
			case <-time.After(5 * time.Second):
			}
		}
	}
}
