package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// serverDef describes one server under test. The bench knows a server only
// by the command that starts it on a given port and by the Engine.IO path it
// serves; everything else is measured from outside.
type serverDef struct {
	Name string
	Desc string
	Path string // Engine.IO path, with the trailing slash
	// OneCore says the server runs its protocol work on one thread (Node's
	// event loop), so 100% of a core is its ceiling whatever the machine.
	OneCore bool
	// JWTSecret, when set, is the HS256 secret the server requires: every
	// Socket.IO client connects with auth {token: <JWT>}, each its own user
	// (cmd/riptide's auth.jwt.hmac_secret).
	JWTSecret string
	// Backend says the server hands "ping" to an application backend: launch
	// starts one (bench/servers/backend, which acks every event with its own
	// arguments) for the server, and "%u" in the server's argv becomes its
	// URL.
	Backend bool
	// Prepare runs once per bench run (e.g. builds a binary into env.tmp)
	// and returns the argv that starts the server on 127.0.0.1:port.
	Prepare func(ctx context.Context, env *runEnv) (argv func(port int) []string, err error)
}

// runEnv is what server definitions may use: the module root and a scratch
// directory removed at the end of the run.
type runEnv struct {
	root string
	tmp  string

	mu       sync.Mutex
	srcN     int                                // client pools started so far
	prepared map[string]func(port int) []string // server name -> argv, built once per run
}

// nextSrcBase returns the second octet of the source addresses for the next
// client pool: each pool gets fresh 127.x.y.z addresses, so TIME_WAIT
// sockets of an earlier pool never collide with its connections.
func (e *runEnv) nextSrcBase() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	b := 10 + e.srcN%240
	e.srcN++
	return b
}

// serverDefs is the table of known servers, in the order they are listed by
// --help. Every Socket.IO server runs the same default protocol as
// cmd/riptide ("join", "leave", "publish", "ping"; see cmd/riptide/main.go).
var serverDefs = []serverDef{
	{
		Name:    "riptide",
		Desc:    "riptide (./cmd/riptide, default options)",
		Path:    "/socket.io/",
		Prepare: prepareGoBinary("riptide", "", "./cmd/riptide", "--addr", "127.0.0.1:%d"),
	},
	{
		// The same binary requiring a JWT on every connection: against
		// "riptide", what an identity costs per socket. A binary of its own
		// name, so a run never rebuilds the file of a server still running.
		Name:      "riptide-jwt",
		Desc:      "riptide with --jwt.hmac-secret (every client connects with an HS256 JWT of its own user)",
		Path:      "/socket.io/",
		JWTSecret: benchJWTSecret,
		Prepare: prepareGoBinary("riptide-jwt", "", "./cmd/riptide",
			"--addr", "127.0.0.1:%d", "--jwt.hmac-secret", benchJWTSecret),
	},
	{
		// The same binary handing "ping" to the bench's backend over HTTP
		// (the event proxy): against "riptide", what one HTTP round trip per
		// event costs; against "node-proxy", the tier against a Node app
		// calling the same backend.
		Name:    "riptide-proxy",
		Desc:    `riptide with "ping" proxied to the bench's backend (--events '[{"name":"ping","action":"proxy"}]' --backend-url)`,
		Path:    "/socket.io/",
		Backend: true,
		Prepare: prepareGoBinary("riptide-proxy", "", "./cmd/riptide",
			"--addr", "127.0.0.1:%d", "--backend-url", "%u", "--events", `[{"name":"ping","action":"proxy"}]`),
	},
	{
		Name:    "node",
		Desc:    "Node socket.io 4.8 (bench/servers/node-sio.js, default options)",
		Path:    "/socket.io/",
		OneCore: true,
		Prepare: prepareNodeScript("bench/servers/node-sio.js"),
	},
	{
		Name:    "node-proxy",
		Desc:    "Node socket.io 4.8 whose \"ping\" handler POSTs to the bench's backend over a keep-alive http.Agent (bench/servers/node-sio-proxy.js)",
		Path:    "/socket.io/",
		OneCore: true,
		Backend: true,
		Prepare: prepareNodeScript("bench/servers/node-sio-proxy.js", "--backend", "%u"),
	},
	{
		Name: "zishang520",
		Desc: "github.com/zishang520/socket.io v3 (bench/servers/zishang520, default options)",
		Path: "/socket.io/",
		// Its own module, so its dependencies stay out of riptide's go.mod.
		Prepare: prepareGoBinary("zishang520", "bench/servers/zishang520", ".", "--port", "%d"),
	},
	{
		Name:    "node-eio",
		Desc:    "Node engine.io 6.6 (bench/servers/node-engineio.js, default options; Engine.IO only: idle --level eio)",
		Path:    "/socket.io/",
		OneCore: true,
		Prepare: prepareNodeScript("bench/servers/node-engineio.js"),
	},
}

func lookupServer(name string) (serverDef, bool) {
	for _, d := range serverDefs {
		if d.Name == name {
			return d, true
		}
	}
	return serverDef{}, false
}

func serverNames() []string {
	names := make([]string, len(serverDefs))
	for i, d := range serverDefs {
		names[i] = d.Name
	}
	return names
}

// prepareGoBinary builds pkg in the module at dir (relative to riptide's
// root; "" for riptide itself) into the scratch directory, so the measured
// process is the server itself and not `go run`. The server is started with
// args, where "%d" becomes the port.
func prepareGoBinary(name, dir, pkg string, args ...string) func(context.Context, *runEnv) (func(int) []string, error) {
	return func(ctx context.Context, env *runEnv) (func(int) []string, error) {
		bin := filepath.Join(env.tmp, name)
		cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, pkg)
		cmd.Dir = filepath.Join(env.root, dir)
		if out, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("bench: go build %s in %s: %w\n%s", pkg, cmd.Dir, err, out)
		}
		return func(port int) []string {
			argv := []string{bin}
			for _, a := range args {
				argv = append(argv, strings.ReplaceAll(a, "%d", strconv.Itoa(port)))
			}
			return argv
		}, nil
	}
}

// prepareNodeScript checks that node and the script exist. The script must
// accept --port N and listen on 127.0.0.1; args follow.
func prepareNodeScript(script string, args ...string) func(context.Context, *runEnv) (func(int) []string, error) {
	return func(_ context.Context, env *runEnv) (func(int) []string, error) {
		node, err := exec.LookPath("node")
		if err != nil {
			return nil, err
		}
		path := filepath.Join(env.root, script)
		if _, err := os.Stat(path); err != nil {
			return nil, err
		}
		return func(port int) []string {
			return append([]string{node, path, "--port", strconv.Itoa(port)}, args...)
		}, nil
	}
}

// serverProc is a started server process.
type serverProc struct {
	cmd     *exec.Cmd
	pid     int
	addr    string
	logPath string
	exited  chan struct{} // closed when the process has been reaped
	waitErr error
	backend *serverProc // the server's backend (serverDef.Backend), stopped with it
}

// startServer starts argv with its output going to a log file in env.tmp and
// waits until its port accepts TCP connections or ready time has passed.
func startServer(ctx context.Context, env *runEnv, name string, argv []string, port int, ready time.Duration) (*serverProc, error) {
	logPath := filepath.Join(env.tmp, name+".log")
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logf.Close() // the child keeps its own descriptor

	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = env.root
	cmd.Stdout, cmd.Stderr = logf, logf
	// If the bench dies without cleaning up, the kernel kills the server.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &serverProc{
		cmd: cmd, pid: cmd.Process.Pid, logPath: logPath,
		addr:   net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
		exited: make(chan struct{}),
	}
	go func() { p.waitErr = cmd.Wait(); close(p.exited) }()

	deadline := time.Now().Add(ready)
	for time.Now().Before(deadline) {
		select {
		case <-p.exited:
			return nil, fmt.Errorf("bench: %s exited before listening (%v); log %s:\n%s", name, p.waitErr, logPath, tail(logPath, 2000))
		case <-ctx.Done():
			p.stop()
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		c, err := net.DialTimeout("tcp", p.addr, time.Second)
		if err == nil {
			c.Close()
			return p, nil
		}
	}
	p.stop()
	return nil, fmt.Errorf("bench: %s did not listen on %s within %v; log %s:\n%s", name, p.addr, ready, logPath, tail(logPath, 2000))
}

// alive reports whether the server process is still running.
func (p *serverProc) alive() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// stop ends the server by PID: SIGTERM, then SIGKILL after 5 s; then its
// backend, if it has one.
func (p *serverProc) stop() {
	if p.backend != nil {
		defer p.backend.stop()
	}
	if !p.alive() {
		return
	}
	_ = syscall.Kill(p.pid, syscall.SIGTERM)
	select {
	case <-p.exited:
		return
	case <-time.After(5 * time.Second):
	}
	_ = syscall.Kill(p.pid, syscall.SIGKILL)
	select {
	case <-p.exited:
	case <-time.After(5 * time.Second):
	}
}

// prepareBackend builds bench/servers/backend, the backend of the servers
// with serverDef.Backend.
var prepareBackend = prepareGoBinary("backend", "", "./bench/servers/backend", "--addr", "127.0.0.1:%d")

// backendName is the key of the backend's build in runEnv.prepared.
const backendName = "backend"

// backendURL is the URL a server POSTs its events to.
func (p *serverProc) backendURL() string { return "http://" + p.addr + "/" }

// backendRequests asks the backend how many events it has answered.
func (p *serverProc) backendRequests() (int64, error) {
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(p.backendURL())
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var v struct {
		Requests int64 `json:"requests"`
	}
	return v.Requests, json.NewDecoder(resp.Body).Decode(&v)
}

// freePort asks the kernel for a free loopback port. Another process could
// take it before the server binds it; startServer then fails visibly.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// readRSS returns VmRSS of pid in KiB, from /proc/PID/status.
func readRSS(pid int) (int64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(rest) // "12345 kB"
			if len(f) < 1 {
				break
			}
			return strconv.ParseInt(f[0], 10, 64)
		}
	}
	return 0, errors.New("bench: no VmRSS in /proc status")
}

// clockTicks is USER_HZ, the unit of utime/stime in /proc/PID/stat. It is
// 100 on every Linux architecture Go supports (the kernel ABI fixes it).
const clockTicks = 100

// readCPU returns utime+stime of pid (all threads) in seconds.
func readCPU(pid int) (float64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	// comm (field 2) may hold spaces and parentheses: fields count from the
	// last ')'. After it, field 3 (state) is index 0, utime (14) index 11.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, errors.New("bench: malformed /proc stat")
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0, errors.New("bench: short /proc stat")
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, err
	}
	return float64(ut+st) / clockTicks, nil
}

// tail returns at most the last n bytes of a file, for error messages.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

// benchJWTSecret is the HMAC secret riptide-jwt and its clients share
// (cmd/riptide wants at least 32 bytes).
const benchJWTSecret = "bench-secret-bench-secret-bench-secret"
