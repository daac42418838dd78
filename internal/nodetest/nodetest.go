package nodetest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	// installTimeout bounds `npm ci`; a cold install of the four packages takes
	// well under a minute on the CI machine.
	installTimeout = 5 * time.Minute
	// startTimeout bounds how long Start waits for the {"port":N} line; Node
	// starts in ~100 ms, engine.io loads in ~200 ms.
	startTimeout = 15 * time.Second
	// tailBytes is how much of a script's output a failure message shows.
	tailBytes = 6000
	// minNodeMajor: engine.io-client 6.6 and the scripts need Node 18+.
	minNodeMajor = 18
)

var (
	errNoNode = errors.New("nodetest: node not found in PATH (install Node.js >= 18, e.g. apt-get install -y nodejs npm)")
	errNoNPM  = errors.New("nodetest: npm not found in PATH (install it, e.g. apt-get install -y npm)")
)

// Dir returns the absolute path of internal/nodetest/js, found from this source
// file's location. Safe for concurrent use.
func Dir() string {
	dirOnce.Do(func() { dir = findDir() })
	return dir
}

var (
	dirOnce sync.Once
	dir     string
)

func findDir() string {
	if _, file, _, ok := runtime.Caller(0); ok && filepath.IsAbs(file) {
		return filepath.Join(filepath.Dir(file), "js")
	}
	// Built with -trimpath: the file name is module-relative. Tests run inside
	// the module, so walk up from the working directory to go.mod.
	wd, err := os.Getwd()
	if err != nil {
		panic("nodetest: cannot locate js/: " + err.Error())
	}
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return filepath.Join(d, "internal", "nodetest", "js")
		}
		if filepath.Dir(d) == d {
			panic("nodetest: cannot locate js/: no go.mod above " + wd)
		}
	}
}

var (
	setupMu   sync.Mutex
	setupDone bool
	nodePath  string
)

// Setup makes sure node is usable and js/node_modules matches package-lock.json,
// running `npm ci --no-audit --no-fund` in Dir() if not. The install happens at
// most once per process and under an flock shared with other test binaries.
// It fails t with the reason (node or npm missing, npm output) otherwise.
// Safe for concurrent use.
func Setup(t testing.TB) {
	t.Helper()
	if err := setup(); err != nil {
		t.Fatal(err)
	}
}

func setup() error {
	setupMu.Lock()
	defer setupMu.Unlock()
	if setupDone {
		return nil
	}
	node, err := exec.LookPath("node")
	if err != nil {
		return errNoNode
	}
	if err := checkNodeVersion(node); err != nil {
		return err
	}
	d := Dir()
	if ok, _ := installed(d); !ok {
		if err := install(d); err != nil {
			return err
		}
	}
	nodePath = node
	setupDone = true
	return nil
}

func checkNodeVersion(node string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, node, "--version").Output()
	if err != nil {
		return fmt.Errorf("nodetest: %s --version: %v", node, err)
	}
	v := strings.TrimPrefix(strings.TrimSpace(string(out)), "v")
	major, err := strconv.Atoi(strings.SplitN(v, ".", 2)[0])
	if err != nil || major < minNodeMajor {
		return fmt.Errorf("nodetest: node %q is too old or unparsable, need >= %d", strings.TrimSpace(string(out)), minNodeMajor)
	}
	return nil
}

// install runs npm ci under the cross-process lock, re-checking first: another
// test binary may have installed while we waited.
func install(d string) error {
	unlock, err := lockFile(filepath.Join(d, ".npm-install.lock"))
	if err != nil {
		return fmt.Errorf("nodetest: lock %s: %w", d, err)
	}
	defer unlock()
	if ok, _ := installed(d); ok {
		return nil
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		return errNoNPM
	}
	ctx, cancel := context.WithTimeout(context.Background(), installTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund")
	cmd.Dir = d
	cmd.Env = append(os.Environ(), "npm_config_update_notifier=false")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("nodetest: npm ci in %s: %v\n%s", d, err, tail(out))
	}
	if ok, why := installed(d); !ok {
		return fmt.Errorf("nodetest: npm ci in %s succeeded but node_modules is still stale: %s", d, why)
	}
	return nil
}

// lockEntry is the part of a package-lock.json "packages" entry we compare.
type lockEntry struct {
	Version  string `json:"version"`
	Optional bool   `json:"optional"`
}

type lockFileJSON struct {
	Packages map[string]lockEntry `json:"packages"`
}

// installed reports whether node_modules matches package-lock.json. The stamp
// is npm's own: node_modules/.package-lock.json, which npm ci and npm install
// write after installing. Every non-optional package of the lock must be there
// with the same version and its package.json present.
func installed(d string) (bool, string) {
	var want, have lockFileJSON
	if err := readJSON(filepath.Join(d, "package-lock.json"), &want); err != nil {
		return false, err.Error()
	}
	if err := readJSON(filepath.Join(d, "node_modules", ".package-lock.json"), &have); err != nil {
		return false, err.Error()
	}
	for name, w := range want.Packages {
		if name == "" || w.Optional {
			continue
		}
		h, ok := have.Packages[name]
		if !ok || h.Version != w.Version {
			return false, fmt.Sprintf("%s: installed %q, locked %q", name, h.Version, w.Version)
		}
		if _, err := os.Stat(filepath.Join(d, filepath.FromSlash(name), "package.json")); err != nil {
			return false, err.Error()
		}
	}
	return true, ""
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// Run runs `node <Dir()>/<script> args...` to completion within timeout and
// returns the script's result, the last non-empty stdout line, as JSON. It fails
// t (with the command, the result line and the tail of stdout and stderr) if the
// script exits non-zero, times out, or its last line is not JSON with "ok":true.
// Give timeout some headroom over the script's own --timeout, so a script that
// hangs reports its state instead of being killed. The returned slice is the
// caller's. Safe for concurrent use.
func Run(t testing.TB, timeout time.Duration, script string, args ...string) json.RawMessage {
	t.Helper()
	return RunEnv(t, timeout, nil, script, args...)
}

// RunEnv is Run with extra environment variables ("KEY=value", appended to the
// test process's environment), e.g. "DEBUG=engine.io-client:*" to get the
// client's debug log in the failure message.
func RunEnv(t testing.TB, timeout time.Duration, env []string, script string, args ...string) json.RawMessage {
	t.Helper()
	Setup(t)
	res, err := run(timeout, env, script, args...)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("nodetest: %s: %s", script, clip(res, 2000))
	return res
}

func scriptPath(script string) (string, error) {
	p := filepath.Join(Dir(), filepath.FromSlash(script))
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("nodetest: no script %s in %s", script, Dir())
	}
	return p, nil
}

func run(timeout time.Duration, env []string, script string, args ...string) (json.RawMessage, error) {
	path, err := scriptPath(script)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, nodePath, append([]string{path}, args...)...)
	cmd.Dir = Dir()
	cmd.Env = append(os.Environ(), env...)
	cmd.WaitDelay = 2 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	begin := time.Now()
	runErr := cmd.Run()
	took := time.Since(begin).Round(time.Millisecond)

	line := lastLine(stdout.Bytes())
	var res struct {
		OK    *bool  `json:"ok"`
		Error string `json:"error"`
	}
	jsonErr := json.Unmarshal(line, &res)
	var why string
	switch {
	case ctx.Err() != nil:
		why = fmt.Sprintf("killed after the %v timeout (the script's own --timeout should fire first)", timeout)
	case runErr != nil:
		why = fmt.Sprintf("%v after %v", runErr, took)
		if res.Error != "" {
			why += ": " + res.Error
		}
	case jsonErr != nil:
		why = fmt.Sprintf("last stdout line is not JSON: %v", jsonErr)
	case res.OK == nil || !*res.OK:
		why = `exit code 0 but the result has no "ok":true`
	default:
		return json.RawMessage(bytes.Clone(line)), nil
	}
	return nil, fmt.Errorf("nodetest: node %s %s: %s\n--- result line:\n%s\n--- stdout tail:\n%s\n--- stderr tail:\n%s",
		script, strings.Join(args, " "), why, clip(line, tailBytes), tail(stdout.Bytes()), tail(stderr.Bytes()))
}

// lastLine returns the last non-empty line of b, trimmed.
func lastLine(b []byte) []byte {
	b = bytes.TrimRight(b, " \t\r\n")
	if i := bytes.LastIndexByte(b, '\n'); i >= 0 {
		b = b[i+1:]
	}
	return bytes.TrimSpace(b)
}

func tail(b []byte) string {
	if len(b) > tailBytes {
		b = b[len(b)-tailBytes:]
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			b = b[i+1:]
		}
		return "...\n" + string(b)
	}
	return string(b)
}

func clip(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "...(clipped)"
	}
	return string(b)
}

// Start starts `node <Dir()>/<script> args...` as a long-running process (a
// reference server) that prints {"port":N,...} as its first stdout line once
// listening, and returns N. The process gets NODETEST_WATCH_STDIN=1 and a stdin
// pipe held open, so it can exit if the test binary dies. t.Cleanup kills it
// (by its PID) and, if the test failed, logs the tail of its output.
// Safe for concurrent use.
func Start(t testing.TB, script string, args ...string) (port int) {
	t.Helper()
	Setup(t)
	p, port, err := start(script, args...)
	if p != nil {
		t.Cleanup(func() {
			p.stop()
			if t.Failed() {
				t.Logf("nodetest: output of %s %s:\n%s", script, strings.Join(args, " "), tail(p.output()))
			}
		})
	}
	if err != nil {
		t.Fatal(err)
	}
	return port
}

// proc is a process started by start.
type proc struct {
	cmd    *exec.Cmd
	stdin  io.Closer
	exited chan struct{}
	out    *lineWriter
}

func start(script string, args ...string) (*proc, int, error) {
	p, line, err := startScript(script, args...)
	if err != nil {
		return p, 0, err
	}
	var hello struct {
		Port int `json:"port"`
	}
	if err := json.Unmarshal(line, &hello); err != nil || hello.Port <= 0 {
		return p, 0, fmt.Errorf("nodetest: %s: first stdout line %q is not {\"port\":N}\n%s", script, clip(line, 500), tail(p.output()))
	}
	return p, hello.Port, nil
}

// StartJSON is Start for a server that announces itself with any JSON object
// as its first stdout line (e.g. {"suite":N,"scenario":M}); it returns that
// line, which is the caller's. t.Cleanup kills the process by its PID.
// Safe for concurrent use.
func StartJSON(t testing.TB, script string, args ...string) json.RawMessage {
	t.Helper()
	Setup(t)
	p, line, err := startScript(script, args...)
	return started(t, p, line, err, script, args)
}

// StartProgram is StartJSON for an executable that is not a Node script (a
// Go server built by the test): path is run with args, its first stdout line
// must be a JSON object and is returned. It gets the same stdin pipe and
// NODETEST_WATCH_STDIN=1 as a script; t.Cleanup kills it by its PID and, if
// the test failed, logs the tail of its output. Safe for concurrent use.
func StartProgram(t testing.TB, path string, args ...string) json.RawMessage {
	t.Helper()
	p, line, err := startCmd(filepath.Base(path), exec.Command(path, args...))
	return started(t, p, line, err, path, args)
}

func started(t testing.TB, p *proc, line []byte, err error, name string, args []string) json.RawMessage {
	t.Helper()
	if p != nil {
		t.Cleanup(func() {
			p.stop()
			if t.Failed() {
				t.Logf("nodetest: output of %s %s:\n%s", name, strings.Join(args, " "), tail(p.output()))
			}
		})
	}
	if err != nil {
		t.Fatal(err)
	}
	if !json.Valid(line) || !bytes.HasPrefix(line, []byte("{")) {
		t.Fatalf("nodetest: %s: first stdout line %q is not a JSON object\n%s", name, clip(line, 500), tail(p.output()))
	}
	return json.RawMessage(bytes.Clone(line))
}

func startScript(script string, args ...string) (*proc, []byte, error) {
	path, err := scriptPath(script)
	if err != nil {
		return nil, nil, err
	}
	cmd := exec.Command(nodePath, append([]string{path}, args...)...)
	cmd.Dir = Dir()
	return startCmd(script, cmd)
}

// startCmd starts cmd and waits for its first stdout line.
func startCmd(name string, cmd *exec.Cmd) (*proc, []byte, error) {
	cmd.Env = append(os.Environ(), "NODETEST_WATCH_STDIN=1")
	cmd.WaitDelay = 2 * time.Second
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, nil, err
	}
	out := newLineWriter()
	cmd.Stdout = out
	cmd.Stderr = out.stderr()
	if err := cmd.Start(); err != nil {
		return nil, nil, fmt.Errorf("nodetest: start %s: %w", name, err)
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
		return p, line, nil
	case <-p.exited:
		return p, nil, fmt.Errorf("nodetest: %s exited before listening (%v):\n%s", name, waitErr, tail(out.bytes()))
	case <-timer.C:
		return p, nil, fmt.Errorf("nodetest: %s printed no first line within %v:\n%s", name, startTimeout, tail(out.bytes()))
	}
}

// stop kills the process by its PID and waits for it.
func (p *proc) stop() {
	p.stdin.Close()
	select {
	case <-p.exited:
		return
	default:
	}
	_ = p.cmd.Process.Kill()
	select {
	case <-p.exited:
	case <-time.After(5 * time.Second):
	}
}

func (p *proc) output() []byte { return p.out.bytes() }

// lineWriter collects a process's stdout and stderr (interleaved, stderr lines
// as written) and hands the first complete stdout line to first.
type lineWriter struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	line    []byte
	sent    bool
	first   chan []byte
	errSide stderrWriter
}

type stderrWriter struct{ w *lineWriter }

func newLineWriter() *lineWriter {
	w := &lineWriter{first: make(chan []byte, 1)}
	w.errSide.w = w
	return w
}

func (w *lineWriter) stderr() io.Writer { return &w.errSide }

func (w *lineWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.keep(b)
	if !w.sent {
		w.line = append(w.line, b...)
		if i := bytes.IndexByte(w.line, '\n'); i >= 0 {
			w.sent = true
			w.first <- bytes.TrimSpace(w.line[:i])
			w.line = nil
		}
	}
	return len(b), nil
}

func (s *stderrWriter) Write(b []byte) (int, error) {
	s.w.mu.Lock()
	defer s.w.mu.Unlock()
	s.w.keep(b)
	return len(b), nil
}

// keep appends to the log, dropping the oldest half past 1 MiB so a chatty
// server cannot grow a test's memory without bound.
func (w *lineWriter) keep(b []byte) {
	const limit = 1 << 20
	w.buf.Write(b)
	if w.buf.Len() > limit {
		rest := bytes.Clone(w.buf.Bytes()[w.buf.Len()-limit/2:])
		w.buf.Reset()
		w.buf.Write(rest)
	}
}

func (w *lineWriter) bytes() []byte {
	w.mu.Lock()
	defer w.mu.Unlock()
	return bytes.Clone(w.buf.Bytes())
}
