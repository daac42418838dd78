package adminui_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/riptide-io/riptide/internal/nodetest"
	"github.com/riptide-io/riptide/server"
	"github.com/riptide-io/riptide/server/adminui"
	"github.com/riptide-io/riptide/server/engine"
)

var adminAuth = map[string]string{"username": adminUser, "password": adminPass}

// TestProtocol drives riptide's admin namespace with the real socket.io-client acting as the
// UI (as the UI's own code connects: namespace /admin, auth {username, password}) while
// other clients come, join rooms, talk and are disconnected by the UI's action.
func TestProtocol(t *testing.T) {
	nodetest.Setup(t)
	var c1, c2, adminID string
	var traffic map[string]int
	start := func(t *testing.T) string {
		traffic = map[string]int{}
		io, _ := newServer(t, server.Options{}, adminui.Config{ServerID: "node-a", Events: true})
		return listen(t, io, engine.ListenConfig{})
	}
	checks := []nodetest.Check{
		{Step: nodetest.Step{C: "bad", Connect: true}, Want: func(r nodetest.StepResult) error {
			if r.Connected || r.Error == nil || r.Error.Message != "invalid credentials" {
				return fmt.Errorf("a wrong password: %+v", r)
			}
			return nil
		}},
		{Step: nodetest.Step{C: "c1", Connect: true}, Want: func(r nodetest.StepResult) error { c1 = r.ID; return nil }},
		{Step: nodetest.Step{C: "c1", Emit: "join", Args: []any{"lobby"}, Ack: true}},
		{Step: nodetest.Step{C: "admin", Connect: true}, Want: func(r nodetest.StepResult) error {
			adminID = r.ID
			if !r.Connected {
				return fmt.Errorf("the admin was refused: %+v", r.Error)
			}
			return nil
		}},
		{Step: nodetest.Step{C: "admin", Expect: "session"}, Want: func(r nodetest.StepResult) error {
			var id string
			if err := arg(r, 0, &id); err != nil || len(id) < 16 {
				return fmt.Errorf("session %q: %v", id, err)
			}
			return nil
		}},
		{Step: nodetest.Step{C: "admin", Expect: "config"}, Want: func(r nodetest.StepResult) error {
			var cfg struct{ SupportedFeatures []string }
			if err := arg(r, 0, &cfg); err != nil {
				return err
			}
			for _, f := range []string{"DISCONNECT", "MDISCONNECT", "JOIN", "LEAVE", "EMIT", "AGGREGATED_EVENTS", "ALL_EVENTS"} {
				if !slices.Contains(cfg.SupportedFeatures, f) {
					return fmt.Errorf("features %v lack %s", cfg.SupportedFeatures, f)
				}
			}
			return nil
		}},
		{Step: nodetest.Step{C: "admin", Expect: "all_sockets"}, Want: func(r nodetest.StepResult) error {
			var socks []sock
			if err := arg(r, 0, &socks); err != nil {
				return err
			}
			s := findSock(socks, c1)
			if s == nil || s.Nsp != "/" || len(s.ClientID) != 12 || s.Transport == "" || s.Handshake.Address != "127.0.0.1" ||
				!slices.Equal(s.Rooms, []string{c1, "lobby"}) || string(s.Data) != "{}" || s.Handshake.Headers["host"] == "" ||
				s.Handshake.Query["EIO"] != "4" {
				return fmt.Errorf("c1 %s as %+v in %s", c1, s, r.Args[0])
			}
			if a := findSock(socks, adminID); a == nil || a.Nsp != "/admin" {
				return fmt.Errorf("the admin socket %s as %+v", adminID, a)
			}
			return nil
		}},
		{Step: nodetest.Step{C: "admin", Expect: "server_stats"}, Want: func(r nodetest.StepResult) error {
			var st stats
			if err := arg(r, 0, &st); err != nil {
				return err
			}
			if st.ServerID != "node-a" || st.Hostname == "" || st.PID == 0 || st.ClientsCount != 2 {
				return fmt.Errorf("stats %s", r.Args[0])
			}
			want := map[string]int{"/": 1, "/admin": 1}
			for _, n := range st.Namespaces {
				if want[n.Name] == n.SocketsCount {
					delete(want, n.Name)
				}
			}
			if len(want) > 0 {
				return fmt.Errorf("namespaces %+v lack %v", st.Namespaces, want)
			}
			return nil
		}},
		{Step: nodetest.Step{C: "c2", Connect: true}, Want: func(r nodetest.StepResult) error { c2 = r.ID; return nil }},
		// (The admin's own socket may be reported too: the observer may start before it is.)
		{Step: nodetest.Step{C: "admin", Expect: "socket_connected", With: "$id:c2"}, Want: func(r nodetest.StepResult) error {
			var s sock
			if err := arg(r, 0, &s); err != nil {
				return err
			}
			if s.ID != c2 || s.Nsp != "/" || !slices.Equal(s.Rooms, []string{c2}) {
				return fmt.Errorf("socket_connected %s, want c2 %s", r.Args[0], c2)
			}
			return nil
		}},
		{Step: nodetest.Step{C: "c2", Emit: "join", Args: []any{"room2"}, Ack: true}},
		{Step: nodetest.Step{C: "admin", Expect: "room_joined", With: "$id:c2"}, Want: func(r nodetest.StepResult) error {
			return wantArgs(r, "/", "room2", c2)
		}},
		{Step: nodetest.Step{C: "admin", Expect: "event_received", With: "$id:c2"}, Want: func(r nodetest.StepResult) error {
			return wantEvent(r, c2, `["join","room2"]`)
		}},
		{Step: nodetest.Step{C: "c1", Emit: "hello", Args: []any{1, "x"}}},
		{Step: nodetest.Step{C: "admin", Expect: "event_received", With: "$id:c1"}, Want: func(r nodetest.StepResult) error {
			return wantEvent(r, c1, `["hello",1,"x"]`)
		}},
		{Step: nodetest.Step{C: "admin", Expect: "event_sent", With: "$id:c1"}, Want: func(r nodetest.StepResult) error {
			return wantEvent(r, c1, `["welcome",1,"x"]`)
		}},
		{Step: nodetest.Step{C: "c1", Emit: "leave", Args: []any{"lobby"}, Ack: true}},
		{Step: nodetest.Step{C: "admin", Expect: "room_left", With: "$id:c1"}, Want: func(r nodetest.StepResult) error {
			return wantArgs(r, "/", "lobby", c1)
		}},
	}
	checks = append(checks, disconnectChecks("c2", &c2)...)
	// Ten statistics in a row cover the scenario: the traffic above is counted in them.
	for range 10 {
		checks = append(checks, nodetest.Check{Step: nodetest.Step{C: "admin", Expect: "server_stats"}, Want: func(r nodetest.StepResult) error {
			var st stats
			if err := arg(r, 0, &st); err != nil {
				return err
			}
			for _, e := range st.AggregatedEvents {
				traffic[e.Type] += e.Count
			}
			return nil
		}})
	}
	checks[len(checks)-1].Want = func(r nodetest.StepResult) error {
		var st stats
		if err := arg(r, 0, &st); err != nil {
			return err
		}
		for _, e := range st.AggregatedEvents {
			traffic[e.Type] += e.Count
		}
		for _, typ := range []string{"rawConnection", "rawDisconnection", "packetsIn", "packetsOut", "bytesIn", "bytesOut"} {
			if traffic[typ] == 0 {
				return fmt.Errorf("no %s in the aggregated events: %v", typ, traffic)
			}
		}
		return nil
	}
	nodetest.RunChecks(t, start, map[string]nodetest.ClientDef{
		"bad":   {Nsp: "/admin", Auth: map[string]string{"username": adminUser, "password": "wrong"}},
		"admin": {Nsp: "/admin", Auth: adminAuth},
	}, checks)
}

// disconnectChecks are the UI's disconnect button on the socket of client name (whose id the
// test keeps in id): _disconnect(nsp, close, socket id as the room filter), then what that
// client and the feed see.
func disconnectChecks(name string, id *string) []nodetest.Check {
	return []nodetest.Check{
		{Step: nodetest.Step{C: "admin", Emit: "_disconnect", Args: []any{"/", false, "$id:" + name}}},
		{Step: nodetest.Step{C: name, ExpectDisconnect: true, Ms: 5000}, Want: func(r nodetest.StepResult) error {
			if r.Reason != "io server disconnect" {
				return fmt.Errorf("%s: %+v", name, r)
			}
			return nil
		}},
		{Step: nodetest.Step{C: "admin", Expect: "socket_disconnected", With: "$id:" + name}, Want: func(r nodetest.StepResult) error {
			return wantArgs(r, "/", *id, "server namespace disconnect")
		}},
	}
}

// wantEvent checks an event_received or event_sent: namespace "/", socket id, the event as
// [name, args...], and a date.
func wantEvent(r nodetest.StepResult, id, event string) error {
	if r.Timeout || len(r.Args) != 4 {
		return fmt.Errorf("got %s", r.Args)
	}
	var nsp, sid string
	_ = json.Unmarshal(r.Args[0], &nsp)
	_ = json.Unmarshal(r.Args[1], &sid)
	if nsp != "/" || sid != id || string(r.Args[2]) != event {
		return fmt.Errorf("got %s, want / %s %s", r.Args, id, event)
	}
	return nil
}

// TestSession: the UI reconnects with the session id it was given instead of the password
// (as it does on reload); a forged or mangled one is refused.
func TestSession(t *testing.T) {
	nodetest.Setup(t)
	io, _ := newServer(t, server.Options{}, adminui.Config{})
	url := listen(t, io, engine.ListenConfig{})
	res := nodetest.RunScenario(t, nodetest.Scenario{URL: url, Transport: "websocket",
		Clients: map[string]nodetest.ClientDef{"admin": {Nsp: "/admin", Auth: adminAuth}},
		Steps:   []nodetest.Step{{C: "admin", Connect: true}, {C: "admin", Expect: "session"}}})
	var session string
	if err := arg(res[1], 0, &session); err != nil || !res[0].Connected {
		t.Fatalf("login: %+v %+v", res[0], res[1])
	}
	forged := []byte(session)
	forged[len(forged)-1] ^= 1
	res = nodetest.RunScenario(t, nodetest.Scenario{URL: url, Transport: "polling",
		Clients: map[string]nodetest.ClientDef{
			"again":  {Nsp: "/admin", Auth: map[string]string{"sessionId": session}},
			"forged": {Nsp: "/admin", Auth: map[string]string{"sessionId": string(forged)}},
		},
		Steps: []nodetest.Step{{C: "again", Connect: true}, {C: "again", Expect: "all_sockets"}, {C: "forged", Connect: true}}})
	if !res[0].Connected || res[1].Timeout {
		t.Errorf("with its session id: %+v, %+v", res[0], res[1])
	}
	if res[2].Connected || res[2].Error == nil || res[2].Error.Message != "invalid credentials" {
		t.Errorf("with a forged session id: %+v", res[2])
	}
}

// runAdmin runs steps on WebSocket against a new server with the UI installed with cfg;
// client "admin" is the UI, logged in with the password.
func runAdmin(t *testing.T, cfg adminui.Config, steps ...nodetest.Step) []nodetest.StepResult {
	nodetest.Setup(t)
	io, _ := newServer(t, server.Options{}, cfg)
	return nodetest.RunScenario(t, nodetest.Scenario{URL: listen(t, io, engine.ListenConfig{}), Transport: "websocket",
		Clients: map[string]nodetest.ClientDef{"admin": {Nsp: "/admin", Auth: adminAuth}}, Steps: steps})
}

// features returns the supported features of a "config" expect step.
func features(t *testing.T, r nodetest.StepResult) []string {
	t.Helper()
	var cfg struct{ SupportedFeatures []string }
	if err := arg(r, 0, &cfg); err != nil {
		t.Fatalf("config: %v (%+v)", err, r)
	}
	return cfg.SupportedFeatures
}

// TestReadOnly: a read-only UI is offered no action, and its requests do nothing.
func TestReadOnly(t *testing.T) {
	res := runAdmin(t, adminui.Config{ReadOnly: true},
		nodetest.Step{C: "c", Connect: true},
		nodetest.Step{C: "admin", Connect: true},
		nodetest.Step{C: "admin", Expect: "config"},
		nodetest.Step{C: "admin", Emit: "_disconnect", Args: []any{"/", true}},
		nodetest.Step{C: "c", ExpectDisconnect: true, Ms: 1000})
	if f := features(t, res[2]); !slices.Equal(f, []string{"AGGREGATED_EVENTS", "ALL_EVENTS"}) {
		t.Errorf("features %v", f)
	}
	if !res[4].Timeout {
		t.Errorf("a read-only UI disconnected a socket: %+v", res[4])
	}
}

// TestProduction: in production mode the UI gets statistics only, no socket list or feed.
func TestProduction(t *testing.T) {
	res := runAdmin(t, adminui.Config{Production: true},
		nodetest.Step{C: "admin", Connect: true},
		nodetest.Step{C: "admin", Expect: "config"},
		nodetest.Step{C: "admin", Expect: "server_stats"},
		nodetest.Step{C: "c", Connect: true},
		nodetest.Step{C: "admin", None: "socket_connected", Ms: 500},
		nodetest.Step{C: "admin", None: "all_sockets", Ms: 10})
	if f := features(t, res[1]); slices.Contains(f, "ALL_EVENTS") {
		t.Errorf("features %v", f)
	}
	if res[2].Timeout || !res[4].Timeout || !res[5].Timeout {
		t.Errorf("production mode: stats %+v, socket_connected %+v, all_sockets %+v", res[2], res[4], res[5])
	}
}

// TestObservesOnlyWhileWatched: the server carries no observer until a UI connects, and
// drops it once the last UI left and the watch lease ran out.
func TestObservesOnlyWhileWatched(t *testing.T) {
	nodetest.Setup(t)
	io, _ := newServer(t, server.Options{}, adminui.Config{StatsInterval: 100 * time.Millisecond})
	url := listen(t, io, engine.ListenConfig{})
	observed := io.Observing
	if observed() {
		t.Fatal("observed before any UI connected")
	}
	res := nodetest.RunScenario(t, nodetest.Scenario{URL: url, Transport: "websocket",
		Clients: map[string]nodetest.ClientDef{"admin": {Nsp: "/admin", Auth: adminAuth}},
		Steps:   []nodetest.Step{{C: "admin", Connect: true}, {C: "admin", Expect: "all_sockets"}}})
	if !res[0].Connected {
		t.Fatalf("admin: %+v", res[0])
	}
	// The scenario's client has left; the lease is 3 intervals (300 ms).
	deadline := time.Now().Add(10 * time.Second)
	for observed() {
		if time.Now().After(deadline) {
			t.Fatal("still observed 10 s after the last UI left")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestInstallErrors: what Install refuses.
func TestInstallErrors(t *testing.T) {
	cases := []struct {
		cfg  adminui.Config
		want error
	}{
		{adminui.Config{}, adminui.ErrNoAuth},
		{adminui.Config{Username: "a", PasswordHash: "plain"}, adminui.ErrBadHash},
		{adminui.Config{NoAuth: true, Namespace: "/"}, adminui.ErrBadNamespace},
	}
	for _, c := range cases {
		if _, err := adminui.Install(server.New(server.Options{}), c.cfg); !errors.Is(err, c.want) {
			t.Errorf("%+v: %v, want %v", c.cfg, err, c.want)
		}
	}
	io := server.New(server.Options{})
	ui, err := adminui.Install(io, adminui.Config{NoAuth: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ui.Close()
	if _, err := adminui.Install(io, adminui.Config{NoAuth: true, Namespace: "/admin2"}); !errors.Is(err, server.ErrObserved) {
		t.Errorf("a second Install on one server: %v", err)
	}
}
