package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"gopkg.in/yaml.v3"

	"github.com/riptide-io/riptide/internal/nodetest"
)

// cleanEnv is the test's environment without RIPTIDE_* variables, plus extra.
func cleanEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "RIPTIDE_") {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

// runBinary runs bin to completion and returns its stdout, stderr and exit status.
func runBinary(t *testing.T, bin string, env []string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

// The built binary: validate, config and --help as an operator runs them.
func TestBinaryCommands(t *testing.T) {
	bin := nodetest.BuildGo(t, "./cmd/riptide")
	example, _ := filepath.Abs("../../deploy/riptide.example.yaml")
	exampleTOML, _ := filepath.Abs("../../deploy/riptide.example.toml")

	for _, f := range []string{example, exampleTOML} {
		out, errs, code := runBinary(t, bin, cleanEnv(), "validate", "--config", f)
		if code != 0 || out != "ok\n" || errs != "" {
			t.Errorf("validate %s: %d %q %q", f, code, out, errs)
		}
	}

	bad := writeFile(t, "riptide.yaml", badFiles["riptide.yaml"])
	out, errs, code := runBinary(t, bin, cleanEnv("RIPTIDE_LOG_LEVEL=loud"), "validate", "--config", bad, "--ping-timeout", "x")
	lines := strings.Split(strings.TrimSpace(errs), "\n")
	if code != 2 || out != "" || len(lines) != 10 || lines[0] != "riptide: config "+bad+` line 3: unknown key "listen.adress"` ||
		!strings.Contains(errs, `riptide: flag --ping-timeout: "x" is not a duration`) ||
		!strings.Contains(errs, `riptide: log.level (env RIPTIDE_LOG_LEVEL): "loud" is not debug, info, warn or error`) {
		t.Errorf("validate a bad file: %d %q\n%s", code, out, errs)
	}
	// Serving refuses the same configuration, with the same status.
	if _, errs2, code := runBinary(t, bin, cleanEnv("RIPTIDE_LOG_LEVEL=loud"), "--config", bad, "--ping-timeout", "x"); code != 2 || errs2 != errs {
		t.Errorf("serve with a bad file: %d\n%s", code, errs2)
	}
	if _, errs, code := runBinary(t, bin, cleanEnv(), "--adr", ":1"); code != 2 || errs != "riptide: flag provided but not defined: -adr (riptide --help lists the options)\n" {
		t.Errorf("unknown flag: %d %q", code, errs)
	}

	// config merges file < env < flags and redacts secrets.
	file := writeFile(t, "r.toml", "[engine]\nping_interval = \"5s\"\nping_timeout = \"6s\"\n[auth]\ntoken = \"from-file\"\n")
	out, errs, code = runBinary(t, bin, cleanEnv("RIPTIDE_CONFIG="+file, "RIPTIDE_ENGINE_PING_TIMEOUT=7s",
		"RIPTIDE_REDIS_URL=redis://app:hunter2@127.0.0.1:6379/0"), "config", "--ping-timeout", "8s", "--log-level", "debug")
	if code != 0 || errs != "" {
		t.Fatalf("config: %d %s", code, errs)
	}
	if strings.Contains(out, "hunter2") || strings.Contains(out, "from-file") {
		t.Fatalf("config printed a secret:\n%s", out)
	}
	var got map[string]map[string]any
	if err := yaml.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("config output is not YAML: %v\n%s", err, out)
	}
	for _, c := range []struct {
		section, key string
		want         any
	}{
		{"engine", "ping_interval", "5s"}, {"engine", "ping_timeout", "8s"}, {"log", "level", "debug"},
		{"auth", "token", "***"}, {"redis", "url", "redis://app:***@127.0.0.1:6379/0"},
		{"listen", "addr", ":3000"}, {"limits", "max_pending_events", 64},
	} {
		if v := got[c.section][c.key]; v != c.want {
			t.Errorf("config %s.%s = %v, want %v", c.section, c.key, v, c.want)
		}
	}

	out, errs, code = runBinary(t, bin, cleanEnv(), "--help")
	if code != 0 || out != "" {
		t.Fatalf("--help: %d %q", code, out)
	}
	for _, o := range defaults().options() {
		if !strings.Contains(errs, "--"+o.flagName()+" ") || !strings.Contains(errs, "env "+o.envName()+",") {
			t.Errorf("--help lacks --%s or %s", o.flagName(), o.envName())
		}
	}
}

// jwtBinary builds the binary (with Node set up for the clients) and returns it with an
// HMAC secret and a token for user "ana" signed with it, valid for an hour.
func jwtBinary(t *testing.T) (bin, secret, tok string) {
	t.Helper()
	nodetest.Setup(t)
	bin = nodetest.BuildGo(t, "./cmd/riptide")
	secret = "a-shared-secret-of-at-least-32-bytes!!"
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "ana", "exp": time.Now().Add(time.Hour).Unix()}).SignedString([]byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	return bin, secret, tok
}

// stopOnCleanup stops a started binary with SIGTERM when the test ends and checks that it
// exits 0; exited delivers cmd.Wait's result.
func stopOnCleanup(t *testing.T, cmd *exec.Cmd, exited <-chan error) {
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-exited:
			if err != nil {
				t.Errorf("riptide exited with %v after SIGTERM", err)
			}
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			t.Error("riptide did not stop on SIGTERM")
		}
	})
}

var listening = regexp.MustCompile(`msg="riptide listening" addr=(\S+)`)

// process is a riptide binary started by launch.
type process struct {
	cmd    *exec.Cmd
	addr   string
	first  string     // the first log line
	exited chan error // cmd.Wait's result, once
	mu     sync.Mutex
	log    []string // every log line so far
}

// logged returns the log lines so far.
func (p *process) logged() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.log...)
}

// launch starts bin and returns once it logs the address it listens on.
func launch(t *testing.T, bin string, env []string, args ...string) *process {
	t.Helper()
	p, err := startProcess(bin, env, args...)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// startProcess is launch for callers that may not fail a test themselves (a goroutine of
// the test's).
func startProcess(bin string, env []string, args ...string) (*process, error) {
	p := &process{cmd: exec.Command(bin, args...), exited: make(chan error, 1)}
	p.cmd.Env = env
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := p.cmd.Start(); err != nil {
		return nil, err
	}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			p.mu.Lock()
			p.log = append(p.log, sc.Text())
			p.mu.Unlock()
			if m := listening.FindStringSubmatch(sc.Text()); m != nil {
				addr <- m[1]
			}
		}
		p.exited <- p.cmd.Wait()
	}()
	select {
	case p.addr = <-addr:
		p.first = p.logged()[0]
		return p, nil
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		return nil, fmt.Errorf("no listening line; log %q", p.logged())
	}
}

// serve starts bin and returns its first log line and its address; cleanup stops it with
// SIGTERM and checks it exits 0. drain.delay is 0s unless the caller sets it: these
// servers need no time for a load balancer to notice.
func serve(t *testing.T, bin string, env []string, args ...string) (first string, addr string) {
	t.Helper()
	p := launch(t, bin, append([]string{"RIPTIDE_DRAIN_DELAY=0s"}, env...), args...)
	t.Cleanup(func() { p.terminate(t) })
	return p.first, p.addr
}

// terminate stops p with SIGTERM and checks it exits 0 within 15 s. It reads p.exited: call
// it once, on a process that has not ended otherwise.
func (p *process) terminate(t *testing.T) {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.exited:
		if err != nil {
			t.Errorf("riptide exited with %v after SIGTERM", err)
		}
	case <-time.After(15 * time.Second):
		_ = p.cmd.Process.Kill()
		t.Error("riptide did not stop on SIGTERM")
	}
}

// With no file and no flags the binary serves the open relay, and its first log line says
// it is open. (The address comes from the environment so that the test can pick a free
// port; everything else is default.) With a token, the first line says a token is needed.
func TestBinaryServes(t *testing.T) {
	nodetest.Setup(t)
	bin := nodetest.BuildGo(t, "./cmd/riptide")

	first, addr := serve(t, bin, cleanEnv("RIPTIDE_LISTEN_ADDR=127.0.0.1:0"))
	const open = `level=WARN msg="riptide is OPEN: any client may connect, join any room and publish (no auth configured)"`
	if !strings.HasSuffix(first, open) {
		t.Fatalf("first log line %q, want it to end with %s", first, open)
	}
	resp, err := http.Get("http://" + addr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "ok" {
		t.Fatalf("healthz %q", body)
	}
	nodetest.Run(t, 30*time.Second, "riptide-relay.js", "--url", "http://"+addr)

	file := writeFile(t, "auth.yaml", "auth:\n  token: s3cret\nlisten:\n  addr: 127.0.0.1:0\n")
	first, addr = serve(t, bin, cleanEnv(), "--config", file)
	if !strings.Contains(first, `level=INFO msg="riptide requires a token`) || strings.Contains(first, "s3cret") {
		t.Fatalf("first log line with a token: %q", first)
	}
	nodetest.Run(t, 30*time.Second, "riptide-relay.js", "--url", "http://"+addr, "--token", "s3cret")
}

// TestBinaryJWT: with auth.jwt configured the binary requires a JWT on every connection:
// the real socket.io-client connects with a valid token (and uses the relay protocol), and
// gets connect_error with the documented code otherwise, on both transports.
func TestBinaryJWT(t *testing.T) {
	nodetest.Setup(t)
	bin := nodetest.BuildGo(t, "./cmd/riptide")
	const secret = "a-shared-secret-of-at-least-32-bytes!!"
	mint := func(key string, exp time.Duration) string {
		tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
			"sub": "ana", "exp": time.Now().Add(exp).Unix(),
		}).SignedString([]byte(key))
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}

	_, stderr, code := runBinary(t, bin, cleanEnv("RIPTIDE_AUTH_JWT_HMAC_SECRET=short"), "validate")
	if code != 2 || !strings.Contains(stderr, "auth.jwt") {
		t.Fatalf("validate with a short secret: exit %d, %q", code, stderr)
	}

	first, addr := serve(t, bin, cleanEnv("RIPTIDE_LISTEN_ADDR=127.0.0.1:0", "RIPTIDE_AUTH_JWT_HMAC_SECRET="+secret))
	if !strings.Contains(first, "riptide requires a JWT") || strings.Contains(first, secret) {
		t.Fatalf("first log line %q", first)
	}
	type result struct {
		Name         string `json:"name"`
		Transport    string `json:"transport"`
		Connected    bool   `json:"connected"`
		ConnectError *struct {
			Message string `json:"message"`
			Data    struct {
				Code string `json:"code"`
			} `json:"data"`
		} `json:"connectError"`
	}
	want := map[string]string{ // case -> code ("" = connects)
		"valid":         "",
		"missing":       "AUTH_TOKEN_MISSING",
		"bad signature": "AUTH_SIGNATURE_INVALID",
		"expired":       "AUTH_TOKEN_EXPIRED",
		"malformed":     "AUTH_TOKEN_MALFORMED",
	}
	auth := map[string]any{
		"valid":         map[string]string{"token": mint(secret, time.Hour)},
		"bad signature": map[string]string{"token": mint(secret+"x", time.Hour)},
		"expired":       map[string]string{"token": mint(secret, -time.Hour)},
		"malformed":     map[string]string{"token": "not.a.jwt"},
	}
	var cases []map[string]any
	for name := range want {
		for _, tr := range []string{"polling", "websocket"} {
			c := map[string]any{"name": name, "url": "http://" + addr, "transport": tr, "connectOnly": true}
			if a, ok := auth[name]; ok {
				c["auth"] = a
			}
			cases = append(cases, c)
		}
	}
	b, _ := json.Marshal(cases)
	path := writeFile(t, "cases.json", string(b))
	out := nodetest.Decode[struct {
		Results []result `json:"results"`
	}](t, nodetest.Run(t, 60*time.Second, "tier-auth.js", "--cases", path))
	if len(out.Results) != len(cases) {
		t.Fatalf("%d results for %d cases", len(out.Results), len(cases))
	}
	for _, r := range out.Results {
		code := want[r.Name]
		switch {
		case code == "" && !r.Connected:
			t.Errorf("%s/%s: not connected (%+v)", r.Name, r.Transport, r.ConnectError)
		case code != "" && (r.Connected || r.ConnectError == nil || r.ConnectError.Data.Code != code):
			t.Errorf("%s/%s: connected=%v error=%+v, want %s", r.Name, r.Transport, r.Connected, r.ConnectError, code)
		}
	}
	nodetest.Run(t, 30*time.Second, "riptide-relay.js", "--url", "http://"+addr, "--token", mint(secret, time.Hour),
		"--refusal", "authentication token required")
}
