package tier_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"github.com/riptide-io/riptide/server"
	"github.com/riptide-io/riptide/server/tier"
)

// apiCall POSTs body to the API with key and returns the status and the decoded answer.
func apiCall(t *testing.T, url, key, path, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url+path, strings.NewReader(body))
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

// TestServerAPI: emit to a user, a room, a socket, everyone but a room; join, leave and
// disconnect by user; fetch sockets by pages; rooms with counts; a batch; keys, bodies and
// requests that are refused. (Across two nodes: cmd/riptide's backend tests.)
func TestServerAPI(t *testing.T) {
	v := newVerifier(t, func() tier.JWTConfig { c := baseConfig(t); c.KeepClaims = true; return c }())
	io := server.New(server.Options{})
	io.Use(tier.Auth(v))
	api := tier.NewAPI(io, tier.APIConfig{Keys: []string{"key-1", "key-2"}, MaxBodyBytes: 4096, MaxPage: 2})
	api.Install(io.Of("/"))
	url := listen(t, io)
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)

	connect := func(user string) *wsClient {
		tok := mint(t, jwt.SigningMethodHS256, getKeys(t).hmac, "hs", claims(user))
		return wsConnect(t, url, `{"token":"`+tok+`"}`)
	}
	ana1, ana2, ben := connect("ana"), connect("ana"), connect("ben")

	call := func(path, body string) map[string]any {
		t.Helper()
		status, m := apiCall(t, srv.URL, "key-2", path, body)
		if status != 200 {
			t.Fatalf("%s %s: %d %v", path, body, status, m)
		}
		return m
	}
	call("/api/emit", `{"event":"note","args":["to ana",{"$binary":"AQID"}],"user":"ana"}`)
	for _, c := range []*wsClient{ana1, ana2} {
		if p := c.read(); !strings.HasPrefix(p, `451-["note","to ana",{"_placeholder":true,"num":0}]`) {
			t.Errorf("ana got %q", p)
		}
		c.read() // the attachment
	}
	call("/api/join", `{"user":"ben","rooms":["news"]}`)
	call("/api/emit", `{"event":"news","args":[1],"rooms":["news"]}`)
	if p := ben.read(); p != `42["news",1]` {
		t.Errorf("ben got %q", p)
	}
	call("/api/emit", `{"event":"all","except":["news"]}`)
	for _, c := range []*wsClient{ana1, ana2} {
		if p := c.read(); p != `42["all"]` {
			t.Errorf("ana got %q", p)
		}
	}
	m := call("/api/sockets", `{"user":"ana"}`)
	if socks := m["sockets"].([]any); len(socks) != 2 || m["next"] != "" {
		t.Errorf("ana's sockets: %v", m)
	}
	// Pages of two: three sockets, then nothing left.
	m = call("/api/sockets", `{}`)
	page, next := m["sockets"].([]any), m["next"].(string)
	m = call("/api/sockets", `{"after":"`+next+`"}`)
	if len(page) != 2 || next == "" || len(m["sockets"].([]any)) != 1 || m["next"] != "" {
		t.Errorf("pages: %v then %v", page, m)
	}
	if s := m["sockets"].([]any)[0].(map[string]any); s["user"] == nil || s["rooms"] == nil {
		t.Errorf("a socket: %v", s)
	}
	m = call("/api/rooms", `{}`)
	if b, _ := json.Marshal(m["rooms"]); string(b) != `[{"members":1,"name":"news"}]` {
		t.Errorf("rooms: %s", b)
	}
	m = call("/api/batch", `{"commands":[{"op":"leave","user":"ben","rooms":["news"]},{"op":"rooms"},{"op":"fly"}]}`)
	if b, _ := json.Marshal(m["results"]); !strings.HasPrefix(string(b), `[{"ok":true},{"rooms":[]},{"error":{"code":"BAD_REQUEST"`) {
		t.Errorf("batch: %s", b)
	}
	call("/api/disconnect", `{"user":"ana"}`)
	for _, c := range []*wsClient{ana1, ana2} {
		if p := c.read(); p != "41" {
			t.Errorf("ana got %q, want a disconnect", p)
		}
	}

	for _, c := range []struct {
		key, path, body string
		status          int
		code            string
	}{
		{"", "/api/emit", `{"event":"x"}`, 401, "UNAUTHORIZED"},
		{"key-3", "/api/emit", `{"event":"x"}`, 401, "UNAUTHORIZED"},
		{"key-1", "/api/emit", `{"event":"connect"}`, 400, "BAD_REQUEST"},
		{"key-1", "/api/emit", `{"event":"x","colour":1}`, 400, "BAD_REQUEST"},
		{"key-1", "/api/emit", `{"event":"` + strings.Repeat("x", 5000) + `"}`, 413, "BODY_TOO_LARGE"},
		{"key-1", "/api/join", `{"rooms":["a"]}`, 400, "BAD_REQUEST"},
		{"key-1", "/api/join", `{"user":"a","socket":"b","rooms":["a"]}`, 400, "BAD_REQUEST"},
		{"key-1", "/api/leave", `{"user":"a"}`, 400, "BAD_REQUEST"},
	} {
		status, m := apiCall(t, srv.URL, c.key, c.path, c.body)
		e, _ := m["error"].(map[string]any)
		if status != c.status || e["code"] != c.code {
			t.Errorf("%s %.40s with key %q: %d %v, want %d %s", c.path, c.body, c.key, status, m, c.status, c.code)
		}
	}
}
