package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/riptide-io/riptide/internal/nodetest"
	"github.com/riptide-io/riptide/internal/redistest"
	"github.com/riptide-io/riptide/rooms"
	"github.com/riptide-io/riptide/rooms/redis"
)

// recovery.* reaches the server (middlewares run again on recovery) and, with --redis,
// the Redis adapter; off by default.
func TestRecoveryConfig(t *testing.T) {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	if sr, ro := recovery(flags(t), quiet); sr != nil || ro != nil {
		t.Fatalf("recovery on by default: %+v %+v", sr, ro)
	}
	c := flags(t, "--recovery", "--max-disconnection-duration", "30s")
	sr, ro := recovery(c, quiet)
	if sr == nil || sr.MaxDisconnectionDuration != 30*time.Second || !sr.RunMiddlewares || ro == nil || ro.MaxDisconnectionDuration != 30*time.Second {
		t.Fatalf("recovery %+v %+v", sr, ro)
	}

	c = flags(t, "--addr", "127.0.0.1:0", "--recovery")
	l, srv, err := start(c, quiet)
	if err != nil {
		t.Fatal(err)
	}
	// The in-memory adapter gives recoverable broadcasts an offset only with recovery on.
	pkt := &rooms.Packet{Type: 2, Data: []byte(`["x"]`), ID: -1}
	srv.Of("/").Adapter().Broadcast(pkt, &rooms.Options{})
	if string(pkt.Data) == `["x"]` {
		t.Errorf("no offset: recovery is off in %T", srv.Of("/").Adapter())
	}
	stop(t, l)

	r := redistest.Start(t)
	c = flags(t, "--addr", "127.0.0.1:0", "--recovery", "--redis", r.URL())
	l, srv, err = start(c, quiet)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		stop(t, l)
		_ = redisCluster.Close()
		redisCluster = nil
	}()
	a, ok := srv.Of("/").Adapter().(*redis.Adapter)
	if !ok {
		t.Fatalf("adapter %T", srv.Of("/").Adapter())
	}
	// A session the adapter writes proves Recovery reached it.
	a.PersistSession(&rooms.Session{SID: "s", PID: "p"})
	waitUntil(t, "the session in Redis", func() bool {
		v, _ := r.Do("EXISTS", "socket.io-recovery#/#session#p")
		return v == "1"
	})
}

func stop(t *testing.T, l interface{ Close(context.Context) error }) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = l.Close(ctx)
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	if !eventually(cond) {
		t.Fatalf("timed out waiting for %s", what)
	}
}

// eventually reports whether cond holds within 10 s.
func eventually(cond func() bool) bool {
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			return false
		}
	}
	return true
}

// TestBinaryRecoveryAcrossNodes: two riptide binaries on one Redis with recovery on. The
// real socket.io-client reaches node A through a TCP proxy, so its URL stays the same when
// the proxy switches to node B. It joins a room; A is killed (SIGKILL), drained (SIGTERM)
// or its connection cut; meanwhile a client on B publishes to the room; then the proxy
// points at B and the client reconnects by itself: recovered, same id, still in the room,
// every missed event once and in order, counted again in a presence room, its JWT identity
// attached again (js/riptide-recovery.js). A last case does the same on one node without
// Redis.
func TestBinaryRecoveryAcrossNodes(t *testing.T) {
	nodetest.Setup(t)
	bin := nodetest.BuildGo(t, "./cmd/riptide")
	for _, tc := range []struct {
		name, drop, transports string
		redis                  bool
	}{
		{"killed", "kill", "polling,websocket", true},
		{"drained", "drain", "websocket", true},
		{"cut", "cut", "websocket", true},
		{"single node in memory", "cut", "polling,websocket", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const secret = "a-shared-secret-of-at-least-32-bytes!!"
			env := cleanEnv("RIPTIDE_LISTEN_ADDR=127.0.0.1:0", "RIPTIDE_RECOVERY_ENABLED=true",
				"RIPTIDE_AUTH_JWT_HMAC_SECRET="+secret,
				`RIPTIDE_POLICY_ROOMS=[{"pattern":"user:{sub}","join":"match"},{"pattern":"live:*","join":"anyone","presence":true},`+
					`{"pattern":"*","join":"anyone","publish":"anyone"}]`)
			var r *redistest.Server
			var a, b *testNode
			var adminB string // b's metrics, with Redis
			if tc.redis {
				r = redistest.Start(t)
				env = append(env, "RIPTIDE_REDIS_URL="+r.URL())
				adminB = freeAddr(t)
				a, b = startNode(t, bin, env), startNode(t, bin, append(env, "RIPTIDE_ADMIN_ADDR="+adminB))
			} else {
				a = startNode(t, bin, env)
				b = a // without Redis the client comes back to its node
			}
			p := newProxy(t, a.addr)
			tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "ana", "exp": time.Now().Add(time.Hour).Unix()}).SignedString([]byte(secret))
			if err != nil {
				t.Fatal(err)
			}
			const room = "news"
			ctl := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
				switch req.URL.Path {
				case "/ready":
					var before struct{ PID string }
					_ = json.NewDecoder(req.Body).Decode(&before)
					// The session reaches Redis asynchronously: a node that dies first leaves none.
					if r != nil && !eventually(func() bool {
						v, _ := r.Do("GET", "socket.io-recovery#/#session#"+before.PID)
						var s struct{ Rooms []string }
						return json.Unmarshal([]byte(v), &s) == nil && slices.Contains(s.Rooms, room)
					}) {
						t.Error("the live session never reached Redis")
						http.Error(w, "no session in Redis", 500)
						return
					}
					p.point("") // reconnections fail until the switch
					switch tc.drop {
					case "kill":
						a.kill(t)
					case "drain":
						a.drain(t)
					default:
						p.cut()
					}
					_, _ = io.WriteString(w, tc.drop)
				case "/switch":
					p.point(b.addr)
					_, _ = io.WriteString(w, "ok")
				default:
					http.NotFound(w, req)
				}
			}))
			defer ctl.Close()
			out := nodetest.Decode[struct {
				DisconnectReason string `json:"disconnectReason"`
				After            struct {
					Recovered bool `json:"recovered"`
				} `json:"after"`
				Replayed []json.RawMessage `json:"replayed"`
			}](t, nodetest.Run(t, 60*time.Second, "riptide-recovery.js", "--url", "http://"+p.addr(), "--direct", "http://"+b.addr,
				"--control", ctl.URL, "--token", tok, "--user", "ana", "--room", room, "--n", "10", "--transports", tc.transports, "--stream-offsets", strconv.FormatBool(tc.redis)))
			if !out.After.Recovered || len(out.Replayed) != 10 {
				t.Fatalf("recovered %v, %d replayed (disconnect: %s)", out.After.Recovered, len(out.Replayed), out.DisconnectReason)
			}
			if adminB != "" {
				// b stored what the client sent it and restored the session once.
				m := scrape(t, adminB)
				for name, ok := range map[string]bool{
					`riptide_recovery_broadcasts_total{result="stored"}`:        m[`riptide_recovery_broadcasts_total{result="stored"}`] >= 1,
					`riptide_recovery_broadcasts_total{result="unstored"}`:      m[`riptide_recovery_broadcasts_total{result="unstored"}`] == 0,
					`riptide_recovery_restores_total{result="restored"}`:        m[`riptide_recovery_restores_total{result="restored"}`] == 1,
					`riptide_recovery_errors_total{kind="stream_read"}`:         m[`riptide_recovery_errors_total{kind="stream_read"}`] == 0,
					`riptide_recovery_errors_total{kind="session_write"} found`: hasKey(m, `riptide_recovery_errors_total{kind="session_write"}`),
				} {
					if !ok {
						t.Errorf("metrics of the restoring node: %s is %v", name, m[strings.TrimSuffix(name, " found")])
					}
				}
			}
		})
	}
}

// testNode is a riptide binary the test may end itself: killed (SIGKILL, by PID) or drained
// (SIGTERM); cleanup drains it otherwise.
type testNode struct {
	*process
	ended bool
}

func startNode(t *testing.T, bin string, env []string) *testNode {
	t.Helper()
	n := &testNode{process: launch(t, bin, append([]string{"RIPTIDE_DRAIN_DELAY=0s"}, env...))}
	t.Cleanup(func() {
		if !n.ended {
			n.terminate(t)
		}
	})
	return n
}

// kill ends the node with SIGKILL and waits until it is gone.
func (n *testNode) kill(t *testing.T) {
	n.ended = true
	if err := syscall.Kill(n.cmd.Process.Pid, syscall.SIGKILL); err != nil {
		t.Error(err)
		return
	}
	select {
	case <-n.exited:
	case <-time.After(10 * time.Second):
		t.Error("riptide did not die on SIGKILL")
	}
}

// drain ends the node with SIGTERM (it drains: closes its connections, leaves the
// cluster) and waits for its clean exit.
func (n *testNode) drain(t *testing.T) {
	n.ended = true
	n.terminate(t)
}

// proxy is a TCP proxy on loopback whose backend the test switches; "" refuses
// connections (they are closed at once).
type proxy struct {
	l       net.Listener
	backend atomic.Value // string
	mu      sync.Mutex
	conns   map[net.Conn]struct{}
}

func newProxy(t *testing.T, backend string) *proxy {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{l: l, conns: map[net.Conn]struct{}{}}
	p.point(backend)
	var wg sync.WaitGroup
	t.Cleanup(func() {
		_ = l.Close()
		p.cut()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				p.serve(c)
			}()
		}
	}()
	return p
}

func (p *proxy) addr() string { return p.l.Addr().String() }

func (p *proxy) point(backend string) { p.backend.Store(backend) }

// cut closes every proxied connection, both sides.
func (p *proxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		_ = c.Close()
	}
}

func (p *proxy) serve(c net.Conn) {
	backend := p.backend.Load().(string)
	var up net.Conn
	var err error
	if backend != "" {
		up, err = net.DialTimeout("tcp", backend, time.Second)
	}
	if backend == "" || err != nil {
		_ = c.Close()
		return
	}
	p.mu.Lock()
	p.conns[c], p.conns[up] = struct{}{}, struct{}{}
	p.mu.Unlock()
	done := make(chan struct{}, 2)
	pipe := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		_ = dst.Close()
		_ = src.Close()
		done <- struct{}{}
	}
	go pipe(up, c)
	go pipe(c, up)
	<-done
	<-done
	p.mu.Lock()
	delete(p.conns, c)
	delete(p.conns, up)
	p.mu.Unlock()
}

func hasKey(m map[string]float64, k string) bool { _, ok := m[k]; return ok }
