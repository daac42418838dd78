package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
)

// fakeSIO is a minimal Socket.IO server running the bench protocol: CONNECT,
// "join" with ack, "ping" with ack, "publish" to the others in a room. One
// goroutine per connection; writes to a connection hold its lock. Only for
// tests.
type fakeSIO struct {
	ln    net.Listener
	mu    sync.Mutex
	rooms map[string]map[*fakeConn]struct{}
	conns []*fakeConn
	wg    sync.WaitGroup
}

type fakeConn struct {
	c  net.Conn
	mu sync.Mutex
}

func (fc *fakeConn) send(p string) error {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	return wsutil.WriteServerText(fc.c, []byte(p))
}

func startFakeSIO(t *testing.T) *fakeSIO {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeSIO{ln: ln, rooms: map[string]map[*fakeConn]struct{}{}}
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			fc := &fakeConn{c: c}
			f.mu.Lock()
			f.conns = append(f.conns, fc)
			f.mu.Unlock()
			f.wg.Add(1)
			go func() { defer f.wg.Done(); f.serve(fc) }()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		f.mu.Lock()
		for _, fc := range f.conns {
			fc.c.Close()
		}
		f.mu.Unlock()
		f.wg.Wait()
	})
	return f
}

func (f *fakeSIO) serve(fc *fakeConn) {
	defer fc.c.Close()
	if _, err := ws.Upgrade(fc.c); err != nil {
		return
	}
	if fc.send(`0{"sid":"s","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`) != nil {
		return
	}
	_ = fc.send("2") // a ping before anything else: clients must answer it
	for {
		msg, op, err := wsutil.ReadClientData(fc.c)
		if err != nil {
			return
		}
		if op != ws.OpText {
			continue
		}
		p := string(msg)
		switch {
		case p == "40":
			_ = fc.send(`40{"sid":"x"}`)
		case strings.HasPrefix(p, "42"):
			f.event(fc, p[2:])
		}
	}
}

// event handles `<id>["name",args...]`.
func (f *fakeSIO) event(fc *fakeConn, p string) {
	i := strings.IndexByte(p, '[')
	id := p[:i]
	var args []json.RawMessage
	if json.Unmarshal([]byte(p[i:]), &args) != nil || len(args) == 0 {
		return
	}
	var name, room string
	_ = json.Unmarshal(args[0], &name)
	switch name {
	case "join":
		_ = json.Unmarshal(args[1], &room)
		f.mu.Lock()
		if f.rooms[room] == nil {
			f.rooms[room] = map[*fakeConn]struct{}{}
		}
		f.rooms[room][fc] = struct{}{}
		f.mu.Unlock()
		_ = fc.send("43" + id + "[]")
	case "ping":
		parts := make([]string, len(args)-1)
		for k, a := range args[1:] {
			parts[k] = string(a)
		}
		_ = fc.send("43" + id + "[" + strings.Join(parts, ",") + "]")
	case "publish":
		_ = json.Unmarshal(args[1], &room)
		parts := make([]string, len(args)-2)
		for k, a := range args[2:] {
			parts[k] = string(a)
		}
		ev := "42[" + strings.Join(parts, ",") + "]"
		f.mu.Lock()
		var to []*fakeConn
		for m := range f.rooms[room] {
			if m != fc {
				to = append(to, m)
			}
		}
		f.mu.Unlock()
		for _, m := range to {
			_ = m.send(ev)
		}
	}
}

// roleHarness runs a worker with a role in-process and keeps what it writes.
type roleHarness struct {
	in    *io.PipeWriter
	mu    sync.Mutex
	last  workerStatus
	stats map[int64]*workerStats
	comp  [2]int64 // latest "c GEN SEQ"
	done  chan error
}

func startRoleWorker(t *testing.T, addr, role, room string) *roleHarness {
	t.Helper()
	cfg := workerConfig{
		addr: addr, path: "/socket.io/", srcs: []net.IP{net.ParseIP("127.0.0.1")},
		concurrency: 4, dialTimeout: 5 * time.Second, role: role, sio: true, room: room,
	}
	w := newWorker(cfg, 1024)
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	h := &roleHarness{in: inW, stats: map[int64]*workerStats{}, done: make(chan error, 1)}
	go func() {
		err := w.serve(inR, outW)
		w.shutdown()
		outW.Close()
		h.done <- err
	}()
	go func() {
		sc := bufio.NewScanner(outR)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			b := sc.Bytes()
			h.mu.Lock()
			if f := strings.Fields(string(b)); len(f) == 3 && f[0] == "c" {
				h.comp[0], _ = strconv.ParseInt(f[1], 10, 64)
				h.comp[1], _ = strconv.ParseInt(f[2], 10, 64)
			} else {
				var line workerLine
				if json.Unmarshal(b, &line) == nil {
					if line.Stats != nil {
						h.stats[line.Stats.Gen] = line.Stats
					} else {
						h.last = line.workerStatus
					}
				}
			}
			h.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		inW.Close()
		select {
		case <-h.done:
		case <-time.After(5 * time.Second):
			t.Error("worker did not stop")
		}
	})
	return h
}

func (h *roleHarness) send(t *testing.T, format string, args ...any) {
	t.Helper()
	if _, err := fmt.Fprintf(h.in, format+"\n", args...); err != nil {
		t.Fatal(err)
	}
}

func (h *roleHarness) waitFor(t *testing.T, what string, cond func(h *roleHarness) bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		h.mu.Lock()
		ok := cond(h)
		h.mu.Unlock()
		if ok {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	t.Fatalf("timed out waiting for %s; last status %+v", what, h.last)
}

// Subscribers count every broadcast once; the publisher keeps within its
// window, fed by the subscribers' completion lines as the parent relays them.
func TestFanoutRoles(t *testing.T) {
	srv := startFakeSIO(t)
	addr := srv.ln.Addr().String()
	sub := startRoleWorker(t, addr, roleSub, fanoutRoom)
	pub := startRoleWorker(t, addr, rolePub, "")
	sub.send(t, "target 3")
	pub.send(t, "target 1")
	sub.waitFor(t, "3 subscribers", func(h *roleHarness) bool { return h.last.Connected == 3 && h.last.Done })
	pub.waitFor(t, "publisher", func(h *roleHarness) bool { return h.last.Connected == 1 })
	sub.send(t, "reset 5")
	sub.waitFor(t, "reset", func(h *roleHarness) bool { return h.last.Gen == 5 })

	stop := make(chan struct{})
	relayed := make(chan struct{})
	go func() { // the parent's relay
		defer close(relayed)
		var last int64
		for {
			select {
			case <-stop:
				return
			case <-time.After(time.Millisecond):
			}
			sub.mu.Lock()
			c := sub.comp
			sub.mu.Unlock()
			if c[0] == 5 && c[1] > last {
				last = c[1]
				fmt.Fprintf(pub.in, "done 5 %d\n", last)
			}
		}
	}()
	pub.send(t, "pub 5 flat 0 300 2 %s xx", fanoutRoom)
	pub.waitFor(t, "publisher done", func(h *roleHarness) bool { return h.last.PubGen == 5 && h.last.PubDone })
	pub.mu.Lock()
	sent, perr := pub.last.PubSent, pub.last.PubErr
	pub.mu.Unlock()
	if sent < 3 || perr != "" {
		t.Fatalf("publisher sent %d (%s)", sent, perr)
	}
	sub.waitFor(t, "every broadcast complete", func(h *roleHarness) bool { return h.comp == [2]int64{5, sent} })
	close(stop)
	<-relayed
	sub.send(t, "stats 5")
	sub.waitFor(t, "stats", func(h *roleHarness) bool { return h.stats[5] != nil })
	sub.mu.Lock()
	st := sub.stats[5]
	sub.mu.Unlock()
	var m mergedHist
	m.add(st.Hist)
	if st.Count != 3*sent || st.Stray != 0 || st.Sessions != 3 || m.total != st.Count {
		t.Fatalf("stats %+v (hist total %d), want %d messages", st, m.total, 3*sent)
	}
}

// A paced publisher keeps its schedule.
func TestPacedPublisher(t *testing.T) {
	srv := startFakeSIO(t)
	pub := startRoleWorker(t, srv.ln.Addr().String(), rolePub, "")
	pub.send(t, "target 1")
	pub.waitFor(t, "publisher", func(h *roleHarness) bool { return h.last.Connected == 1 })
	// No subscribers, so no completion: a window of 100 is never full.
	pub.send(t, "pub 2 paced 20000 500 100 nobody -")
	pub.waitFor(t, "publisher done", func(h *roleHarness) bool { return h.last.PubGen == 2 && h.last.PubDone })
	pub.mu.Lock()
	got := pub.last.PubSent
	pub.mu.Unlock()
	if got < 20 || got > 26 {
		t.Fatalf("sent %d broadcasts in 500 ms at one per 20 ms, want about 25", got)
	}
}

func TestEchoRole(t *testing.T) {
	srv := startFakeSIO(t)
	h := startRoleWorker(t, srv.ln.Addr().String(), roleEcho, "")
	h.send(t, "target 4")
	h.waitFor(t, "4 clients", func(h *roleHarness) bool { return h.last.Connected == 4 && h.last.Done })
	h.send(t, "reset 1")
	h.waitFor(t, "reset", func(h *roleHarness) bool { return h.last.Gen == 1 })
	h.send(t, "echo 1 200")
	h.waitFor(t, "echo run over", func(h *roleHarness) bool { return h.last.EchoGen == 1 })
	h.send(t, "stats 1")
	h.waitFor(t, "stats", func(h *roleHarness) bool { return h.stats[1] != nil })
	h.mu.Lock()
	st := h.stats[1]
	h.mu.Unlock()
	if st.Count < 40 || st.Broken != 0 {
		t.Fatalf("stats %+v: want at least 40 round trips from 4 clients in 200 ms, none broken", st)
	}
	if !bytes.Contains([]byte(fmt.Sprint(st.Hist)), []byte("[")) {
		t.Fatal("no latency histogram")
	}
}
