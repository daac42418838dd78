package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"syscall"
	"time"
)

// modulePath is the module whose cmd/riptide the demo builds.
const modulePath = "github.com/riptide-io/riptide"

// tierProc is riptide running beside the demo, a child process the demo owns.
type tierProc struct {
	cmd      *exec.Cmd
	addr     string        // where riptide listens, from its "riptide listening" log line
	done     chan struct{} // closed when the process has exited
	err      error         // its exit status, set before done is closed
	buildDir string        // the temporary directory of a binary the demo built
}

// listening finds the address in riptide's log line `msg="riptide listening" addr=...`.
var listening = regexp.MustCompile(`msg="riptide listening" addr=(\S+)`)

// startTier starts riptide with o's binary and configuration and env added to the
// environment, copies its log to o.Log, and returns once it listens.
func startTier(o options, env []string) (*tierProc, error) {
	p := &tierProc{done: make(chan struct{})}
	bin, config := o.Riptide, o.Config
	if bin == "" || config == "" {
		root, err := moduleRoot()
		if err != nil {
			return nil, err
		}
		if config == "" {
			config = filepath.Join(root, "deploy", "riptide.chat.yaml")
		}
		if bin == "" {
			if p.buildDir, err = os.MkdirTemp("", "riptide-chat-demo-"); err != nil {
				return nil, err
			}
			bin = filepath.Join(p.buildDir, "riptide")
			fmt.Fprintln(o.Log, "chat demo: building cmd/riptide")
			if err := goTool(root, "build", "-o", bin, "./cmd/riptide"); err != nil {
				p.removeBuild()
				return nil, err
			}
		}
	}
	p.cmd = exec.Command(bin, "--config", config)
	p.cmd.Env = append(os.Environ(), env...) // later entries win
	p.cmd.Stdout = o.Log
	stderr, err := p.cmd.StderrPipe()
	if err == nil {
		err = p.cmd.Start()
	}
	if err != nil {
		p.removeBuild()
		return nil, fmt.Errorf("starting riptide: %w", err)
	}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintln(o.Log, "riptide:", line)
			if m := listening.FindStringSubmatch(line); m != nil {
				select {
				case addr <- m[1]:
				default:
				}
			}
		}
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	select {
	case p.addr = <-addr:
		return p, nil
	case <-p.done:
		p.removeBuild()
		return nil, fmt.Errorf("riptide exited before listening (%v); its log is above", p.err)
	case <-time.After(30 * time.Second):
		_ = p.stop()
		return nil, fmt.Errorf("riptide did not listen within 30s")
	}
}

// stop asks riptide to shut down (SIGTERM: it closes its sessions), kills it if it has not
// exited within 15s, and removes a binary the demo built.
func (p *tierProc) stop() error {
	defer p.removeBuild()
	select {
	case <-p.done:
		return nil // exited before: main reports how
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return p.err
	case <-time.After(15 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
		return fmt.Errorf("riptide did not stop within 15s of SIGTERM; killed")
	}
}

func (p *tierProc) removeBuild() {
	if p.buildDir != "" {
		_ = os.RemoveAll(p.buildDir)
	}
}

// moduleRoot is the directory of riptide's go.mod, found by the go tool from the working
// directory: the demo builds the riptide of the checkout it runs in.
func moduleRoot() (string, error) {
	var out bytes.Buffer
	cmd := exec.Command(goPath(), "env", "GOMOD")
	cmd.Stdout = &out
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(out.String())
	if b, err := os.ReadFile(gomod); err != nil || !bytes.HasPrefix(b, []byte("module "+modulePath+"\n")) {
		return "", fmt.Errorf("run the demo inside the riptide repository (go run ./examples/chat/web), or pass --riptide and --config")
	}
	return filepath.Dir(gomod), nil
}

// goTool runs the go tool in dir, its output going to the demo's.
func goTool(dir string, args ...string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, goPath(), args...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return nil
}

// goPath is the go tool: on PATH, else the one of the toolchain that built the demo.
func goPath() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return filepath.Join(runtime.GOROOT(), "bin", "go")
}
