package nodetest

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/riptide-io/riptide/internal/redistest"
)

// TestCluster runs CONTRACT part 3 (js/cluster/*.js with socket.io-client 4.8) against
// clusters of three nodes sharing a throwaway Redis: Node.js nodes only (socket.io 4.8 with
// @socket.io/redis-adapter 8.3, which proves the scripts right), riptide nodes only (separate
// cmd/conformance processes), and mixed clusters, classic and sharded. Then
// @socket.io/redis-emitter 5.1 reaching riptide clients, and Redis stopped and restarted
// under running riptide nodes.
//
// RIPTIDE_SKIP_CLUSTER=1 skips it.
func TestCluster(t *testing.T) {
	if os.Getenv("RIPTIDE_SKIP_CLUSTER") == "1" {
		t.Skip("RIPTIDE_SKIP_CLUSTER=1")
	}
	t.Parallel()
	Setup(t)
	bin := BuildGo(t, "./cmd/conformance")
	clusters := []struct {
		name       string
		nodes      []string
		sharded    bool
		transports string
	}{
		{"node-only", []string{"node", "node", "node"}, false, "websocket"},
		{"riptide-only", []string{"riptide", "riptide", "riptide"}, false, "polling,websocket"},
		{"mixed", []string{"node", "riptide", "riptide"}, false, "websocket"},
		{"mixed-sharded", []string{"riptide", "node", "riptide"}, true, "websocket"},
	}
	for _, cl := range clusters {
		t.Run(cl.name, func(t *testing.T) {
			t.Parallel()
			r := redistest.Start(t)
			var urls []string
			for i, kind := range cl.nodes {
				urls = append(urls, startClusterNode(t, bin, kind, r, fmt.Sprintf("%s-%d", kind, i), cl.sharded))
			}
			raw := Run(t, 60*time.Second, "cluster/cluster-scenarios.js", "--urls", strings.Join(urls, ","), "--transports", cl.transports)
			res := Decode[struct {
				Checks  int      `json:"checks"`
				NodeIDs []string `json:"nodeIds"`
			}](t, raw)
			if res.Checks < 20 {
				t.Errorf("only %d checks ran", res.Checks)
			}
		})
	}
	t.Run("emitter", func(t *testing.T) {
		t.Parallel()
		r := redistest.Start(t)
		urls := []string{
			startClusterNode(t, bin, "riptide", r, "riptide-0", false),
			startClusterNode(t, bin, "node", r, "node-1", false),
			startClusterNode(t, bin, "riptide", r, "riptide-2", false),
		}
		Run(t, 45*time.Second, "cluster/cluster-emitter.js", "--urls", strings.Join(urls, ","), "--redis", r.URL())
	})
	t.Run("redis-restart", func(t *testing.T) {
		t.Parallel()
		r := redistest.Start(t)
		urls := []string{
			startClusterNode(t, bin, "riptide", r, "riptide-0", false),
			startClusterNode(t, bin, "riptide", r, "riptide-1", false),
		}
		dir := t.TempDir()
		var wg sync.WaitGroup
		wg.Add(1)
		done := make(chan struct{})
		go func() { // the script asks, through files, for Redis to stop and to start
			defer wg.Done()
			wait := func(name string) bool {
				for {
					if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
						return true
					}
					select {
					case <-done:
						return false
					case <-time.After(20 * time.Millisecond):
					}
				}
			}
			if !wait("stop") {
				return
			}
			r.Stop()
			_ = os.WriteFile(filepath.Join(dir, "stopped"), nil, 0o644)
			if !wait("start") {
				return
			}
			r.Restart(t)
			_ = os.WriteFile(filepath.Join(dir, "started"), nil, 0o644)
		}()
		raw := RunEnv(t, 60*time.Second, nil, "cluster/cluster-restart.js", "--urls", strings.Join(urls, ","), "--signal-dir", dir)
		close(done)
		wg.Wait()
		t.Logf("restart: %s", raw)
	})
}

// startClusterNode starts one node of a cluster on r and returns its URL: a Node.js
// socket.io server with @socket.io/redis-adapter, or cmd/conformance (bin) with --redis.
func startClusterNode(t *testing.T, bin, kind string, r *redistest.Server, name string, sharded bool) string {
	t.Helper()
	if kind == "node" {
		args := []string{"--redis", r.URL(), "--node-id", name}
		if sharded {
			args = append(args, "--sharded")
		}
		return refURL(Start(t, "cluster/node-cluster-server.js", args...))
	}
	args := []string{"--suite-addr", "", "--scenario-addr", "127.0.0.1:0", "--redis", r.URL(), "--node-id", name}
	if sharded {
		args = append(args, "--redis-sharded")
	}
	var ports struct {
		Scenario int `json:"scenario"`
	}
	line := StartProgram(t, bin, args...)
	if err := json.Unmarshal(line, &ports); err != nil || ports.Scenario == 0 {
		t.Fatalf("%s: first line %s", bin, line)
	}
	return refURL(ports.Scenario)
}
