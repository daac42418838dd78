package nodetest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// buildTimeout bounds one `go build`; a warm build cache links in about a
// second, a cold one compiles gnet and friends in well under a minute.
const buildTimeout = 3 * time.Minute

// ModuleRoot returns the absolute path of the riptide module (the directory
// holding go.mod), found from Dir(). Safe for concurrent use.
func ModuleRoot() string {
	return filepath.Dir(filepath.Dir(filepath.Dir(Dir())))
}

// BuildGo builds the main package pkg (module-relative, e.g. "./examples/chat")
// with `go build` run from ModuleRoot, into t.TempDir(), and returns the
// binary's path; the file lives until t's cleanup. It fails t with the
// compiler's output if the build fails. Safe for concurrent use.
func BuildGo(t testing.TB, pkg string) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		// `go test` runs us with the go tool's own GOROOT; PATH may lack it.
		goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	bin := filepath.Join(t.TempDir(), filepath.Base(pkg))
	ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, goTool, "build", "-o", bin, pkg)
	cmd.Dir = ModuleRoot()
	begin := time.Now()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("nodetest: go build -o %s %s (in %s): %v\n%s", bin, pkg, cmd.Dir, err, tail(out))
	}
	t.Logf("nodetest: built %s in %v", pkg, time.Since(begin).Round(time.Millisecond))
	return bin
}

// StartBinary is Start for any executable: it runs bin args... (working
// directory ModuleRoot), waits for its first stdout line {"port":N,...} and
// returns N. t.Cleanup kills the process by its PID and, if the test failed,
// logs the tail of its output. The process gets a stdin pipe that is closed
// at cleanup, like Start's scripts. Safe for concurrent use.
func StartBinary(t testing.TB, bin string, args ...string) (port int) {
	t.Helper()
	p, port, err := startBinary(bin, args...)
	if p != nil {
		t.Cleanup(func() {
			p.stop()
			if t.Failed() {
				t.Logf("nodetest: output of %s %s:\n%s", filepath.Base(bin), strings.Join(args, " "), tail(p.output()))
			}
		})
	}
	if err != nil {
		t.Fatal(err)
	}
	return port
}

func startBinary(bin string, args ...string) (*proc, int, error) {
	name := filepath.Base(bin)
	cmd := exec.Command(bin, args...)
	cmd.Dir = ModuleRoot()
	cmd.Env = os.Environ()
	cmd.WaitDelay = 2 * time.Second
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, 0, err
	}
	out := newLineWriter()
	cmd.Stdout = out
	cmd.Stderr = out.stderr()
	if err := cmd.Start(); err != nil {
		return nil, 0, fmt.Errorf("nodetest: start %s: %w", bin, err)
	}
	p := &proc{cmd: cmd, stdin: stdin, exited: make(chan struct{}), out: out}
	var waitErr error
	go func() {
		waitErr = cmd.Wait()
		close(p.exited)
	}()
	timer := time.NewTimer(startTimeout)
	defer timer.Stop()
	select {
	case line := <-out.first:
		var hello struct {
			Port int `json:"port"`
		}
		if err := json.Unmarshal(line, &hello); err != nil || hello.Port <= 0 {
			return p, 0, fmt.Errorf("nodetest: %s: first stdout line %q is not {\"port\":N}\n%s", name, clip(line, 500), tail(out.bytes()))
		}
		return p, hello.Port, nil
	case <-p.exited:
		return p, 0, fmt.Errorf("nodetest: %s exited before listening (%v):\n%s", name, waitErr, tail(out.bytes()))
	case <-timer.C:
		return p, 0, fmt.Errorf("nodetest: %s printed no port line within %v:\n%s", name, startTimeout, tail(out.bytes()))
	}
}
