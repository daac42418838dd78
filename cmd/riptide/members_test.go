package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/riptide-io/riptide/internal/nodetest"
	"github.com/riptide-io/riptide/internal/redistest"
)

const (
	// raceRooms is the room rule of TestMembersAcrossNodes.
	raceRooms = `[{"pattern":"race:*","join":"authenticated","max_members":10,"presence":true}]`
	raceMax   = 10
	// raceTTL is policy.member_ttl: short, so that a crashed node's members expire within
	// the test (validate's minimum is 1s).
	raceTTL     = 2 * time.Second
	racePerNode = 15 // clients per node in the race: 30 joins for 10 places
	raceRounds  = 5
	raceSecret  = "a-shared-secret-of-at-least-32-bytes!!"
)

// TestMembersAcrossNodes: max_members and presence of a cluster, end to end. Two riptide
// binaries share one Redis (--redis through RIPTIDE_REDIS_URL); the real socket.io-client
// connects half of its sockets on polling and half on WebSocket, each with its own JWT
// user; the rooms race:* may be joined by any authenticated user, 10 at most, with
// presence.
//
// The bounds this holds the tier to:
//   - max_members is exact under racing joins, from any number of nodes: the check and the
//     add are one Redis script (server/tier/members_redis.go), so of 30 joins sent at once
//     to an empty room of 10 places exactly 10 are accepted, their counts are 1..10, and
//     every member then sees the same list in the same (join) order.
//   - A node that stops cleanly (SIGTERM) takes its members out of Redis before it exits,
//     each with a "user-left" to the others in the room (its drain waits for every
//     socket's disconnect handlers before it closes the member store and the cluster):
//     their places are free once it has exited, with no TTL to wait.
//   - A node that crashes (SIGKILL) keeps counting its members until policy.member_ttl has
//     passed since it last refreshed them (it does so every member_ttl/3): their places
//     free one by one between 2/3 and 1 member_ttl after the crash, not before. No
//     "user-left" is sent for them; the others see them gone from the next member list.
func TestMembersAcrossNodes(t *testing.T) {
	nodetest.Setup(t)
	bin := nodetest.BuildGo(t, "./cmd/riptide")
	r := redistest.Start(t)
	// drain.delay 0s: on SIGTERM the node closes its connections at once (no load balancer
	// here to tell), then exits.
	env := cleanEnv("RIPTIDE_LISTEN_ADDR=127.0.0.1:0", "RIPTIDE_AUTH_JWT_HMAC_SECRET="+raceSecret, "RIPTIDE_DRAIN_DELAY=0s",
		"RIPTIDE_REDIS_URL="+r.URL(), "RIPTIDE_POLICY_ROOMS="+raceRooms, "RIPTIDE_POLICY_MEMBER_TTL="+raceTTL.String())
	a, b := startRaceNode(t, bin, env), startRaceNode(t, bin, env)
	urlA, urlB := "http://"+a.addr, "http://"+b.addr

	t.Run("race", func(t *testing.T) { testMemberRace(t, urlA, urlB) })
	t.Run("presence", func(t *testing.T) { testPresenceAcrossNodes(t, urlA, urlB) })
	// Each outage stops a node of its own, which holds half of a full room.
	t.Run("crash", func(t *testing.T) { testNodeOutage(t, urlA, startRaceNode(t, bin, env), syscall.SIGKILL) })
	t.Run("shutdown", func(t *testing.T) { testNodeOutage(t, urlA, startRaceNode(t, bin, env), syscall.SIGTERM) })
}

// raceNode is a riptide binary of TestMembersAcrossNodes.
type raceNode struct {
	*process
	stopped atomic.Bool // by the test, which checked how
}

// startRaceNode starts bin; cleanup stops it with SIGTERM and checks it exits 0, unless
// the test stopped it, and shows its last log lines when the test failed.
func startRaceNode(t *testing.T, bin string, env []string) *raceNode {
	t.Helper()
	n := &raceNode{process: launch(t, bin, env)}
	t.Cleanup(func() {
		if !n.stopped.Load() {
			if err := n.stop(syscall.SIGTERM, 15*time.Second); err != nil {
				t.Errorf("riptide %s after SIGTERM: %v", n.addr, err)
			}
		}
		if t.Failed() {
			l := n.logged()
			t.Logf("log of riptide %s:\n%s", n.addr, strings.Join(l[max(0, len(l)-100):], "\n"))
		}
	})
	return n
}

// stop sends sig to the node (by its PID) and waits up to wait for it to exit; it returns
// the exit status (nil for exit 0). A node still running after wait is killed.
func (n *raceNode) stop(sig syscall.Signal, wait time.Duration) error {
	n.stopped.Store(true)
	_ = n.cmd.Process.Signal(sig)
	select {
	case err := <-n.exited:
		return err
	case <-time.After(wait):
		_ = n.cmd.Process.Kill()
		<-n.exited
		return fmt.Errorf("did not exit within %v of %v", wait, sig)
	}
}

// raceClient is a client of tier-race.js.
type raceClient struct {
	Name      string         `json:"name"`
	URL       string         `json:"url"`
	Transport string         `json:"transport"`
	Auth      map[string]any `json:"auth"`
}

// raceJoin is the outcome of one join as tier-race.js reports it.
type raceJoin struct {
	Name    string `json:"name"`
	ID      string `json:"id"`
	At      int64  `json:"at"` // unix ms of the answer
	OK      bool   `json:"ok"`
	Count   int    `json:"count"`
	Members []struct {
		SocketID string `json:"socketId"`
		UserID   string `json:"userId"`
	} `json:"members"`
	Code    string `json:"code"`
	Timeout bool   `json:"timeout"`
}

// ids returns the members' socket ids, in the answer's order, and checks that each member
// carries the user of its socket (users[socket id]).
func (j *raceJoin) ids(users map[string]string) ([]string, error) {
	out := make([]string, 0, len(j.Members))
	for _, m := range j.Members {
		if u, ok := users[m.SocketID]; !ok || u != m.UserID {
			return nil, fmt.Errorf("member %s with user %q, want %q", m.SocketID, m.UserID, u)
		}
		out = append(out, m.SocketID)
	}
	return out, nil
}

// raceAuth returns the auth option of user's client: a JWT with sub = user.
func raceAuth(t *testing.T, user string) map[string]any {
	t.Helper()
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"sub": user, "exp": time.Now().Add(time.Hour).Unix(),
	}).SignedString([]byte(raceSecret))
	if err != nil {
		t.Fatal(err)
	}
	return map[string]any{"token": tok}
}

// raceClients returns n clients of the node at url, named prefix1..n (their users too),
// alternating polling and WebSocket from the transport of index odd.
func raceClients(t *testing.T, url, prefix string, n, odd int) []raceClient {
	var out []raceClient
	for i := 0; i < n; i++ {
		tr := "polling"
		if (i+odd)%2 == 1 {
			tr = "websocket"
		}
		name := fmt.Sprintf("%s%d", prefix, i+1)
		out = append(out, raceClient{Name: name, URL: url, Transport: tr, Auth: raceAuth(t, name)})
	}
	return out
}

// runRace runs tier-race.js with plan (and its clients) and decodes its result into out.
func runRace(t *testing.T, plan map[string]any, out any, args ...string) {
	t.Helper()
	b, err := json.Marshal(plan)
	if err != nil {
		t.Fatal(err)
	}
	raw := nodetest.Run(t, 90*time.Second, "tier-race.js", append([]string{"--plan", writeFile(t, "plan.json", string(b)), "--timeout", "80000"}, args...)...)
	if err := json.Unmarshal(raw, out); err != nil {
		t.Fatalf("tier-race.js result: %v\n%s", err, raw)
	}
}

// testMemberRace: 15 clients on each node, all connected, then all join the same room at
// once, for several rounds (a new room each).
func testMemberRace(t *testing.T, urlA, urlB string) {
	clients := append(raceClients(t, urlA, "a", racePerNode, 0), raceClients(t, urlB, "b", racePerNode, 1)...)
	var rooms []string
	for i := 1; i <= raceRounds; i++ {
		rooms = append(rooms, fmt.Sprintf("race:r%d", i))
	}
	var res struct {
		Rounds []struct {
			Room     string     `json:"room"`
			SpreadMs int        `json:"spreadMs"`
			Joins    []raceJoin `json:"joins"`
			Rejoins  []raceJoin `json:"rejoins"`
			Retries  []raceJoin `json:"retries"`
		} `json:"rounds"`
	}
	runRace(t, map[string]any{"mode": "race", "clients": clients, "rooms": rooms}, &res)
	if len(res.Rounds) != raceRounds {
		t.Fatalf("%d rounds, want %d", len(res.Rounds), raceRounds)
	}
	for _, round := range res.Rounds {
		if err := checkRace(round.Joins, round.Rejoins, round.Retries, len(clients)); err != nil {
			t.Errorf("%s: %v", round.Room, err)
		}
		accepted := map[byte]int{}
		for _, j := range round.Joins {
			if j.OK {
				accepted[j.Name[0]]++
			}
		}
		t.Logf("%s: joins sent within %d ms; accepted %d on A, %d on B", round.Room, round.SpreadMs, accepted['a'], accepted['b'])
	}
}

// checkRace judges one round: exactly raceMax of n joins accepted, the others ROOM_FULL;
// counts 1..raceMax; the answer with count k lists the first k members of the final list;
// each member's rejoin answers the full list; each refused client's retry is refused.
func checkRace(joins, rejoins, retries []raceJoin, n int) error {
	if len(joins) != n {
		return fmt.Errorf("%d joins answered, want %d", len(joins), n)
	}
	users := map[string]string{} // socket id -> user
	var counts []int
	var full []string // the member list of the answer with count raceMax
	for _, j := range joins {
		users[j.ID] = j.Name
	}
	for _, j := range joins {
		switch {
		case j.OK:
			counts = append(counts, j.Count)
			if j.Count == raceMax {
				full, _ = j.ids(users)
			}
		case j.Code != "ROOM_FULL":
			return fmt.Errorf("%s: %+v, want ok or ROOM_FULL", j.Name, j)
		}
	}
	slices.Sort(counts)
	if want := []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}; !slices.Equal(counts, want) {
		return fmt.Errorf("accepted joins with counts %v, want %v (%d accepted of %d)", counts, want, len(counts), n)
	}
	for _, j := range joins {
		if !j.OK {
			continue
		}
		ids, err := j.ids(users)
		if err != nil {
			return fmt.Errorf("%s's answer: %v", j.Name, err)
		}
		if len(full) < j.Count || !slices.Equal(ids, full[:j.Count]) || !slices.Contains(ids, j.ID) {
			return fmt.Errorf("%s's answer (count %d) lists %v; the room's list is %v", j.Name, j.Count, ids, full)
		}
	}
	if len(rejoins) != raceMax || len(retries) != n-raceMax {
		return fmt.Errorf("%d rejoins and %d retries", len(rejoins), len(retries))
	}
	for _, j := range rejoins {
		ids, err := j.ids(users)
		if !j.OK || j.Count != raceMax || err != nil || !slices.Equal(ids, full) {
			return fmt.Errorf("%s rejoined: %+v (%v), want count %d and the list %v", j.Name, j, err, raceMax, full)
		}
	}
	for _, j := range retries {
		if j.OK || j.Code != "ROOM_FULL" {
			return fmt.Errorf("%s retried: %+v, want ROOM_FULL", j.Name, j)
		}
	}
	return nil
}

// testPresenceAcrossNodes: a member on A hears of the joins and leaves of a client on B,
// and the other way round, with the member list, on polling and on WebSocket.
func testPresenceAcrossNodes(t *testing.T, urlA, urlB string) {
	for _, tr := range []string{"polling", "websocket"} {
		t.Run(tr, func(t *testing.T) {
			room := "race:presence-" + tr
			clients := map[string]nodetest.ClientDef{
				"a1": {Auth: raceAuth(t, "a1")}, "a2": {Auth: raceAuth(t, "a2")},
				"b1": {Auth: raceAuth(t, "b1"), URL: urlB},
			}
			// notice checks a user-joined or user-left notice: its room, its user, and the
			// member list (by user, in join order).
			notice := func(c, event, user string, members ...string) nodetest.Check {
				return nodetest.Expect(c, event, func(a []json.RawMessage) error {
					if len(a) == 0 {
						return fmt.Errorf("no arguments")
					}
					m := nodetest.Obj(a[0])
					if u, _ := m["user"].(map[string]any); m["room"] != room || u["userId"] != user || u["socketId"] == nil {
						return fmt.Errorf("%s %s, want room %s and user %s", event, a[0], room, user)
					}
					return memberUsers(m["members"], members...)
				})
			}
			joined := func(c string, members ...string) nodetest.Check {
				return nodetest.EmitAck(c, "join", []any{room}, func(m map[string]any) error {
					if m["count"] != float64(len(members)) {
						return fmt.Errorf("count %v, want %d", m["count"], len(members))
					}
					return memberUsers(m["members"], members...)
				})
			}
			checks := []nodetest.Check{
				nodetest.Connect("a1"), nodetest.Connect("a2"), nodetest.Connect("b1"),
				joined("a1", "a1"),
				// a1's user-joined reaches node B through Redis pub/sub, asynchronously: a
				// client joining there within that delay would still get it, as with Node's
				// Redis adapter (its join answer's list is what counts). Let it pass.
				{Step: nodetest.Step{Sleep: 500}},
				joined("b1", "a1", "b1"),
				notice("a1", "user-joined", "b1", "a1", "b1"),
				nodetest.EmitAck("b1", "leave", []any{room}, nil),
				notice("a1", "user-left", "b1", "a1"),
				joined("b1", "a1", "b1"),
				notice("a1", "user-joined", "b1", "a1", "b1"),
				joined("a2", "a1", "b1", "a2"), // from A to B
				notice("b1", "user-joined", "a2", "a1", "b1", "a2"),
				notice("a1", "user-joined", "a2", "a1", "b1", "a2"),
				{Step: nodetest.Step{C: "b1", Disconnect: true}},
				notice("a1", "user-left", "b1", "a1", "a2"),
				notice("a2", "user-left", "b1", "a1", "a2"),
				nodetest.None("a1", "user-left"),
			}
			sc := nodetest.Scenario{URL: urlA, Transport: tr, Clients: clients}
			for _, c := range checks {
				sc.Steps = append(sc.Steps, c.Step)
			}
			for i, r := range nodetest.RunScenario(t, sc) {
				if checks[i].Want == nil {
					continue
				}
				if err := checks[i].Want(r); err != nil {
					b, _ := json.Marshal(checks[i].Step)
					t.Errorf("step %d %s: %v", i, b, err)
				}
			}
		})
	}
}

// memberUsers checks a member list: the users, in join order, each with a socket id.
func memberUsers(v any, users ...string) error {
	list, _ := v.([]any)
	var got []string
	for _, e := range list {
		m, _ := e.(map[string]any)
		if m["socketId"] == nil {
			return fmt.Errorf("member without socketId: %v", m)
		}
		got = append(got, fmt.Sprint(m["userId"]))
	}
	if !slices.Equal(got, users) {
		return fmt.Errorf("members %v, want %v", got, users)
	}
	return nil
}

// testNodeOutage: node A and node b hold five members each of a full room; b is stopped
// with sig (by its PID) while they are members, then a client of A tries to join every
// 100 ms until accepted, and then rejoins until b's members are all gone from the list.
// With SIGTERM the first try after b exited is accepted, b's members are all gone, and A's
// members got "user-left" for each; with SIGKILL the tries are refused until b's members
// expire, between 2/3 and 1 member_ttl after the kill.
func testNodeOutage(t *testing.T, urlA string, b *raceNode, sig syscall.Signal) {
	const half = raceMax / 2
	onA := raceClients(t, urlA, "a", half+1, 0) // the last one is the probe
	onB := raceClients(t, "http://"+b.addr, "b", half, 1)
	var fill []string
	for i := 0; i < half; i++ {
		fill = append(fill, onA[i].Name, onB[i].Name)
	}
	probe := onA[half].Name
	room := "race:" + strings.ToLower(strings.TrimPrefix(sig.String(), "SIG")) // race:killed, race:terminated

	dir := t.TempDir()
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // the script asks, through files, for b to be stopped
		defer wg.Done()
		for {
			if _, err := os.Stat(filepath.Join(dir, "stop")); err == nil {
				break
			}
			select {
			case <-done:
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
		signaled := time.Now().UnixMilli()
		err := b.stop(sig, 15*time.Second)
		stopped, _ := json.Marshal(map[string]any{"signaled": signaled, "exited": time.Now().UnixMilli(), "exit": fmt.Sprint(err)})
		_ = os.WriteFile(filepath.Join(dir, "stopped"), stopped, 0o644)
	}()
	defer func() {
		close(done)
		wg.Wait()
	}()
	deadline := raceTTL + 3*time.Second
	var res struct {
		Fill     []raceJoin `json:"fill"`
		Before   raceJoin   `json:"before"`
		Attempts []raceJoin `json:"attempts"`
		Settled  raceJoin   `json:"settled"`
		Stopped  struct {
			Signaled int64  `json:"signaled"` // unix ms
			Exited   int64  `json:"exited"`
			Exit     string `json:"exit"`
		} `json:"stopped"`
		Notices map[string][]struct {
			Event string `json:"event"`
			User  struct {
				UserID string `json:"userId"`
			} `json:"user"`
		} `json:"notices"`
	}
	runRace(t, map[string]any{
		"mode": "outage", "clients": append(onA, onB...), "room": room, "fill": fill, "probe": probe,
		"pollMs": 100, "deadlineMs": deadline.Milliseconds(), "settleCount": half + 1,
	}, &res, "--signal-dir", dir)

	users := map[string]string{}
	var want []string // the list once b's members are gone: A's and the probe
	for i, j := range res.Fill {
		users[j.ID] = j.Name
		if !j.OK || j.Count != i+1 {
			t.Fatalf("fill: %s: %+v, want count %d", j.Name, j, i+1)
		}
		if strings.HasPrefix(j.Name, "a") {
			want = append(want, j.ID)
		}
	}
	users[res.Before.ID] = probe
	want = append(want, res.Before.ID)
	if res.Before.OK || res.Before.Code != "ROOM_FULL" {
		t.Fatalf("join to the full room: %+v, want ROOM_FULL", res.Before)
	}
	wantExit := "<nil>"
	if sig == syscall.SIGKILL {
		wantExit = "signal: killed"
	}
	if res.Stopped.Exit != wantExit {
		t.Fatalf("node after %v: %s, want %s", sig, res.Stopped.Exit, wantExit)
	}
	if len(res.Attempts) == 0 || !res.Attempts[len(res.Attempts)-1].OK {
		t.Fatalf("no join accepted within %v of the node's exit: %+v", deadline, res.Attempts)
	}
	first, joined := res.Attempts[0], res.Attempts[len(res.Attempts)-1]
	since := func(j raceJoin) time.Duration { return time.Duration(j.At-res.Stopped.Signaled) * time.Millisecond }
	left := 0 // user-left notices A's members got for b's members
	for _, n := range onA[:half] {
		for _, e := range res.Notices[n.Name] {
			if e.Event == "user-left" && strings.HasPrefix(e.User.UserID, "b") {
				left++
			}
		}
	}
	t.Logf("%v: exited after %v; first join answered after %v; accepted after %v (%d tries), b's members gone after %v; %d user-left notices",
		sig, time.Duration(res.Stopped.Exited-res.Stopped.Signaled)*time.Millisecond, since(first), since(joined), len(res.Attempts), since(res.Settled), left)
	if ids, err := res.Settled.ids(users); err != nil || !res.Settled.OK || res.Settled.Count != half+1 || !slices.Equal(ids, want) {
		t.Errorf("%v after the node stopped the room holds %d: %v (%v); want %d, %v", since(res.Settled), res.Settled.Count, ids, err, half+1, want)
	}

	if sig == syscall.SIGTERM {
		// b's members left as it shut down: all at once, each with a notice to each of A's.
		if !first.OK || first.Count != half+1 {
			t.Errorf("first join after the node's clean exit: %+v, want it accepted with count %d", first, half+1)
		}
		if left != half*half {
			t.Errorf("A's %d members got %d user-left notices for b's %d, want %d: %v", half, left, half, half*half, res.Notices)
		}
		return
	}
	// SIGKILL: b's members count until they expire, between 2/3 and 1 member_ttl after the
	// kill (b refreshed them at most member_ttl/3 before), one after the other as they
	// joined; the lower bound keeps some slack for a late refresh on a loaded machine.
	if since(first) >= raceTTL*2/3 {
		t.Fatalf("first join answered %v after the kill: too late to see the members still counted", since(first))
	}
	for _, j := range res.Attempts[:len(res.Attempts)-1] {
		if j.Code != "ROOM_FULL" {
			t.Errorf("join %v after the kill: %+v, want ROOM_FULL (b's members count until member_ttl)", since(j), j)
		}
	}
	if first.OK {
		t.Errorf("join %v after the kill accepted, want ROOM_FULL (b's members count until member_ttl)", since(first))
	}
	if d := since(joined); d < raceTTL/2 {
		t.Errorf("a place freed %v after the kill, want not before %v (2/3 member_ttl)", d, raceTTL*2/3)
	}
	if d := since(res.Settled); d > raceTTL+time.Second {
		t.Errorf("b's members still counted %v after the kill, want gone after %v (member_ttl)", d, raceTTL)
	}
	if left != 0 {
		t.Errorf("%d user-left notices for the members of a crashed node, want none (they expire silently)", left)
	}
}
