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
	stderr strings.Builder
}

// poolConfig says how many workers to start and where they connect.
type poolConfig struct {
	addr        string
	path        string
	workers     int
	srcsPer     int // source addresses per worker
	srcBase     int // second octet of the source addresses, distinct per server run
	concurrency int
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
		cmd := exec.Command(exe, "worker",
			"--addr", cfg.addr, "--path", cfg.path,
			"--src", strings.Join(srcs, ","),
			"--concurrency", strconv.Itoa(cfg.concurrency))
		// One P per worker: the sessions are idle, so parallelism inside a
		// worker buys nothing and more Ps would only compete with the server
		// during the ramp.
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
		wp := &workerProc{cmd: cmd, stdin: stdin, exited: make(chan struct{})}
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
	for sc.Scan() {
		var st workerStatus
		if json.Unmarshal(sc.Bytes(), &st) != nil {
			continue
		}
		wp.mu.Lock()
		wp.st, wp.seen = st, true
		wp.mu.Unlock()
	}
	// Reap after stdout is drained, as exec.Cmd requires.
	_ = wp.cmd.Wait()
	close(wp.exited)
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
	Pongs                             int64
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
