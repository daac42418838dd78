package main

import (
	"encoding/json"
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/riptide-io/riptide/internal/nodetest"
	"github.com/riptide-io/riptide/internal/redistest"
)

const (
	backendSecret = "riptide-to-backend-signing-secret"
	usersSecret   = "the-app-signs-its-users-tokens-with-this"
)

// ackIs checks that the ack's first argument, as JSON, is want.
func ackIs(c, event string, args []any, want string) nodetest.Check {
	return nodetest.Check{Step: nodetest.Step{C: c, Emit: event, Args: args, Ack: true}, Want: func(r nodetest.StepResult) error {
		if r.Timeout || len(r.Ack) == 0 || string(r.Ack[0]) != want {
			return fmt.Errorf("ack %s, want %s", r.Ack, want)
		}
		return nil
	}}
}

// freeAddr returns a free loopback address.
func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func httpStep(method, url string, body any) nodetest.Check {
	return nodetest.Check{Step: nodetest.Step{HTTP: &nodetest.HTTPStep{Method: method, URL: url, Body: body}}, Want: func(r nodetest.StepResult) error {
		if r.Status != 200 {
			return fmt.Errorf("HTTP %d %s", r.Status, r.Body)
		}
		return nil
	}}
}

// The Node chat app's server logic as riptide's backend, unchanged in spirit: an Express
// app (its token check and user lookup in the connect proxy; its permission check and
// message validation answering proxied events, through the client's ack; pushes to rooms
// through the server API) behind two riptide nodes on Redis, with clients on both, on
// polling and WebSocket. Then the backend goes down, answers garbage and hangs: the clients
// get BACKEND_UNAVAILABLE or BACKEND_ERROR at once, or after backend.timeout, never a hang.
func TestBinaryExpressBackend(t *testing.T) {
	nodetest.Setup(t)
	bin := nodetest.BuildGo(t, "./cmd/riptide")
	r := redistest.Start(t)
	const apiKey = "the-backend-calls-riptide-with-this"
	admin := [2]string{freeAddr(t), freeAddr(t)}
	bport := nodetest.Start(t, "backend-express.js", "--secret", backendSecret, "--jwt-secret", usersSecret,
		"--api", "http://"+admin[0], "--api-key", apiKey)
	backend := "http://127.0.0.1:" + strconv.Itoa(bport)
	env := cleanEnv("RIPTIDE_LISTEN_ADDR=127.0.0.1:0", "RIPTIDE_REDIS_URL="+r.URL(),
		"RIPTIDE_BACKEND_URL="+backend+"/riptide", "RIPTIDE_BACKEND_CONNECT=true", "RIPTIDE_BACKEND_SECRET="+backendSecret,
		"RIPTIDE_BACKEND_TIMEOUT=1s", "RIPTIDE_BACKEND_BREAKER_FAILURES=50",
		`RIPTIDE_POLICY_ROOMS=[{"pattern":"chat:*"},{"pattern":"user:{sub}","join":"server"}]`,
		`RIPTIDE_POLICY_EVENTS=[{"name":"message","action":"proxy"},{"name":"admin-action","action":"proxy"}]`,
		"RIPTIDE_ADMIN_API_KEYS="+apiKey, "RIPTIDE_WEBHOOKS_URL="+backend+"/riptide", "RIPTIDE_WEBHOOKS_INTERVAL=100ms")
	var nodes [2]string
	for i := range nodes {
		_, addr := serve(t, bin, env, "--admin-addr", admin[i])
		nodes[i] = "http://" + addr
	}
	apiStep := func(node int, path string, body any, want func(m map[string]any) error) nodetest.Check {
		return nodetest.Check{Step: nodetest.Step{HTTP: &nodetest.HTTPStep{Method: "POST", URL: "http://" + admin[node] + path, Body: body,
			Headers: map[string]string{"Authorization": "Bearer " + apiKey}}}, Want: func(r nodetest.StepResult) error {
			var m map[string]any
			_ = json.Unmarshal(r.Body, &m)
			if r.Status != 200 {
				return fmt.Errorf("HTTP %d %s", r.Status, r.Body)
			}
			return want(m)
		}}
	}
	token := func(id string) map[string]any {
		tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"id": id, "exp": time.Now().Add(time.Hour).Unix()}).SignedString([]byte(usersSecret))
		if err != nil {
			t.Fatal(err)
		}
		return map[string]any{"token": tok}
	}
	clients := map[string]nodetest.ClientDef{
		"ana":     {URL: nodes[0], Auth: token("ana")},
		"ben":     {URL: nodes[1], Auth: token("ben")},
		"mallory": {URL: nodes[1], Auth: map[string]any{"token": "not-a-token"}},
		"nobody":  {URL: nodes[0]},
	}
	refusedWith := func(c, code string) nodetest.Check {
		return nodetest.Check{Step: nodetest.Step{C: c, Connect: true}, Want: func(r nodetest.StepResult) error {
			if r.Connected || r.Error == nil || !strings.Contains(string(r.Error.Data), `"code":"`+code+`"`) {
				return fmt.Errorf("want connect_error %s, got %+v", code, r)
			}
			return nil
		}}
	}
	mode := func(m string) nodetest.Check { return httpStep("POST", backend+"/mode", map[string]string{"mode": m}) }
	unavailable := `{"error":{"code":"BACKEND_UNAVAILABLE","message":"service temporarily unavailable"}}`
	checks := []nodetest.Check{
		refusedWith("mallory", "AUTH_FAILED"),
		refusedWith("nobody", "AUTH_REQUIRED"),
		nodetest.Connect("ana"), nodetest.Connect("ben"),
		nodetest.EmitAck("ana", "join", []any{"chat:general"}, nil),
		nodetest.EmitAck("ben", "join", []any{"chat:general"}, nil),
		ackIs("ana", "message", []any{map[string]any{"content": "hi"}}, `{"received":true}`),
		nodetest.Expect("ana", "reply", func(a []json.RawMessage) error {
			if string(a[0]) != `"message received"` {
				return fmt.Errorf("reply %s", a)
			}
			return nil
		}),
		ackIs("ana", "message", []any{map[string]any{}}, `{"error":{"code":"VALIDATION_ERROR","message":"invalid message"}}`),
		ackIs("ben", "admin-action", []any{map[string]any{"op": "kick"}}, `{"error":{"code":"FORBIDDEN","message":"insufficient permissions"}}`),
		ackIs("ana", "admin-action", []any{map[string]any{"op": "kick"}}, `{"done":"kick"}`),
		// across the nodes through Redis: ben on node B publishes, ana on node A gets it
		nodetest.EmitAck("ben", "publish", []any{"chat:general", "note", "from B"}, nil),
		nodetest.Expect("ana", "note", nil),
		// the backend pushes to the room through the server API of node A: both nodes' clients get it
		httpStep("POST", backend+"/push", map[string]any{"room": "chat:general", "event": "news", "args": []any{"pushed"}}),
		nodetest.Expect("ana", "news", nil),
		nodetest.Expect("ben", "news", func(a []json.RawMessage) error {
			if string(a[0]) != `"pushed"` {
				return fmt.Errorf("news %s", a)
			}
			return nil
		}),
		// node A's API sees ben on node B, with his identity and rooms
		apiStep(0, "/api/sockets", map[string]any{"user": "ben"}, func(m map[string]any) error {
			socks, _ := m["sockets"].([]any)
			if len(socks) != 1 {
				return fmt.Errorf("ben's sockets %v", m)
			}
			if s := socks[0].(map[string]any); s["user"] != "ben" || fmt.Sprint(s["rooms"]) != "[user:ben chat:general]" || s["node"] == "" || s["node"] == nil {
				return fmt.Errorf("ben's socket %v", s)
			}
			return nil
		}),
		// the backend misbehaves
		mode("down"),
		ackIs("ana", "message", []any{map[string]any{"content": "hi"}}, unavailable),
		mode("garbage"),
		ackIs("ben", "message", []any{map[string]any{"content": "hi"}}, `{"error":{"code":"BACKEND_ERROR","message":"service error"}}`),
		mode("slow"),
		ackIs("ana", "message", []any{map[string]any{"content": "hi"}}, unavailable),
		mode(""),
		ackIs("ana", "message", []any{map[string]any{"content": "back"}}, `{"received":true}`),
		{Step: nodetest.Step{HTTP: &nodetest.HTTPStep{URL: backend + "/seen"}}, Want: func(r nodetest.StepResult) error {
			var seen struct {
				Events   []struct{ User, Event string } `json:"events"`
				Webhooks []struct{ Type, User, Room string }
			}
			_ = json.Unmarshal(r.Body, &seen)
			hooks := map[string]bool{}
			for _, w := range seen.Webhooks {
				hooks[w.Type+" "+w.User+" "+w.Room] = true
			}
			if !hooks["connect ana "] || !hooks["join ana chat:general"] || !hooks["join ben chat:general"] {
				return fmt.Errorf("webhooks received: %v", seen.Webhooks)
			}
			n := 0
			for _, e := range seen.Events {
				if e.User == "ana" && e.Event == "message" {
					n++
				}
			}
			if n < 3 {
				return fmt.Errorf("the backend saw %d of ana's messages: %s", n, r.Body)
			}
			return nil
		}},
		// node B disconnects every socket of ana (on node A) through the API
		apiStep(1, "/api/disconnect", map[string]any{"user": "ana"}, func(map[string]any) error { return nil }),
		{Step: nodetest.Step{C: "ana", ExpectDisconnect: true}, Want: func(r nodetest.StepResult) error {
			if r.Reason != "io server disconnect" {
				return fmt.Errorf("ana: %+v", r)
			}
			return nil
		}},
	}
	nodetest.RunChecks(t, func(*testing.T) string { return nodes[0] }, clients, checks)
}

// A backend in Python's standard library: it authenticates connections and answers events
// (cmd/riptide/testdata/backend.py).
func TestBinaryPythonBackend(t *testing.T) {
	nodetest.Setup(t)
	bin := nodetest.BuildGo(t, "./cmd/riptide")
	port := nodetest.StartBinary(t, "python3", "cmd/riptide/testdata/backend.py", backendSecret)
	env := cleanEnv("RIPTIDE_LISTEN_ADDR=127.0.0.1:0", "RIPTIDE_BACKEND_URL=http://127.0.0.1:"+strconv.Itoa(port)+"/",
		"RIPTIDE_BACKEND_CONNECT=true", "RIPTIDE_BACKEND_SECRET="+backendSecret,
		`RIPTIDE_POLICY_EVENTS=[{"name":"echo","action":"proxy"},{"name":"whoami","action":"proxy"},{"name":"other","action":"proxy"}]`)
	_, addr := serve(t, bin, env)
	clients := map[string]nodetest.ClientDef{
		"ana":      {Auth: map[string]any{"token": "user:ana"}},
		"stranger": {Auth: map[string]any{"token": "hello"}},
	}
	checks := []nodetest.Check{
		{Step: nodetest.Step{C: "stranger", Connect: true}, Want: func(r nodetest.StepResult) error {
			if r.Connected || r.Error == nil || r.Error.Message != "who are you?" {
				return fmt.Errorf("want connect_error PY_AUTH, got %+v", r)
			}
			return nil
		}},
		nodetest.Connect("ana"),
		{Step: nodetest.Step{C: "ana", Emit: "echo", Args: []any{1, "two"}, Ack: true}, Want: func(r nodetest.StepResult) error {
			if len(r.Ack) != 2 || string(r.Ack[0]) != "1" || string(r.Ack[1]) != `"two"` {
				return fmt.Errorf("echo ack %s", r.Ack)
			}
			return nil
		}},
		ackIs("ana", "whoami", nil, `"ana"`),
		ackIs("ana", "other", nil, `{"error":{"code":"PY_UNKNOWN","message":"unknown event"}}`),
	}
	nodetest.RunChecks(t, func(*testing.T) string { return "http://" + addr }, clients, checks)
}
