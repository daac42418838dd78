package main

import (
	"net"
	"strings"
	"testing"
	"time"
)

// The riptide-jwt row against the real binary: it starts with the flags the
// row gives, refuses a client without a token, and takes every worker session
// with its token. --max-connections-per-user 1 makes the server refuse a
// second socket of one user (CONN_LIMIT_USER), so all sessions connecting
// shows that each carries a user of its own.
func TestRiptideJWTTakesWorkerTokens(t *testing.T) {
	if testing.Short() {
		t.Skip("builds cmd/riptide")
	}
	def, ok := lookupServer("riptide-jwt")
	if !ok || def.JWTSecret == "" {
		t.Fatal("no riptide-jwt server with a JWT secret")
	}
	ctx, env := newTestEnv(t)
	argv, err := def.Prepare(ctx, env)
	if err != nil {
		t.Fatal(err)
	}
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	srv, err := startServer(ctx, env, def.Name, append(argv(port), "--max-connections-per-user", "1"), port, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.stop)

	cfg := workerConfig{
		addr: srv.addr, path: def.Path, srcs: []net.IP{net.ParseIP("127.0.0.1")},
		concurrency: 4, dialTimeout: 5 * time.Second, role: roleIdle, sio: true,
	}
	anon := startWorkerWith(t, cfg)
	anon.send(t, "target 1")
	st := anon.waitFor(t, "the tokenless worker to give up", func(st workerStatus) bool { return st.Target == 1 && st.Done })
	if st.Connected != 0 || !strings.Contains(st.Err, "AUTH_TOKEN_MISSING") {
		t.Fatalf("tokenless worker: %+v, want no session and connect_error AUTH_TOKEN_MISSING", st)
	}

	cfg.jwtSecret, cfg.roomPrefix = def.JWTSecret, "own-"
	h := startWorkerWith(t, cfg)
	h.send(t, "target 20")
	st = h.waitFor(t, "20 sessions", func(st workerStatus) bool { return st.Target == 20 && st.Done })
	if st.Connected != 20 || st.Failed != 0 || st.Lost != 0 {
		t.Fatalf("worker with tokens: %+v, want 20 connected, none failed or lost", st)
	}
}
