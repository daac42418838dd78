package adminui_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/riptide-io/riptide/internal/nodetest"
	"github.com/riptide-io/riptide/internal/redistest"
	"github.com/riptide-io/riptide/rooms/redis"
	"github.com/riptide-io/riptide/server"
	"github.com/riptide-io/riptide/server/adminui"
	"github.com/riptide-io/riptide/server/engine"
)

// TestCluster: two riptide nodes on a real Redis. The UI is connected to node A only and
// sees node B's sockets (all_sockets), statistics and feed, and disconnects a socket of B.
func TestCluster(t *testing.T) {
	nodetest.Setup(t)
	r := redistest.Start(t)
	node := func(id string) string {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		cl, err := redis.Dial(ctx, r.URL(), redis.Options{Key: "adminui-test"})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cl.Close() })
		io, _ := newServer(t, server.Options{NewAdapter: cl.NewAdapter}, adminui.Config{ServerID: id})
		return listen(t, io, engine.ListenConfig{})
	}
	urlA, urlB := node("node-a"), node("node-b")
	var b1, b2 string
	seen := map[string]bool{}
	checks := []nodetest.Check{
		{Step: nodetest.Step{C: "b1", Connect: true}, Want: func(r nodetest.StepResult) error { b1 = r.ID; return nil }},
		{Step: nodetest.Step{C: "b1", Emit: "join", Args: []any{"on-b"}, Ack: true}},
		{Step: nodetest.Step{C: "admin", Connect: true}},
		{Step: nodetest.Step{C: "admin", Expect: "all_sockets"}, Want: func(r nodetest.StepResult) error {
			var socks []sock
			if err := arg(r, 0, &socks); err != nil {
				return err
			}
			if s := findSock(socks, b1); s == nil || len(s.Rooms) != 2 || s.Rooms[1] != "on-b" || s.Transport != "websocket" {
				return fmt.Errorf("node B's socket %s as %+v in %s", b1, s, r.Args[0])
			}
			return nil
		}},
		{Step: nodetest.Step{C: "b2", Connect: true}, Want: func(r nodetest.StepResult) error { b2 = r.ID; return nil }},
		{Step: nodetest.Step{C: "admin", Expect: "socket_connected", With: "$id:b2"}, Want: func(r nodetest.StepResult) error {
			var s sock
			if err := arg(r, 0, &s); err != nil || s.ID != b2 {
				return fmt.Errorf("socket_connected %s, want node B's %s (%v)", r.Args, b2, err)
			}
			return nil
		}},
	}
	checks = append(checks, disconnectChecks("b2", &b2)...)
	// Each node sends its statistics every 200 ms: a dozen in a row hold both.
	for i := range 12 {
		checks = append(checks, nodetest.Check{Step: nodetest.Step{C: "admin", Expect: "server_stats"}, Want: func(r nodetest.StepResult) error {
			var st stats
			if err := arg(r, 0, &st); err != nil {
				return err
			}
			seen[st.ServerID] = true
			if i == 11 && (!seen["node-a"] || !seen["node-b"]) {
				return fmt.Errorf("statistics came from %v, want node-a and node-b", seen)
			}
			return nil
		}})
	}
	sc := nodetest.Scenario{URL: urlB, Transport: "websocket", Clients: map[string]nodetest.ClientDef{
		"admin": {URL: urlA, Nsp: "/admin", Auth: adminAuth},
	}}
	for _, c := range checks {
		sc.Steps = append(sc.Steps, c.Step)
	}
	res := nodetest.RunScenario(t, sc)
	for i, c := range checks {
		if c.Want != nil {
			if err := c.Want(res[i]); err != nil {
				t.Errorf("step %d %+v: %v", i, c.Step, err)
			}
		}
	}
}
