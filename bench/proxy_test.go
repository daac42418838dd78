package main

import (
	"context"
	"os/exec"
	"testing"
	"time"
)

// The riptide-proxy and node-proxy rows against the real servers and the
// real backend: every echo round trip is one event the backend answered, and
// with the backend gone the acks carry the servers' error instead of the
// echo, which the clients do not count as round trips. So the ack really
// comes from the backend, through each server.
func TestProxiedServersEchoThroughBackend(t *testing.T) {
	if testing.Short() {
		t.Skip("builds cmd/riptide and the backend, runs node")
	}
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("no node")
	}
	ctx, env := newTestEnv(t)
	for _, name := range []string{"riptide-proxy", "node-proxy"} {
		t.Run(name, func(t *testing.T) {
			def, ok := lookupServer(name)
			if !ok || !def.Backend {
				t.Fatalf("no server %s with a backend", name)
			}
			srv, err := launch(ctx, env, def)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(srv.stop)
			if srv.backend == nil {
				t.Fatal("launch started no backend")
			}

			h := startRoleWorker(t, srv.addr, roleEcho, "")
			h.send(t, "target 4")
			h.waitFor(t, "4 clients", func(h *roleHarness) bool { return h.last.Connected == 4 && h.last.Done })
			st := echoStats(t, h, 1)
			n, err := srv.backend.backendRequests()
			if err != nil {
				t.Fatal(err)
			}
			if st.Count < 20 || st.Wrong != 0 || st.Broken != 0 || n != st.Count {
				t.Fatalf("stats %+v, backend answered %d: want at least 20 round trips, each one backend request, none wrong", st, n)
			}

			srv.backend.stop()
			st = echoStats(t, h, 2)
			if st.Count != 0 || st.Wrong == 0 || st.Broken != 0 {
				t.Fatalf("without the backend: stats %+v, want only wrong acks (the servers' BACKEND_UNAVAILABLE)", st)
			}
		})
	}
}

// newTestEnv returns a run environment whose scratch directory is the
// test's, and a context that ends after 3 minutes or with the test.
func newTestEnv(t *testing.T) (context.Context, *runEnv) {
	t.Helper()
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	return ctx, &runEnv{root: root, tmp: t.TempDir()}
}

// echoStats runs echo run gen for 300 ms on h's sessions and returns its stats.
func echoStats(t *testing.T, h *roleHarness, gen int64) *workerStats {
	t.Helper()
	h.send(t, "reset %d", gen)
	h.waitFor(t, "reset", func(h *roleHarness) bool { return h.last.Gen == gen })
	h.send(t, "echo %d 300", gen)
	h.waitFor(t, "echo run over", func(h *roleHarness) bool { return h.last.EchoGen == gen })
	h.send(t, "stats %d", gen)
	h.waitFor(t, "stats", func(h *roleHarness) bool { return h.stats[gen] != nil })
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.stats[gen]
}
