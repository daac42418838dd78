package main

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/riptide-io/riptide/internal/nodetest"
	"github.com/riptide-io/riptide/internal/redistest"
)

const haproxyCfg = "../../deploy/haproxy.cfg"

var haproxyVersion = regexp.MustCompile(`HA-?Proxy version (\d+)\.(\d+)`)

// TestHAProxy runs deploy/haproxy.cfg, unchanged, with the haproxy from the system (its
// addresses come from the environment), in front of three riptide binaries on one Redis
// with connection state recovery on and drain.delay at its default of 5 s, which the
// file's health checks are matched to.
//
// Phase 1: polling-only, WebSocket-only and default socket.io-client clients, spread over
// the three nodes by HAProxy, exchange room messages (js/haproxy-clients.js --phase
// exchange); polling stays on its node through HAProxy's SERVERID cookie.
//
// Phase 2: 50 clients publish to a room with acks, steadily, while the test restarts the
// nodes one at a time as an operator would (docs/operations.md, "Rolling restarts"):
// SIGTERM, HAProxy takes the node out on /readyz, the drain closes its connections, the
// process exits 0, starts again, HAProxy puts it back, and the clients are all back
// before the next node. Every acknowledged publish must reach every other client exactly
// once and in order, every client must end connected, and every disconnection must have
// been followed by a recovered reconnection. The test logs the drain time of each node
// and the time clients took to come back (docs/operations.md, "HAProxy", has the figures).
func TestHAProxy(t *testing.T) {
	haproxy, err := exec.LookPath("haproxy")
	if err != nil {
		t.Skip("haproxy is not installed (apt-get install haproxy; scripts/test.sh installs it)")
	}
	nodetest.Setup(t)
	bin := nodetest.BuildGo(t, riptideBinPath)
	r := redistest.Start(t)
	env := cleanEnv("RIPTIDE_REDIS_URL="+r.URL(), "RIPTIDE_RECOVERY_ENABLED=true", "RIPTIDE_DRAIN_DELAY=5s",
		"RIPTIDE_LISTEN_TRUSTED_PROXIES=127.0.0.1")
	addrs := freeAddrs(t, 8) // distinct: a port closed by freeAddr may come back at once
	nodes := make([]*haNode, 3)
	for i := range nodes {
		nodes[i] = &haNode{name: fmt.Sprintf("node%d", i+1), addr: addrs[2*i], admin: addrs[2*i+1], env: env}
		nodes[i].start(t, bin)
	}
	h := startHAProxy(t, haproxy, nodes, addrs[6], addrs[7])
	h.waitStates(t, 15*time.Second, "UP", nodes...)

	const clients = 50
	var mu sync.Mutex
	var placed []int
	var rolled []rollFigures
	ctl := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		var answer any
		switch req.URL.Path {
		case "/placed":
			counts := make([]int, len(nodes))
			for i, n := range nodes {
				counts[i], _ = n.sockets()
			}
			mu.Lock()
			placed = counts
			mu.Unlock()
			answer = map[string]any{"sockets": counts}
		case "/closed":
			// The clients of phase 1 closed: their sockets must leave the nodes, so that
			// phase 2 counts its own.
			begin := time.Now()
			left, err := waitSockets(nodes, 0, 15*time.Second)
			t.Logf("closed clients gone from the nodes after %v", time.Since(begin))
			if err != nil {
				t.Errorf("after the clients closed: %v", err)
			}
			answer = map[string]any{"left": left}
		case "/roll":
			// On an error the clients still report what they saw: the answer says it.
			var figs []rollFigures
			counts := make([]int, len(nodes))
			for i, n := range nodes {
				counts[i], _ = n.sockets()
			}
			t.Logf("sockets per node before the restarts: %v", counts)
			for _, n := range nodes {
				f, err := n.roll(bin, h, nodes, clients)
				figs = append(figs, f)
				if err != nil {
					t.Errorf("rolling restart, %s: %v\nlog:\n%s", n.name, err, strings.Join(n.proc().logged(), "\n"))
					break
				}
			}
			mu.Lock()
			rolled = figs
			mu.Unlock()
			answer = figs
		default:
			http.NotFound(w, req)
			return
		}
		_ = json.NewEncoder(w).Encode(answer)
	}))
	defer ctl.Close()
	url := "http://" + h.bind

	t.Run("exchange", func(t *testing.T) {
		nodetest.Run(t, 60*time.Second, "haproxy-clients.js", "--phase", "exchange", "--url", url, "--control", ctl.URL, "--timeout", "50000")
		mu.Lock()
		defer mu.Unlock()
		if len(placed) != 3 || slices.Contains(placed, 0) {
			t.Errorf("sockets per node %v: want every node to hold some, so that messages cross nodes", placed)
		}
	})
	if t.Failed() {
		t.FailNow()
	}

	t.Run("rolling restart", func(t *testing.T) {
		raw := nodetest.Run(t, 150*time.Second, "haproxy-clients.js", "--phase", "roll", "--url", url, "--control", ctl.URL,
			"--clients", strconv.Itoa(clients), "--rate", "2", "--settle", "2000", "--timeout", "140000")
		res := nodetest.Decode[rollResult](t, raw)
		mu.Lock()
		figs := slices.Clone(rolled)
		mu.Unlock()
		for _, f := range figs {
			t.Logf("%s: SIGTERM -> HAProxy %s %v, -> exit %v (riptide: drained %s, %d sessions; %d handshakes refused SERVER_DRAINING); a handshake with its cookie then went to %q; restart -> /readyz 200 %v, -> HAProxy UP %v; %d clients back %v after UP",
				f.Node, f.State, f.Out, f.Exit, f.Drained, f.Sessions, f.RefusedDraining, f.StaleCookie, f.Ready, f.Up, clients, f.Settled)
		}
		slices.Sort(res.Back)
		if len(res.Back) > 0 {
			t.Logf("%d reconnections: back after p50 %d ms, p90 %d ms, max %d ms", len(res.Back), res.Back[len(res.Back)/2], res.Back[len(res.Back)*9/10], res.Back[len(res.Back)-1])
		}
		t.Logf("publishes: %d sent, %d acknowledged (%d unacknowledged, %d of those delivered anyway); %d lost, %d duplicated, %d out of order; %d events reached a client with an offset below one it had; roll %d ms",
			res.Published, res.Acked, res.Unacked, res.UnackedDelivered, res.Lost, res.Duplicated, res.Reordered, res.OffsetInversions, res.RollMs)
		if b, err := h.backend(); err == nil {
			t.Logf("HAProxy backend: %s retries, %s redispatches, %s 5xx answers", b["wretr"], b["wredis"], b["hrsp_5xx"])
		}

		if !slices.ContainsFunc(figs, func(f rollFigures) bool { return f.StaleCookie != "" }) {
			t.Error("no node's listener was seen closed before HAProxy marked it DOWN: the redispatch of a handshake to a node that is gone was not tried")
		}
		if res.Acked == 0 {
			t.Error("no publish was acknowledged")
		}
		if res.Lost+res.Duplicated+res.Reordered+res.Own > 0 {
			t.Errorf("acknowledged publishes: %d lost, %d duplicated, %d out of order, %d back to their sender; want none.\n"+
				"%d events arrived with an offset below one their client had (e.g. %q). A client recovers from the offset of the last event it got, so a lower offset it had not got yet is skipped by the replay, a higher one it had got is replayed again: that accounts for %d of the losses, %d of the duplicates and %d of the events out of order.\nFirst cases:\n%s",
				res.Lost, res.Duplicated, res.Reordered, res.Own, res.OffsetInversions, res.InversionExamples[:min(3, len(res.InversionExamples))],
				res.Explained.Lost, res.Explained.Duplicated, res.Explained.Reordered, strings.Join(res.Examples, "\n"))
		}
		for _, c := range res.Clients {
			switch {
			case !c.Connected:
				t.Errorf("%s is not connected at the end: %s", c.Name, c.History)
			case len(c.Disconnects) == 0:
				t.Errorf("%s was never disconnected, though every node was restarted", c.Name)
			case len(c.Recovered) != len(c.Disconnects) || slices.Contains(c.Recovered, false):
				t.Errorf("%s did not recover after each disconnection: %s", c.Name, c.History)
			case slices.ContainsFunc(c.Disconnects, func(r string) bool { return r != "transport close" && r != "transport error" }):
				t.Errorf("%s disconnected for %q: want transport closes (a drain), after which the client reconnects", c.Name, c.Disconnects)
			}
		}
	})
}

// docs/cluster.md shows the core of deploy/haproxy.cfg: every line of its excerpt, without
// the comments, is a line of the file.
func TestHAProxyExcerpt(t *testing.T) {
	doc, err := os.ReadFile("../../docs/cluster.md")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := os.ReadFile(haproxyCfg)
	if err != nil {
		t.Fatal(err)
	}
	lines := map[string]bool{}
	for _, l := range strings.Split(string(cfg), "\n") {
		lines[strings.TrimSpace(l)] = true
	}
	_, rest, ok := strings.Cut(string(doc), "## Behind HAProxy")
	_, block, ok2 := strings.Cut(rest, "```\n")
	block, _, ok3 := strings.Cut(block, "```")
	if !ok || !ok2 || !ok3 {
		t.Fatal("no configuration block under Behind HAProxy in docs/cluster.md")
	}
	n := 0
	for _, l := range strings.Split(block, "\n") {
		l, _, _ = strings.Cut(l, "#")
		if l = strings.TrimSpace(l); l == "" {
			continue
		}
		n++
		if !lines[l] {
			t.Errorf("docs/cluster.md shows %q, which deploy/haproxy.cfg does not have", l)
		}
	}
	if n < 10 {
		t.Errorf("only %d lines in the excerpt", n)
	}
}

// rollResult is what js/haproxy-clients.js --phase roll reports.
type rollResult struct {
	Published, Acked, Unacked, UnackedDelivered int
	Lost, Duplicated, Reordered, Own            int
	Examples                                    []string
	Explained                                   struct{ Lost, Duplicated, Reordered int }
	OffsetInversions                            int
	InversionExamples                           []string
	Back                                        []int // ms from each disconnection to the reconnection
	RollMs                                      int
	Clients                                     []struct {
		Name        string
		Connected   bool
		Disconnects []string
		Recovered   []bool
		History     json.RawMessage
	}
}

// freeAddrs returns n distinct free loopback addresses.
func freeAddrs(t *testing.T, n int) []string {
	var addrs []string
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		addrs = append(addrs, l.Addr().String())
	}
	return addrs
}

// rollFigures is what the test measured restarting one node.
type rollFigures struct {
	Node            string
	Out             time.Duration // SIGTERM -> HAProxy's stats no longer say UP
	State           string        // what they said then: NOLB, HAProxy's drain state
	StaleCookie     string        // the node a handshake with this node's cookie reached once its listener was closed ("": not tried, HAProxy had marked it DOWN first)
	Exit            time.Duration // SIGTERM -> the process exited
	Drained         string        // the drain's duration, from riptide's log
	Sessions        int           // sessions the drain closed
	RefusedDraining int           // handshakes refused with SERVER_DRAINING (HAProxy was slower than drain.delay)
	Ready           time.Duration // start -> /readyz 200
	Up              time.Duration // start -> HAProxy's stats say UP
	Settled         time.Duration // UP -> every client connected again
}

// haNode is one riptide node behind HAProxy: a fixed address (HAProxy's server line) and
// admin listener, so that it can be restarted in place.
type haNode struct {
	name, addr, admin string
	env               []string
	mu                sync.Mutex
	p                 *process
}

func (n *haNode) proc() *process {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.p
}

// start starts the node's process; cleanup kills it (by its PID) if it still runs.
func (n *haNode) start(t *testing.T, bin string) {
	p := launch(t, bin, append(slices.Clone(n.env), "RIPTIDE_LISTEN_ADDR="+n.addr, "RIPTIDE_ADMIN_ADDR="+n.admin))
	n.mu.Lock()
	first := n.p == nil
	n.p = p
	n.mu.Unlock()
	if first {
		t.Cleanup(func() { n.proc().kill() })
	}
}

// kill ends the process with SIGKILL unless it exited, and waits for it.
func (p *process) kill() {
	select {
	case err := <-p.exited:
		p.exited <- err
		return
	default:
	}
	_ = syscall.Kill(p.cmd.Process.Pid, syscall.SIGKILL)
	select {
	case err := <-p.exited:
		p.exited <- err
	case <-time.After(10 * time.Second):
	}
}

// sockets reads the node's riptide_sockets on "/" from its admin listener.
func (n *haNode) sockets() (int, error) {
	resp, err := http.Get("http://" + n.admin + "/metrics")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), `riptide_sockets{namespace="/"} `); ok {
			f, err := strconv.ParseFloat(v, 64)
			return int(f), err
		}
	}
	return 0, fmt.Errorf("%s: no riptide_sockets in /metrics", n.name)
}

// roll restarts the node as a rolling restart does: SIGTERM, HAProxy takes it out, the
// drain ends and the process exits 0; started again, ready, back in HAProxy; then it waits
// until all the clients are connected again, to one node or another.
func (n *haNode) roll(bin string, h *haproxyProc, nodes []*haNode, clients int) (f rollFigures, err error) {
	f.Node = n.name
	p := n.proc()
	begin := time.Now()
	if err := syscall.Kill(p.cmd.Process.Pid, syscall.SIGTERM); err != nil {
		return f, err
	}
	var exitErr error
	for deadline := begin.Add(30 * time.Second); f.Exit == 0; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			return f, fmt.Errorf("still running 30 s after SIGTERM (HAProxy: %s after %v)", f.State, f.Out)
		}
		st, err := h.states()
		if err != nil {
			return f, err
		}
		if f.Out == 0 && st[n.name] != "UP" {
			f.Out, f.State = time.Since(begin), st[n.name]
		}
		// Once the drain ended (the listener closes next), and while HAProxy has not marked
		// the node DOWN yet: a handshake whose cookie still names the node, as a browser's
		// reconnection does, is sent there, fails to connect, and must be redispatched to
		// another node.
		if f.StaleCookie == "" && !strings.HasPrefix(st[n.name], "DOWN") &&
			slices.ContainsFunc(p.logged(), drainedLine.MatchString) && refused(n.addr) {
			if f.StaleCookie, err = h.staleHandshake(n.name); err != nil {
				return f, err
			}
		}
		select {
		case exitErr = <-p.exited:
			p.exited <- exitErr
			f.Exit = time.Since(begin)
		default:
		}
	}
	if exitErr != nil {
		return f, fmt.Errorf("exited with %v after SIGTERM", exitErr)
	}
	for _, l := range p.logged() {
		if m := drainedLine.FindStringSubmatch(l); m != nil {
			f.Drained = m[1]
			f.Sessions, _ = strconv.Atoi(m[2])
		}
		if strings.Contains(l, "handshake refused") && strings.Contains(l, "SERVER_DRAINING") {
			f.RefusedDraining++
		}
		if strings.Contains(l, "drain cut short") {
			return f, fmt.Errorf("the drain was cut short: %s", l)
		}
	}
	if f.Drained == "" {
		return f, fmt.Errorf("no drained line in the log")
	}

	start := time.Now()
	np, err := startProcess(bin, append(slices.Clone(n.env), "RIPTIDE_LISTEN_ADDR="+n.addr, "RIPTIDE_ADMIN_ADDR="+n.admin))
	if err != nil {
		return f, err
	}
	n.mu.Lock()
	n.p = np
	n.mu.Unlock()
	for deadline := start.Add(30 * time.Second); f.Up == 0; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			return f, fmt.Errorf("not back 30 s after its start: /readyz 200 after %v, HAProxy UP after %v", f.Ready, f.Up)
		}
		if f.Ready == 0 {
			if resp, err := http.Get("http://" + n.addr + "/readyz"); err == nil {
				resp.Body.Close()
				if resp.StatusCode == 200 {
					f.Ready = time.Since(start)
				}
			}
		}
		if st, err := h.states(); err == nil && st[n.name] == "UP" {
			f.Up = time.Since(start)
		}
	}
	up := time.Now()
	if _, err := waitSockets(nodes, clients, 30*time.Second); err != nil {
		return f, fmt.Errorf("after the node came back: %v", err)
	}
	f.Settled = time.Since(up)
	return f, nil
}

// waitSockets waits until the nodes hold want sockets in all (a node that does not answer
// holds none), and returns how many they hold.
func waitSockets(nodes []*haNode, want int, within time.Duration) (int, error) {
	for deadline := time.Now().Add(within); ; time.Sleep(50 * time.Millisecond) {
		total := 0
		for _, n := range nodes {
			c, _ := n.sockets()
			total += c
		}
		if total == want {
			return total, nil
		}
		if time.Now().After(deadline) {
			return total, fmt.Errorf("%d sockets on the nodes after %v, want %d", total, within, want)
		}
	}
}

// haproxyProc is haproxy running deploy/haproxy.cfg.
type haproxyProc struct {
	cmd             *exec.Cmd
	bind, statsAddr string
	exited          chan struct{}
	mu              sync.Mutex
	out             []string // the last lines of its output (log and warnings)
}

// startHAProxy checks the file with haproxy -c (no warning allowed), then runs it in the
// foreground with the nodes' addresses, the frontend on bind, the stats page on stats and
// its log on stdout. Cleanup stops it by its PID and, if the test failed, logs its last
// lines.
func startHAProxy(t *testing.T, haproxy string, nodes []*haNode, bind, stats string) *haproxyProc {
	t.Helper()
	cfg, err := filepath.Abs(haproxyCfg)
	if err != nil {
		t.Fatal(err)
	}
	h := &haproxyProc{bind: bind, statsAddr: stats, exited: make(chan struct{})}
	env := cleanEnv("RIPTIDE_BIND="+h.bind, "RIPTIDE_HAPROXY_STATS="+h.statsAddr, "RIPTIDE_HAPROXY_LOG=stdout")
	for i, n := range nodes {
		env = append(env, fmt.Sprintf("RIPTIDE_NODE%d=%s", i+1, n.addr))
	}
	out, err := exec.Command(haproxy, "-v").CombinedOutput()
	m := haproxyVersion.FindStringSubmatch(string(out))
	if err != nil || m == nil {
		t.Fatalf("haproxy -v: %v %q", err, out)
	}
	major, _ := strconv.Atoi(m[1])
	minor, _ := strconv.Atoi(m[2])
	if major < 2 || major == 2 && minor < 2 {
		t.Fatalf("HAProxy %s.%s is installed; deploy/haproxy.cfg needs 2.2 or later (http-check expect's error-status)", m[1], m[2])
	}
	check := exec.Command(haproxy, "-c", "-f", cfg)
	check.Env = env
	out, err = check.CombinedOutput()
	if err != nil || strings.Contains(string(out), "[WARNING]") || strings.Contains(string(out), "[ALERT]") {
		t.Fatalf("haproxy -c -f %s: %v\n%s", cfg, err, out)
	}

	h.cmd = exec.Command(haproxy, "-db", "-f", cfg)
	h.cmd.Env = env
	pr, pw := io.Pipe()
	h.cmd.Stdout, h.cmd.Stderr = pw, pw
	if err := h.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			h.mu.Lock()
			if len(h.out) == 300 {
				h.out = slices.Delete(h.out, 0, 100)
			}
			h.out = append(h.out, sc.Text())
			h.mu.Unlock()
		}
	}()
	go func() {
		_ = h.cmd.Wait()
		_ = pw.Close()
		close(h.exited)
	}()
	t.Cleanup(func() {
		_ = syscall.Kill(h.cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-h.exited:
		case <-time.After(5 * time.Second):
			_ = syscall.Kill(h.cmd.Process.Pid, syscall.SIGKILL)
			<-h.exited
		}
		if t.Failed() {
			h.mu.Lock()
			t.Logf("haproxy's last lines:\n%s", strings.Join(h.out, "\n"))
			h.mu.Unlock()
		}
	})
	return h
}

// stats reads HAProxy's stats as CSV: one row per proxy and server, by column name.
func (h *haproxyProc) stats() ([]map[string]string, error) {
	resp, err := http.Get("http://" + h.statsAddr + "/;csv")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	recs, err := csv.NewReader(resp.Body).ReadAll()
	if err != nil {
		return nil, err
	}
	if len(recs) == 0 || len(recs[0]) == 0 {
		return nil, fmt.Errorf("empty stats")
	}
	head := recs[0]
	head[0] = strings.TrimPrefix(head[0], "# ")
	var rows []map[string]string
	for _, rec := range recs[1:] {
		row := map[string]string{}
		for i, v := range rec {
			if i < len(head) {
				row[head[i]] = v
			}
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// states returns the status of each server of backend riptide: UP, DOWN, or in between
// ("UP 1/2": one failed check of the two that take it out).
func (h *haproxyProc) states() (map[string]string, error) {
	rows, err := h.stats()
	if err != nil {
		return nil, err
	}
	st := map[string]string{}
	for _, r := range rows {
		if r["pxname"] == "riptide" && r["svname"] != "FRONTEND" && r["svname"] != "BACKEND" {
			st[r["svname"]] = r["status"]
		}
	}
	return st, nil
}

// refused reports whether a connection to addr is refused (nothing listens there).
func refused(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err == nil {
		c.Close()
	}
	return errors.Is(err, syscall.ECONNREFUSED)
}

// staleHandshake sends an Engine.IO handshake to the frontend with the cookie of node, as
// a browser that was on it does when it reconnects, and returns the node that HAProxy's
// answer names in its cookie: another node, or an error. It then closes the session it
// opened, so that it does not hold up that node's drain.
func (h *haproxyProc) staleHandshake(node string) (string, error) {
	const path = "/socket.io/?EIO=4&transport=polling"
	req, err := http.NewRequest("GET", "http://"+h.bind+path, nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Cookie", "SERVERID="+node)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var to string
	for _, c := range resp.Cookies() {
		if c.Name == "SERVERID" {
			to = c.Value
		}
	}
	var open struct{ SID string }
	if resp.StatusCode != 200 || to == "" || to == node || len(body) == 0 || json.Unmarshal(body[1:], &open) != nil {
		return "", fmt.Errorf("a handshake with the cookie of %s, which is gone: %d %q, cookie %q; want it answered by another node", node, resp.StatusCode, body, to)
	}
	req, err = http.NewRequest("POST", "http://"+h.bind+path+"&sid="+open.SID, strings.NewReader("1"))
	if err != nil {
		return "", err
	}
	req.Header.Set("Cookie", "SERVERID="+to)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		return "", fmt.Errorf("closing the session %s on %s: %d", open.SID, to, resp.StatusCode)
	}
	return to, nil
}

// backend returns the stats row of backend riptide.
func (h *haproxyProc) backend() (map[string]string, error) {
	rows, err := h.stats()
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		if r["pxname"] == "riptide" && r["svname"] == "BACKEND" {
			return r, nil
		}
	}
	return nil, fmt.Errorf("no backend riptide in the stats")
}

// waitStates waits until each of nodes has status state in HAProxy.
func (h *haproxyProc) waitStates(t *testing.T, within time.Duration, state string, nodes ...*haNode) {
	t.Helper()
	var st map[string]string
	var err error
	for deadline := time.Now().Add(within); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if st, err = h.states(); err == nil && !slices.ContainsFunc(nodes, func(n *haNode) bool { return st[n.name] != state }) {
			return
		}
	}
	t.Fatalf("HAProxy's servers %v (%v) after %v, want all %s", st, err, within, state)
}
