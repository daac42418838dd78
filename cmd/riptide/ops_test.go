package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/riptide-io/riptide/internal/logtest"
	"github.com/riptide-io/riptide/internal/nodetest"
	"github.com/riptide-io/riptide/internal/redistest"
	"github.com/riptide-io/riptide/server"
	"github.com/riptide-io/riptide/server/engine"
)

// startOps starts the tier from c in process, as run does, and stops it at the test's end.
func startOps(t *testing.T, c *Config, log *slog.Logger) (*engine.Listener, *server.Server, *ops) {
	t.Helper()
	l, srv, err := start(c, log)
	if err != nil {
		t.Fatal(err)
	}
	o, err := serveOps(c, l, srv, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		o.stop()
		stopStarted(l)
	})
	return l, srv, o
}

// stopStarted closes what start started: the listener, the admin UI and the cluster if any.
func stopStarted(l *engine.Listener) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = l.Close(ctx)
	if adminUI != nil {
		adminUI.Close()
		adminUI = nil
	}
	if redisCluster != nil {
		_ = redisCluster.Close()
		redisCluster = nil
	}
}

// httpGet returns a GET's status and body.
func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// scrape reads the Prometheus text exposition at addr into "name{labels}" -> value.
func scrape(t *testing.T, addr string) map[string]float64 {
	t.Helper()
	status, body := httpGet(t, "http://"+addr+"/metrics")
	if status != 200 {
		t.Fatalf("/metrics: %d %s", status, body)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("/metrics line %q: %v", line, err)
		}
		out[line[:i]] = v
	}
	return out
}

// The metrics move by exactly what the real socket.io-client did: connections per
// transport while connected, handshakes, the upgrade, sockets and rooms, packets and payload
// bytes both ways, the broadcast, and the disconnects; the runtime and process collectors
// are there.
func TestMetrics(t *testing.T) {
	nodetest.Setup(t)
	c := flags(t, "--addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0")
	l, _, o := startOps(t, c, slog.New(slog.NewTextHandler(io.Discard, nil)))
	before := scrape(t, o.addr)
	for _, name := range []string{"go_goroutines", "process_resident_memory_bytes", `riptide_ready`,
		`riptide_ack_round_trip_seconds_count`, `riptide_handler_workers{state="idle"}`} {
		if _, ok := before[name]; !ok {
			t.Errorf("/metrics lacks %s", name)
		}
	}
	if before["riptide_ready"] != 1 {
		t.Errorf("riptide_ready %v", before["riptide_ready"])
	}
	delta := func(m map[string]float64, name string) float64 { return m[name] - before[name] }

	done := filepath.Join(t.TempDir(), "done")
	nodetest.StartJSON(t, "riptide-ops.js", "--url", "http://"+l.Addr(), "--done", done)
	during := scrape(t, o.addr)
	for name, want := range map[string]float64{
		`riptide_connections{transport="websocket"}`:      2,
		`riptide_connections{transport="polling"}`:        1,
		`riptide_sockets{namespace="/"}`:                  3,
		`riptide_rooms{namespace="/"}`:                    1,
		`riptide_handshakes_total{transport="websocket"}`: 1,
		`riptide_handshakes_total{transport="polling"}`:   2,
		`riptide_upgrades_total`:                          1,
		`riptide_broadcasts_total`:                        1,
		`riptide_broadcast_deliveries_total`:              1,
	} {
		if got := during[name]; got != want {
			t.Errorf("while connected: %s = %v, want %v", name, got, want)
		}
	}
	if err := os.WriteFile(done, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	// Payloads are Engine.IO message data: the Socket.IO packet after the message type "4".
	// In: three CONNECTs "0" (1 byte each), two joins 20["join","r"] (14 each), the publish
	// 2["publish","r","news","hi"] (28) and three DISCONNECTs "1" (1 each). Out: three
	// CONNECT replies 0{"sid":"<20>"} (31 each), two acks 30[{"ok":true,"room":"r"}] (26
	// each) and the news 2["news","hi"] (14).
	want := map[string]float64{
		`riptide_packets_total{direction="in"}`:                           9,
		`riptide_payload_bytes_total{direction="in"}`:                     3*1 + 2*14 + 28 + 3*1,
		`riptide_packets_total{direction="out"}`:                          6,
		`riptide_payload_bytes_total{direction="out"}`:                    3*31 + 2*26 + 14,
		`riptide_disconnects_total{reason="client namespace disconnect"}`: 3,
		`riptide_engine_closes_total{reason="transport close"}`:           3,
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		after := scrape(t, o.addr)
		var off []string
		for name, w := range want {
			if d := delta(after, name); d != w {
				off = append(off, name+"="+strconv.FormatFloat(d, 'f', -1, 64)+" want "+strconv.FormatFloat(w, 'f', -1, 64))
			}
		}
		for _, gauge := range []string{`riptide_connections{transport="websocket"}`, `riptide_connections{transport="polling"}`,
			`riptide_sockets{namespace="/"}`, `riptide_rooms{namespace="/"}`} {
			if after[gauge] != 0 {
				off = append(off, gauge+" not back to 0")
			}
		}
		if len(off) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the disconnects (deltas):\n%s", strings.Join(off, "\n"))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// /readyz answers 503 while Redis is not there (the node serves meanwhile and says it waits
// for Redis), 200 once a Redis server starts on that port, and 503 again when the node
// drains (setDraining, or the drain SIGTERM starts); /healthz answers 200 throughout. Both
// ports agree.
func TestReadiness(t *testing.T) {
	r := redistest.Start(t)
	r.Stop() // nothing listens on r's port until Restart
	defer func(w time.Duration) { clusterWait = w }(clusterWait)
	clusterWait = 100 * time.Millisecond
	var logs logtest.Buffer
	c := flags(t, "--addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0", "--redis", r.URL(), "--drain-delay", "0s")
	l, _, o := startOps(t, c, slog.New(slog.NewTextHandler(&logs, nil)))
	defer func() { self.draining.Store(false) }()
	checks := func(status int, body string) {
		t.Helper()
		for _, addr := range []string{l.Addr(), o.addr} {
			if s, b := httpGet(t, "http://"+addr+"/healthz"); s != 200 || b != "ok" {
				t.Fatalf("%s /healthz: %d %q", addr, s, b)
			}
			if s, b := httpGet(t, "http://"+addr+"/readyz"); s != status || b != body {
				t.Fatalf("%s /readyz: %d %q, want %d %q", addr, s, b, status, body)
			}
		}
	}
	checks(503, `{"status":"not ready","reason":"waiting for Redis"}`)
	if !strings.Contains(logs.String(), "waiting for Redis") {
		t.Fatalf("no log line says it waits for Redis:\n%s", logs.String())
	}
	if m := scrape(t, o.addr); m["riptide_redis_up"] != 0 || m["riptide_ready"] != 0 {
		t.Fatalf("redis_up %v ready %v", m["riptide_redis_up"], m["riptide_ready"])
	}

	r.Restart(t)
	deadline := time.Now().Add(15 * time.Second)
	for {
		if s, _ := httpGet(t, "http://"+o.addr+"/readyz"); s == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not ready 15 s after Redis started; log:\n%s", logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	checks(200, "ready")
	m := scrape(t, o.addr)
	if m["riptide_redis_up"] != 1 || m[`riptide_cluster_nodes{state="alive"}`] != 0 {
		t.Fatalf("redis_up %v, alive nodes %v", m["riptide_redis_up"], m[`riptide_cluster_nodes{state="alive"}`])
	}

	self.setDraining()
	checks(503, `{"status":"not ready","reason":"draining"}`)
	self.draining.Store(false)
	checks(200, "ready")
	// The drain SIGTERM starts (drain.go) turns readiness too, from its first moment.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := drains.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	checks(503, `{"status":"not ready","reason":"draining"}`)
}

// serveJSON starts bin with a JSON log and returns the public and admin addresses from its
// "riptide listening" and "admin listening" lines, and its log so far and to come. Cleanup
// stops it with SIGTERM and checks it exits 0.
func serveJSON(t *testing.T, bin string, env []string) (addr, admin string, log *logtest.Buffer) {
	t.Helper()
	cmd := exec.Command(bin)
	cmd.Env = env
	log = &logtest.Buffer{}
	cmd.Stderr = log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stopOnCleanup(t, cmd, exited)
	deadline := time.Now().Add(30 * time.Second)
	for addr == "" || admin == "" {
		for _, l := range jsonLines(t, log.String()) {
			switch l["msg"] {
			case "riptide listening":
				addr, _ = l["addr"].(string)
			case "admin listening":
				admin, _ = l["addr"].(string)
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no listening lines in:\n%s", log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	return addr, admin, log
}

// jsonLines parses every complete line of a JSON log; a line that is not a JSON object
// fails the test.
func jsonLines(t *testing.T, log string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(log, "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q is not JSON: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

// TestBinaryLogsAndRefusals: with --log-format json every log line is a JSON object; each
// refused connection (a connect_error from the JWT check, an HTTP 429 from the per-address
// limit) is one info line with its code, and the refusals show in /metrics, the tier's
// policy counters included; nothing is logged per packet at info level.
func TestBinaryLogsAndRefusals(t *testing.T) {
	bin, secret, tok := jwtBinary(t)
	addr, admin, log := serveJSON(t, bin, cleanEnv("RIPTIDE_LISTEN_ADDR=127.0.0.1:0", "RIPTIDE_ADMIN_ADDR=127.0.0.1:0",
		"RIPTIDE_LOG_FORMAT=json", "RIPTIDE_AUTH_JWT_HMAC_SECRET="+secret, "RIPTIDE_DRAIN_DELAY=0s",
		"RIPTIDE_LIMITS_MAX_CONNECTIONS_PER_ADDRESS=1", "RIPTIDE_LIMITS_SOCKET_IDLE_TIMEOUT=1s",
		"RIPTIDE_LISTEN_TRUSTED_PROXIES=127.0.0.1"))
	run := func(cases ...map[string]any) {
		b, _ := json.Marshal(cases)
		nodetest.Run(t, 60*time.Second, "tier-auth.js", "--cases", writeFile(t, "cases.json", string(b)))
	}
	// Each group of cases comes from its own client address (X-Forwarded-For from a
	// trusted proxy), so a session the first group leaves behind does not count against
	// the second.
	kase := func(name, from string, auth any, expiry bool) map[string]any {
		k := map[string]any{"name": name, "url": "http://" + addr, "transport": "polling", "connectOnly": true, "expiry": expiry,
			"headers": map[string]string{"X-Forwarded-For": from}}
		if auth != nil {
			k["auth"] = auth
		}
		return k
	}
	// No token: connect_error AUTH_TOKEN_MISSING. Then two at once from one address: one
	// connects (and is ended by the idle timeout), the other is refused with 429.
	run(kase("missing", "203.0.113.1", nil, false))
	valid := map[string]string{"token": tok}
	run(kase("first", "203.0.113.2", valid, true), kase("second", "203.0.113.2", valid, true))

	refusals := map[string]int{}
	perMsg := map[string]int{}
	for _, l := range jsonLines(t, log.String()) {
		msg, _ := l["msg"].(string)
		if l["level"] == "INFO" {
			perMsg[msg]++
		}
		if msg == "connection refused" || msg == "handshake refused" {
			code, _ := l["code"].(string)
			from, _ := l["addr"].(string)
			refusals[msg+" "+code+" "+from]++
		}
	}
	if len(refusals) != 2 || refusals["connection refused AUTH_TOKEN_MISSING 203.0.113.1"] != 1 ||
		refusals["handshake refused CONN_LIMIT_ADDRESS 203.0.113.2"] != 1 {
		t.Fatalf("refusal lines %v, want one AUTH_TOKEN_MISSING and one CONN_LIMIT_ADDRESS:\n%s", refusals, log.String())
	}
	for msg, n := range perMsg {
		if n > 1 {
			t.Errorf("%d info lines %q: nothing but refusals may repeat at info", n, msg)
		}
	}
	m := scrape(t, admin)
	for name, want := range map[string]float64{
		`riptide_connection_refusals_total{code="AUTH_TOKEN_MISSING",stage="connect"}`:   1,
		`riptide_connection_refusals_total{code="CONN_LIMIT_ADDRESS",stage="handshake"}`: 1,
		`riptide_connection_refusals_total{code="CONN_LIMIT_NODE",stage="handshake"}`:    0,
		`riptide_policy_refusals_total{code="AUTH_TOKEN_MISSING"}`:                       1,
		`riptide_policy_refusals_total{code="IDLE_TIMEOUT"}`:                             1,
		`riptide_disconnects_total{reason="server namespace disconnect"}`:                1,
	} {
		if got, ok := m[name]; !ok || got != want {
			t.Errorf("%s = %v (present %v), want %v", name, got, ok, want)
		}
	}
}

// admin.addr must be host:port and not the public port; log.format is text or json.
func TestOpsConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--log-format", "xml"}, `log.format (flag --log-format): "xml" is not text or json`},
		{[]string{"--admin-addr", "9090"}, `admin.addr (flag --admin-addr): "9090" is not host:port`},
		{[]string{"--addr", ":3000", "--admin-addr", "127.0.0.1:3000"}, `admin.addr (flag --admin-addr): "127.0.0.1:3000" shares its port with listen.addr`},
	} {
		_, err := load(tc.args, func(string) string { return "" }, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want %s", tc.args, err, tc.want)
		}
	}
	if c := flags(t, "--addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0", "--log-format", "json"); c.Admin.Addr != "127.0.0.1:0" || c.Log.Format != "json" {
		t.Fatalf("%+v %+v", c.Admin, c.Log)
	}
}
