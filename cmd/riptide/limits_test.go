package main

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/riptide-io/riptide/internal/nodetest"
)

// limitCase is one client of tier-auth.js (see its header): it connects with the real
// socket.io-client on one transport; Hold keeps it connected while the next cases run.
type limitCase struct {
	Name        string            `json:"name"`
	URL         string            `json:"url"`
	Transport   string            `json:"transport"`
	ConnectOnly bool              `json:"connectOnly"`
	Auth        any               `json:"auth,omitempty"`
	Headers     map[string]string `json:"headers,omitempty"`
	Expiry      bool              `json:"expiry,omitempty"`
	Hold        bool              `json:"hold,omitempty"`
	HoldMs      int               `json:"holdMs,omitempty"`
	PingEvery   int               `json:"pingEvery,omitempty"`
	Release     []string          `json:"release,omitempty"`
	Retry       int               `json:"retry,omitempty"`
	Mint        *mintSpec         `json:"mint,omitempty"`
}

// mintSpec has tier-auth.js mint an HS256 token just before it connects.
type mintSpec struct {
	Secret      string `json:"secret"`
	Sub         string `json:"sub"`
	ExpiresInMs int    `json:"expiresInMs"`
}

// limitResult is what one client saw. Times ending in Ms count from StartAt (Unix ms).
type limitResult struct {
	Name         string `json:"name"`
	Connected    bool   `json:"connected"`
	ConnectError *struct {
		Message     string     `json:"message"`
		Description any        `json:"description"`
		Data        *tierError `json:"data"`
	} `json:"connectError"`
	ErrorEvent       *tierError `json:"errorEvent"`
	DisconnectReason string     `json:"disconnectReason"`
	Released         bool       `json:"released"`
	HeldMs           int64      `json:"heldMs"`
	Heartbeats       int        `json:"heartbeats"`
	Pings            int        `json:"pings"`
	PingAcks         int        `json:"pingAcks"`
	Attempts         int        `json:"attempts"`
	Exp              int64      `json:"exp"`
	TimedOut         bool       `json:"timedOut"`
	StartAt          int64      `json:"startAt"`
	ConnectedMs      int64      `json:"connectedMs"`
	ErrorMs          int64      `json:"errorMs"`
	DisconnectMs     int64      `json:"disconnectMs"`
}

// tierError is a refusal as the client sees it: a connect_error's data, an "error" event.
type tierError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// runLimitCases runs cases in order against addr on transport tr and returns the results
// by name.
func runLimitCases(t *testing.T, addr, tr string, cases []limitCase) map[string]limitResult {
	t.Helper()
	for i := range cases {
		cases[i].URL, cases[i].Transport, cases[i].ConnectOnly = "http://"+addr, tr, true
	}
	b, err := json.Marshal(cases)
	if err != nil {
		t.Fatal(err)
	}
	out := nodetest.Decode[struct {
		Results []limitResult `json:"results"`
	}](t, nodetest.Run(t, 60*time.Second, "tier-auth.js", "--cases", writeFile(t, "cases.json", string(b)), "--timeout", "50000"))
	m := map[string]limitResult{}
	for _, r := range out.Results {
		m[r.Name] = r
	}
	if len(m) != len(cases) {
		t.Fatalf("%d results for %d cases", len(m), len(cases))
	}
	return m
}

// mustConnect checks that the named clients connected, with no "error" event.
func mustConnect(t *testing.T, rs map[string]limitResult, names ...string) {
	t.Helper()
	for _, n := range names {
		r := rs[n]
		if !r.Connected || r.ErrorEvent != nil || r.TimedOut {
			t.Errorf("%s: not connected, or not cleanly: %+v", n, r)
		}
	}
}

// mustHold checks that held clients stayed connected until the script released them.
func mustHold(t *testing.T, rs map[string]limitResult, names ...string) {
	t.Helper()
	mustConnect(t, rs, names...)
	for _, n := range names {
		if r := rs[n]; !r.Released || r.DisconnectReason != "io client disconnect" {
			t.Errorf("%s: dropped before the script let it go: %+v", n, r)
		}
	}
}

// mustBeHTTPRefused checks that the client named n got connect_error for a handshake
// refused with HTTP status: socket.io-client reports it as a transport error, with the
// status as the polling error's description and in the ws error's message.
func mustBeHTTPRefused(t *testing.T, rs map[string]limitResult, n, tr string, status int) {
	t.Helper()
	r := rs[n]
	e := r.ConnectError
	if r.Connected || e == nil {
		t.Errorf("%s: not refused: %+v", n, r)
		return
	}
	want := map[string]struct {
		message     string
		description any
	}{
		"polling":   {"xhr poll error", float64(status)},
		"websocket": {"websocket error", fmt.Sprintf("Unexpected server response: %d", status)},
	}[tr]
	if e.Message != want.message || e.Description != want.description || e.Data != nil {
		t.Errorf("%s: connect_error %q %v %+v, want %q %v", n, e.Message, e.Description, e.Data, want.message, want.description)
	}
}

// rawHandshake sends the handshake of transport tr (a WebSocket upgrade request for
// "websocket") with net/http and returns the status, Content-Type and body.
func rawHandshake(t *testing.T, addr, tr string, header map[string]string) (int, string, string) {
	t.Helper()
	req, err := http.NewRequest("GET", "http://"+addr+"/socket.io/?EIO=4&transport="+tr, nil)
	if err != nil {
		t.Fatal(err)
	}
	if tr == "websocket" {
		var key [16]byte
		_, _ = rand.Read(key[:])
		req.Header.Set("Connection", "Upgrade")
		req.Header.Set("Upgrade", "websocket")
		req.Header.Set("Sec-WebSocket-Version", "13")
		req.Header.Set("Sec-WebSocket-Key", base64.StdEncoding.EncodeToString(key[:]))
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header.Get("Content-Type"), string(body)
}

// fillSessions opens n polling sessions with raw handshakes (which stay open until their
// ping timeout), retrying a refusal with status busy while sessions of earlier clients are
// still closing.
func fillSessions(t *testing.T, addr string, n, busy int, header map[string]string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for opened := 0; opened < n; {
		status, _, body := rawHandshake(t, addr, "polling", header)
		switch {
		case status == 200 && strings.HasPrefix(body, `0{"sid":`):
			opened++
		case status == busy && time.Now().Before(deadline):
			time.Sleep(20 * time.Millisecond)
		default:
			t.Fatalf("handshake %d of %d: %d %s", opened+1, n, status, body)
		}
	}
}

// mustRefuseRaw checks the handshake of transport tr gets status and exactly the JSON body
// the engine writes for code (server/engine/admit.go).
func mustRefuseRaw(t *testing.T, addr, tr string, header map[string]string, status int, code, message string) {
	t.Helper()
	got, ctype, body := rawHandshake(t, addr, tr, header)
	want := `{"code":"` + code + `","message":"` + message + `"}`
	if got != status || ctype != "application/json" || body != want {
		t.Errorf("%s handshake: %d %q %s, want %d application/json %s", tr, got, ctype, body, status, want)
	}
}

func mintToken(t *testing.T, secret, sub string, exp time.Time) string {
	t.Helper()
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": sub, "exp": exp.Unix()}).SignedString([]byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// TestBinaryLimits: every connection limit of the binary with the real socket.io-client,
// on polling and on WebSocket, each against a server of its own: per node and per client
// address (HTTP refusals of the handshake, also checked with net/http), per JWT user
// (connect_error), the idle timeout and a JWT expiring while connected ("error" event,
// then a server disconnect).
func TestBinaryLimits(t *testing.T) {
	nodetest.Setup(t)
	bin := nodetest.BuildGo(t, "./cmd/riptide")
	start := func(t *testing.T, env ...string) string {
		_, addr := serve(t, bin, cleanEnv(append([]string{"RIPTIDE_LISTEN_ADDR=127.0.0.1:0"}, env...)...))
		return addr
	}
	const secret = "a-shared-secret-of-at-least-32-bytes!!"
	for _, tr := range []string{"polling", "websocket"} {
		t.Run(tr, func(t *testing.T) {
			t.Run("node", func(t *testing.T) { testNodeLimit(t, start(t, "RIPTIDE_LIMITS_MAX_CONNECTIONS=2"), tr) })
			t.Run("address", func(t *testing.T) {
				testAddressLimit(t, start(t, "RIPTIDE_LIMITS_MAX_CONNECTIONS_PER_ADDRESS=2", "RIPTIDE_LISTEN_TRUSTED_PROXIES=127.0.0.1"),
					start(t, "RIPTIDE_LIMITS_MAX_CONNECTIONS_PER_ADDRESS=2"), tr)
			})
			t.Run("user", func(t *testing.T) {
				testUserLimit(t, start(t, "RIPTIDE_AUTH_JWT_HMAC_SECRET="+secret, "RIPTIDE_LIMITS_MAX_CONNECTIONS_PER_USER=2"), tr, secret)
			})
			t.Run("idle", func(t *testing.T) {
				testIdleTimeout(t, start(t, "RIPTIDE_ENGINE_PING_INTERVAL=300ms", "RIPTIDE_ENGINE_PING_TIMEOUT=1s",
					"RIPTIDE_LIMITS_SOCKET_IDLE_TIMEOUT=1500ms"), tr)
			})
			t.Run("expiry", func(t *testing.T) { testTokenExpiry(t, start(t, "RIPTIDE_AUTH_JWT_HMAC_SECRET="+secret), tr, secret) })
		})
	}
}

// max_connections=2: two clients connect, the third gets connect_error (HTTP 503 on its
// handshake); once they left, two raw sessions fill the node again and a raw handshake
// gets 503 with the CONN_LIMIT_NODE body.
func testNodeLimit(t *testing.T, addr, tr string) {
	rs := runLimitCases(t, addr, tr, []limitCase{{Name: "a", Hold: true}, {Name: "b", Hold: true}, {Name: "c"}})
	mustHold(t, rs, "a", "b")
	mustBeHTTPRefused(t, rs, "c", tr, 503)

	fillSessions(t, addr, 2, 503, nil)
	mustRefuseRaw(t, addr, tr, nil, 503, "CONN_LIMIT_NODE", "the server is at its connection limit")
}

// max_connections_per_address=2. Behind a trusted proxy (127.0.0.1) each X-Forwarded-For
// address gets two sessions: the third of one address is refused with 429, also when it
// prepends a forged hop, while another address still connects. Without trusted_proxies
// the header is ignored: every client is 127.0.0.1.
func testAddressLimit(t *testing.T, trusted, untrusted, tr string) {
	xff := func(v string) map[string]string { return map[string]string{"X-Forwarded-For": v} }
	const a, b = "203.0.113.1", "203.0.113.2"
	rs := runLimitCases(t, trusted, tr, []limitCase{
		{Name: "a1", Headers: xff(a), Hold: true},
		{Name: "a2", Headers: xff(a), Hold: true},
		{Name: "a3", Headers: xff(a)},
		{Name: "a4 forged", Headers: xff("198.51.100.9, " + a)},
		{Name: "b1", Headers: xff(b), Hold: true},
		{Name: "b2", Headers: xff(b)},
	})
	mustHold(t, rs, "a1", "a2", "b1")
	mustConnect(t, rs, "b2")
	mustBeHTTPRefused(t, rs, "a3", tr, 429)
	mustBeHTTPRefused(t, rs, "a4 forged", tr, 429)

	// A third address, filled by raw handshakes: the refusal's body.
	fillSessions(t, trusted, 2, 0, xff("198.51.100.3"))
	mustRefuseRaw(t, trusted, tr, xff("198.51.100.3"), 429, "CONN_LIMIT_ADDRESS", "too many connections from this address")

	rs = runLimitCases(t, untrusted, tr, []limitCase{
		{Name: "x", Headers: xff(a), Hold: true},
		{Name: "y", Headers: xff(b), Hold: true},
		{Name: "z", Headers: xff("203.0.113.3")},
	})
	mustHold(t, rs, "x", "y")
	mustBeHTTPRefused(t, rs, "z", tr, 429)
}

// max_connections_per_user=2: ana's third socket gets connect_error CONN_LIMIT_USER while
// bob connects; once one of ana's sockets has left she may connect again (retried while
// the server has not yet seen the leave).
func testUserLimit(t *testing.T, addr, tr, secret string) {
	exp := time.Now().Add(time.Hour)
	ana := map[string]string{"token": mintToken(t, secret, "ana", exp)}
	bob := map[string]string{"token": mintToken(t, secret, "bob", exp)}
	rs := runLimitCases(t, addr, tr, []limitCase{
		{Name: "ana-1", Auth: ana, Hold: true},
		{Name: "ana-2", Auth: ana, Hold: true},
		{Name: "ana-3", Auth: ana},
		{Name: "bob-1", Auth: bob},
		{Name: "ana-4", Auth: ana, Release: []string{"ana-1"}, Retry: 5000},
	})
	mustHold(t, rs, "ana-1", "ana-2")
	mustConnect(t, rs, "bob-1", "ana-4")
	r := rs["ana-3"]
	if e := r.ConnectError; r.Connected || e == nil || e.Message != "too many connections for this user" ||
		e.Data == nil || e.Data.Code != "CONN_LIMIT_USER" || e.Data.Message != e.Message {
		t.Errorf("ana-3: %+v, want connect_error CONN_LIMIT_USER", r)
	}
	t.Logf("ana-4 connected after ana-1 left, in %d attempt(s)", rs["ana-4"].Attempts)
}

// socket_idle_timeout=1500ms with heartbeats every 300 ms: a client that only answers
// heartbeats gets "error" IDLE_TIMEOUT and a server disconnect, while one that emits
// "ping" every 400 ms is still connected when that happens, and stays past 3 s.
func testIdleTimeout(t *testing.T, addr, tr string) {
	rs := runLimitCases(t, addr, tr, []limitCase{
		{Name: "idle", Expiry: true},
		{Name: "active", Hold: true, HoldMs: 3000, PingEvery: 400},
	})
	idle, active := rs["idle"], rs["active"]
	if !idle.Connected || idle.ErrorEvent == nil || idle.ErrorEvent.Code != "IDLE_TIMEOUT" ||
		idle.ErrorEvent.Message != "disconnected after a period without activity" || idle.DisconnectReason != "io server disconnect" {
		t.Errorf("idle: not ended by IDLE_TIMEOUT: %+v", idle)
	}
	// Answered heartbeats kept the session, not the socket; the server's timer started
	// after the case did, so 1.5 s is a floor.
	if idle.Heartbeats < 2 || idle.DisconnectMs < 1500 {
		t.Errorf("idle: dropped after %d ms and %d heartbeats, want at least 1500 ms and 2", idle.DisconnectMs, idle.Heartbeats)
	}
	mustHold(t, rs, "active")
	idleDropped, activeLeft := idle.StartAt+idle.DisconnectMs, active.StartAt+active.ConnectedMs+active.HeldMs
	if activeLeft < idleDropped || active.HeldMs < 3000 || active.Pings < 3 || active.PingAcks < active.Pings-1 {
		t.Errorf("active: left at %d, idle dropped at %d; held %d ms, %d pings, %d acks", activeLeft, idleDropped, active.HeldMs, active.Pings, active.PingAcks)
	}
	t.Logf("idle: connected at %d ms, error at %d ms, dropped at %d ms after %d heartbeats; active: held %d ms with %d/%d pings acked",
		idle.ConnectedMs, idle.ErrorMs, idle.DisconnectMs, idle.Heartbeats, active.HeldMs, active.PingAcks, active.Pings)
}

// A token expiring while connected: the socket gets "error" AUTH_TOKEN_EXPIRED, then a
// server disconnect, not before exp. The script mints the token as it connects (exp is
// whole seconds, rounded up: the token lives 1.5 to 2.5 s).
func testTokenExpiry(t *testing.T, addr, tr, secret string) {
	r := runLimitCases(t, addr, tr, []limitCase{{Name: "expiring", Expiry: true,
		Mint: &mintSpec{Secret: secret, Sub: "ana", ExpiresInMs: 1500}}})["expiring"]
	if !r.Connected || r.ErrorEvent == nil || r.ErrorEvent.Code != "AUTH_TOKEN_EXPIRED" || r.ErrorEvent.Message != "token expired" ||
		r.DisconnectReason != "io server disconnect" || r.ErrorMs > r.DisconnectMs {
		t.Errorf("expiring: %+v, want error AUTH_TOKEN_EXPIRED then io server disconnect", r)
	}
	expAt := r.Exp * 1000
	if dropped := r.StartAt + r.DisconnectMs; r.Exp == 0 || dropped < expAt {
		t.Errorf("expiring: dropped at %d, before exp %d", dropped, expAt)
	}
	t.Logf("expiring: exp %d ms after the start, connected at %d ms, error at %d ms, dropped at %d ms",
		expAt-r.StartAt, r.ConnectedMs, r.ErrorMs, r.DisconnectMs)
}
