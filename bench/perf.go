package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// perfRec is a `perf record` attached to the server for one measured run,
// started when --perf-dir is set. The servers have no profiling endpoint of
// their own (riptide adds none), so the profile comes from outside: on-CPU
// samples with call graphs, user and kernel.
type perfRec struct {
	cmd  *exec.Cmd
	data string
	done chan struct{}
}

// startPerf starts perf on pid, writing dir/name.data; nil if dir is empty
// or perf cannot start (the run goes on without a profile).
func startPerf(dir, name string, pid int) *perfRec {
	if dir == "" {
		return nil
	}
	perf, err := exec.LookPath("perf")
	if err != nil {
		logf("perf not found: no profile for %s", name)
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil
	}
	data := filepath.Join(dir, name+".data")
	cmd := exec.Command(perf, "record", "-g", "-F", "999", "-p", strconv.Itoa(pid), "-o", data)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logf("perf record: %v", err)
		return nil
	}
	p := &perfRec{cmd: cmd, data: data, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(p.done) }()
	return p
}

// stop ends the recording (SIGINT, as perf expects) and writes the flat
// report to name.txt while the server's binary still exists.
func (p *perfRec) stop() {
	if p == nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "perf", "report", "-i", p.data, "--stdio", "--no-children",
		"--sort", "dso,sym", "-g", "none", "--percent-limit", "0.3").Output()
	if err != nil {
		logf("perf report %s: %v", p.data, err)
		return
	}
	txt := p.data[:len(p.data)-len(".data")] + ".txt"
	if err := os.WriteFile(txt, out, 0o644); err != nil {
		logf("perf report: %v", err)
		return
	}
	logf("profile: %s", txt)
}

// perfName names a profile file.
func perfName(server, run string) string {
	return fmt.Sprintf("%s-%s", server, run)
}
