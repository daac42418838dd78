package tier_test

import (
	"crypto/hmac"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/riptide-io/riptide/internal/nodetest"
	"github.com/riptide-io/riptide/server"
	"github.com/riptide-io/riptide/server/tier"
)

const backendSecret = "backend-signing-secret"

// testBackend is an application backend: it checks every request's signature and answers
// by kind; the test reads what it got.
type testBackend struct {
	t        testing.TB
	URL      string
	mu       sync.Mutex
	events   []tier.EventRequest
	webhooks []tier.WebhookEvent
	requests atomic.Int64
	mode     atomic.Value // "", "down" (503), "slow", "garbage", "huge"
}

func newTestBackend(t testing.TB) *testBackend {
	b := &testBackend{t: t}
	b.mode.Store("")
	srv := httptest.NewServer(http.HandlerFunc(b.serve))
	t.Cleanup(srv.Close)
	b.URL = srv.URL
	return b
}

func (b *testBackend) serve(w http.ResponseWriter, r *http.Request) {
	b.requests.Add(1)
	body, _ := io.ReadAll(r.Body)
	ts, sig := r.Header.Get("X-Riptide-Timestamp"), r.Header.Get("X-Riptide-Signature")
	if !hmac.Equal([]byte(sig), []byte("v1="+tier.Sign(backendSecret, ts, body))) {
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	switch b.mode.Load().(string) {
	case "down":
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	case "slow":
		time.Sleep(2 * time.Second)
	case "garbage":
		_, _ = w.Write([]byte("<html>oops"))
		return
	case "huge":
		_, _ = w.Write([]byte(`{"ack":["` + strings.Repeat("x", 5000) + `"]}`))
		return
	}
	reply := func(v any) { _ = json.NewEncoder(w).Encode(v) }
	switch r.Header.Get("X-Riptide-Kind") {
	case "connect":
		var req tier.ConnectRequest
		_ = json.Unmarshal(body, &req)
		var auth struct {
			Session string `json:"session"`
		}
		_ = json.Unmarshal(req.Auth, &auth)
		switch auth.Session {
		case "ana-session":
			reply(map[string]any{"user": "ana", "permissions": []string{"admin"}, "data": map[string]any{"name": "Ana"}, "rooms": []string{"team:1"}})
		case "":
			reply(map[string]any{"error": map[string]string{"code": "LOGIN_REQUIRED", "message": "please sign in"}})
		default:
			reply(map[string]any{"user": auth.Session})
		}
	case "event":
		var req tier.EventRequest
		_ = json.Unmarshal(body, &req)
		b.mu.Lock()
		b.events = append(b.events, req)
		b.mu.Unlock()
		switch req.Event {
		case "echo":
			reply(map[string]any{"ack": req.Args})
		case "whoami":
			reply(map[string]any{"ack": []any{map[string]any{"user": req.Socket.User, "claims": req.Socket.Claims}}})
		case "refuse":
			reply(map[string]any{"error": map[string]string{"code": "NOT_TODAY", "message": "try tomorrow"}})
		case "badcode":
			reply(map[string]any{"error": map[string]string{"code": "not a code"}})
		case "shout":
			reply(map[string]any{"actions": []any{
				map[string]any{"join": "hall"},
				map[string]any{"emit": map[string]any{"rooms": []string{"hall"}, "event": "heard", "args": []any{req.Args[0], map[string]string{"$binary": "AQID"}}}},
			}})
		case "bye":
			reply(map[string]any{"ack": []any{"bye"}, "actions": []any{map[string]any{"disconnect": true}}})
		case "seq":
			time.Sleep(time.Duration(10-len(b.events)%10) * time.Millisecond) // later ones answer sooner
			reply(map[string]any{"ack": req.Args})
		default:
			reply(map[string]any{})
		}
	case "join":
		var req tier.JoinRequest
		_ = json.Unmarshal(body, &req)
		if req.Room == "vip:1" && req.Socket.User != "ana" {
			reply(map[string]any{"error": map[string]string{"code": "VIP_ONLY", "message": "members only"}})
			return
		}
		reply(map[string]any{})
	case "webhook":
		var req struct {
			Events []tier.WebhookEvent `json:"events"`
		}
		_ = json.Unmarshal(body, &req)
		b.mu.Lock()
		b.webhooks = append(b.webhooks, req.Events...)
		b.mu.Unlock()
		reply(map[string]any{})
	default:
		http.Error(w, "kind?", http.StatusBadRequest)
	}
}

// serveProxied starts a server whose identity comes from the connect proxy, with events and
// joins proxied to b and webhooks sent to it.
func serveProxied(t *testing.T, b *testBackend, cfg tier.BackendConfig) (url string, wh *tier.Webhooks) {
	t.Helper()
	cfg.URL, cfg.Secret = b.URL, backendSecret
	be, err := tier.NewBackend(cfg)
	if err != nil {
		t.Fatal(err)
	}
	hooks, err := tier.NewBackend(tier.BackendConfig{URL: b.URL, Secret: backendSecret})
	if err != nil {
		t.Fatal(err)
	}
	wh = tier.NewWebhooks(tier.WebhooksConfig{Backend: hooks, Interval: 50 * time.Millisecond})
	p, err := tier.NewPolicy(tier.PolicyConfig{
		Rooms: []tier.RoomRule{
			{Pattern: "vip:*", Join: tier.JoinProxy},
			{Pattern: "team:*"},
			{Pattern: "hall"},
		},
		Events:   []tier.EventRule{{Name: "*", Action: tier.ActionProxy}},
		Strict:   true,
		Backend:  be,
		Webhooks: wh,
	})
	if err != nil {
		t.Fatal(err)
	}
	io := server.New(server.Options{})
	tier.NewConnectProxy(be, []string{"User-Agent"}).Install(io.Of("/"))
	p.Install(io.Of("/"))
	wh.Install(io.Of("/"))
	return listen(t, io, func() { _ = p.Close(); wh.Close() }), wh
}

// TestProxies: the connect proxy grants identities and rooms or refuses with the backend's
// code; events reach the backend, whose reply is the client's ack (binary both ways), its
// refusal, or actions; joins of join: proxy rooms are the backend's decision. With the real
// socket.io-client on both transports.
func TestProxies(t *testing.T) {
	b := newTestBackend(t)
	start := func(t *testing.T) string { url, _ := serveProxied(t, b, tier.BackendConfig{}); return url }
	clients := map[string]nodetest.ClientDef{
		"ana":    {Auth: map[string]any{"session": "ana-session"}},
		"ben":    {Auth: map[string]any{"session": "ben"}},
		"nobody": {},
	}
	ok := func(m map[string]any) error { return nil }
	checks := []nodetest.Check{
		{Step: nodetest.Step{C: "nobody", Connect: true}, Want: func(r nodetest.StepResult) error {
			if r.Connected || r.Error == nil || !strings.Contains(string(r.Error.Data), `"code":"LOGIN_REQUIRED"`) || r.Error.Message != "please sign in" {
				return fmt.Errorf("want connect_error LOGIN_REQUIRED, got %+v", r)
			}
			return nil
		}},
		nodetest.Connect("ana"), nodetest.Connect("ben"),
		{Step: nodetest.Step{C: "ana", Emit: "whoami", Ack: true}, Want: func(r nodetest.StepResult) error {
			m := nodetest.Obj(r.Ack[0])
			c, _ := m["claims"].(map[string]any)
			if m["user"] != "ana" || fmt.Sprint(c["permissions"]) != "[admin]" || fmt.Sprint(c["data"]) != "map[name:Ana]" {
				return fmt.Errorf("whoami %s", r.Ack)
			}
			return nil
		}},
		{Step: nodetest.Step{C: "ana", Emit: "echo", Args: []any{1, "two", map[string]any{"three": 3}}, Ack: true}, Want: func(r nodetest.StepResult) error {
			if len(r.Ack) != 3 || string(r.Ack[0]) != "1" || string(r.Ack[2]) != `{"three":3}` {
				return fmt.Errorf("echo ack %s", r.Ack)
			}
			return nil
		}},
		nodetest.Refused("ana", "refuse", nil, "NOT_TODAY", "try tomorrow"),
		nodetest.Emit("ana", "refuse"),
		nodetest.ErrorEvent("ana", "NOT_TODAY", "try tomorrow"),
		refused("ana", "badcode", nil, tier.BackendError),
		nodetest.EmitAck("ana", "nothing", nil, ok),
		// actions: ben joins hall, then ana's shout reaches him with a binary argument
		nodetest.EmitAck("ben", "shout", []any{"hi"}, ok),
		nodetest.Expect("ben", "heard", nil), // his own: the backend emits to the room, him included
		nodetest.EmitAck("ana", "shout", []any{"hello"}, ok),
		nodetest.Expect("ben", "heard", func(a []json.RawMessage) error {
			if len(a) != 2 || string(a[0]) != `"hello"` || !strings.Contains(string(a[1]), `"type":"Buffer","data":[1,2,3]`) {
				return fmt.Errorf("heard %s", a)
			}
			return nil
		}),
		// the connect proxy's rooms: ana is in team:1, so a publish from ben reaches her
		nodetest.Expect("ana", "heard", nil), // her own shout, through hall
		nodetest.EmitAck("ben", "join", []any{"team:1"}, ok),
		nodetest.EmitAck("ben", "publish", []any{"team:1", "note", "x"}, ok),
		nodetest.Expect("ana", "note", nil),
		// join: proxy
		nodetest.EmitAck("ana", "join", []any{"vip:1"}, ok),
		nodetest.Refused("ben", "join", []any{"vip:1"}, "VIP_ONLY", "members only"),
		// disconnect action
		{Step: nodetest.Step{C: "ben", Emit: "bye", Ack: true}, Want: func(r nodetest.StepResult) error {
			if len(r.Ack) != 1 || string(r.Ack[0]) != `"bye"` {
				return fmt.Errorf("bye ack %s", r.Ack)
			}
			return nil
		}},
		{Step: nodetest.Step{C: "ben", ExpectDisconnect: true}, Want: func(r nodetest.StepResult) error {
			if r.Reason != "io server disconnect" {
				return fmt.Errorf("reason %+v", r)
			}
			return nil
		}},
	}
	nodetest.RunChecks(t, start, clients, checks)
}

// wsConnect opens a WebSocket client and connects it with auth.
func wsConnect(t *testing.T, url string, auth string) *wsClient {
	t.Helper()
	c := dialWS(t, strings.TrimPrefix(url, "http://"))
	c.send("40" + auth)
	if p := c.read(); !strings.HasPrefix(p, "40{") {
		t.Fatalf("connect: %q", p)
	}
	return c
}

// ackOf sends event with ack id id and returns the ack's arguments.
func (c *wsClient) call(id int, event string) string {
	c.send(fmt.Sprintf(`42%d[%q]`, id, event))
	p := c.read()
	prefix := fmt.Sprintf("43%d", id)
	if !strings.HasPrefix(p, prefix) {
		c.t.Fatalf("want the ack %d, got %q", id, p)
	}
	return strings.TrimPrefix(p, prefix)
}

// TestBackendFailures: a backend that is down, slow, over its in-flight bound, or answers
// garbage or too much gives the client a code at once, never a hang; after repeated
// failures the breaker stops asking it until its cooldown is over, and one request then
// finds it back.
func TestBackendFailures(t *testing.T) {
	b := newTestBackend(t)
	url, _ := serveProxied(t, b, tier.BackendConfig{Timeout: 300 * time.Millisecond, MaxReplyBytes: 1000,
		BreakerFailures: 3, BreakerCooldown: 500 * time.Millisecond})
	c := wsConnect(t, url, `{"session":"ben"}`)
	unavailable := `[{"error":{"code":"BACKEND_UNAVAILABLE","message":"service temporarily unavailable"}}]`
	backendErr := `[{"error":{"code":"BACKEND_ERROR","message":"service error"}}]`

	if got := c.call(1, "echo"); got != `[]` {
		t.Fatalf("echo: %s", got)
	}
	b.mode.Store("garbage")
	if got := c.call(2, "echo"); got != backendErr {
		t.Errorf("garbage: %s", got)
	}
	b.mode.Store("huge")
	if got := c.call(3, "echo"); got != backendErr {
		t.Errorf("a reply over the cap: %s", got)
	}
	b.mode.Store("slow")
	start := time.Now()
	if got := c.call(4, "echo"); got != unavailable {
		t.Errorf("slow: %s", got)
	}
	t.Logf("a slow backend answered the client in %v (timeout 300ms)", time.Since(start))
	// Three failures in a row: the breaker is open; the backend is not asked.
	b.mode.Store("down")
	before := b.requests.Load()
	for i := 5; i < 10; i++ {
		if got := c.call(i, "echo"); got != unavailable {
			t.Errorf("breaker open: %s", got)
		}
	}
	if n := b.requests.Load() - before; n != 0 {
		t.Errorf("the backend got %d requests while the breaker was open", n)
	}
	// After the cooldown one request tries; the backend is back.
	b.mode.Store("")
	deadline := time.Now().Add(5 * time.Second)
	for i := 10; ; i++ {
		if got := c.call(i, "echo"); got == `[]` {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the breaker never closed")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestBackendOrderAndBounds: one socket's proxied events reach the backend and are acked
// in the order sent, even when the backend answers later ones sooner; MaxInFlight bounds
// the requests of the node; a backend on a closed port is unavailable.
func TestBackendOrderAndBounds(t *testing.T) {
	b := newTestBackend(t)
	url, _ := serveProxied(t, b, tier.BackendConfig{})
	c := wsConnect(t, url, `{"session":"ana-session"}`)
	const n = 30
	for i := 0; i < n; i++ {
		c.send(fmt.Sprintf(`42%d["seq",%d]`, i, i))
	}
	for i := 0; i < n; i++ {
		if p, want := c.read(), fmt.Sprintf("43%d[%d]", i, i); p != want {
			t.Fatalf("ack %d: got %q, want %q", i, p, want)
		}
	}
	b.mu.Lock()
	for i, e := range b.events[len(b.events)-n:] {
		if fmt.Sprint(e.Args) != fmt.Sprintf("[%d]", i) {
			t.Errorf("backend got event %d with %v", i, e.Args)
		}
	}
	b.mu.Unlock()

	// One request at a time per node: a second socket's event, while the backend is slow
	// with the first, is refused at once.
	url2, _ := serveProxied(t, b, tier.BackendConfig{MaxInFlight: 1, Timeout: 5 * time.Second})
	t.Cleanup(func() { b.mode.Store("") }) // before the servers' webhooks flush
	c1, c2 := wsConnect(t, url2, `{"session":"x"}`), wsConnect(t, url2, `{"session":"y"}`)
	b.mode.Store("slow")
	c1.send(`421["echo"]`)
	time.Sleep(300 * time.Millisecond) // c1's request is in flight (the backend sleeps 2 s)
	if got := c2.call(1, "echo"); got != `[{"error":{"code":"BACKEND_UNAVAILABLE","message":"service temporarily unavailable"}}]` {
		t.Errorf("over MaxInFlight: %s", got)
	}
	if p := c1.read(); p != "431[]" {
		t.Errorf("the request in flight: %q", p)
	}

	// Nothing listens: refused connections are unavailable, not an error.
	be, err := tier.NewBackend(tier.BackendConfig{URL: "http://127.0.0.1:1/"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := be.Call(t.Context(), "event", []byte(`{}`)); err == nil || err.(*tier.Error).Code != tier.BackendUnavailable {
		t.Errorf("closed port: %v", err)
	}
}

// TestWebhooks: connects, joins, leaves and disconnects reach the backend in batches, in
// order; a backend that stays down makes the batch fail after its retries (counted).
func TestWebhooks(t *testing.T) {
	b := newTestBackend(t)
	url, wh := serveProxied(t, b, tier.BackendConfig{})
	c := wsConnect(t, url, `{"session":"ana-session"}`)
	c.send(`421["join","team:7"]`)
	c.read()
	c.send(`422["leave","team:7"]`)
	c.read()
	c.send("41")
	var types []string
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		b.mu.Lock()
		types = types[:0]
		for _, e := range b.webhooks {
			if e.User == "ana" {
				types = append(types, e.Type+":"+e.Room+e.Reason)
			}
		}
		b.mu.Unlock()
		if len(types) >= 4 && wh.Stats().Sent.Load() >= 4 { // counted once the reply is read
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	// team:1 is joined by the connect proxy, outside the policy: not reported.
	if got := strings.Join(types, " "); got != "connect: join:team:7 leave:team:7 disconnect:client namespace disconnect" {
		t.Errorf("webhook events %q", got)
	}
	if wh.Stats().Sent.Load() < 4 {
		t.Errorf("sent %d events, want at least 4", wh.Stats().Sent.Load())
	}

	b.mode.Store("down")
	t.Cleanup(func() { b.mode.Store("") }) // before the first server's webhooks flush
	hooks, _ := tier.NewBackend(tier.BackendConfig{URL: b.URL, Secret: backendSecret})
	w := tier.NewWebhooks(tier.WebhooksConfig{Backend: hooks, Interval: 10 * time.Millisecond, Retries: 1, Queue: 2})
	io := server.New(server.Options{})
	w.Install(io.Of("/"))
	url3 := listen(t, io)
	for i := 0; i < 3; i++ {
		wsConnect(t, url3, "")
	}
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if s := w.Stats(); s.Failed.Load()+s.Dropped.Load() == 3 {
			break
		}
	}
	w.Close()
	if s := w.Stats(); s.Failed.Load()+s.Dropped.Load() != 3 || s.Sent.Load() != 0 {
		t.Errorf("down backend: sent %d failed %d dropped %d, want 3 failed or dropped", s.Sent.Load(), s.Failed.Load(), s.Dropped.Load())
	}
}
