package server

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/riptide-io/riptide/rooms"
)

func TestConnectEventAck(t *testing.T) {
	io := New(Options{})
	io.On("echo", func(s *Socket, ev *Event) { _ = s.Emit("echo", ev.Args) })
	io.On("echo-ack", func(_ *Socket, ev *Event) { _ = ev.Ack(ev.Args) })
	addr := startIO(t, io)
	w := dialWire(t, addr)
	w.connect("/", "")
	// Numbers, key order and unicode come back exactly as written.
	w.send(`42["echo",1,1.50,"é\u00e9",{"z":1,"a":[true,null]}]`)
	if got := w.next(); got != `42["echo",1,1.50,"é\u00e9",{"z":1,"a":[true,null]}]` {
		t.Fatalf("echo %q", got)
	}
	w.send(`4217["echo-ack",1,"two"]`)
	if got := w.next(); got != `4317[1,"two"]` {
		t.Fatalf("ack %q", got)
	}
	// Binary: one attachment each way, and an empty one.
	w.send(`452-["echo",{"b":{"_placeholder":true,"num":0}},{"_placeholder":true,"num":1}]`)
	w.sendBinary([]byte{1, 2, 3})
	w.sendBinary([]byte{})
	if got := w.next(); got != `452-["echo",{"b":{"_placeholder":true,"num":0}},{"_placeholder":true,"num":1}]` {
		t.Fatalf("binary echo %q", got)
	}
	if b := w.nextBinary(); string(b) != "\x01\x02\x03" {
		t.Fatalf("attachment 0 %q", b)
	}
	if b := w.nextBinary(); len(b) != 0 {
		t.Fatalf("attachment 1 %q", b)
	}
	// A binary ack.
	w.send(`451-9["echo-ack",{"_placeholder":true,"num":0}]`)
	w.sendBinary([]byte("x"))
	if got := w.next(); got != `461-9[{"_placeholder":true,"num":0}]` {
		t.Fatalf("binary ack %q", got)
	}
	if b := w.nextBinary(); string(b) != "x" {
		t.Fatalf("ack attachment %q", b)
	}
}

func TestNamespacesAndConnectErrors(t *testing.T) {
	io := New(Options{})
	io.Of("/custom").OnConnection(func(s *Socket) { _ = s.Emit("hello", s.Namespace().Name()) })
	io.Of("/private").Use(func(s *Socket) error {
		if string(s.Handshake().Auth) != `{"token":"ok"}` {
			return &ConnectError{Message: "not authorized", Data: Object{{Key: "code", Value: 401}, {Key: "reason", Value: "bad token"}}}
		}
		return nil
	})
	io.Of("/plain").Use(func(*Socket) error { return errors.New("nope") })
	addr := startIO(t, io)
	w := dialWire(t, addr)
	// Without the trailing comma, as some clients send it; the reply has the comma.
	w.send("40/custom")
	reply := w.next()
	if !strings.HasPrefix(reply, `40/custom,{"sid":"`) {
		t.Fatalf("reply %q", reply)
	}
	if got := w.next(); got != `42/custom,["hello","/custom"]` {
		t.Fatalf("hello %q", got)
	}
	w.send("40/nowhere,")
	if got := w.next(); got != `44/nowhere,{"message":"Invalid namespace"}` {
		t.Fatalf("unknown namespace %q", got)
	}
	w.send(`40/private,{"token":"bad"}`)
	if got := w.next(); got != `44/private,{"message":"not authorized","data":{"code":401,"reason":"bad token"}}` {
		t.Fatalf("middleware refusal %q", got)
	}
	w.send(`40/plain,`)
	if got := w.next(); got != `44/plain,{"message":"nope"}` {
		t.Fatalf("plain error %q", got)
	}
	w.connect("/private", `{"token":"ok"}`)
	// The other namespace is unaffected.
	w.send(`41/custom,`)
	w.send(`40/custom,`)
	if !strings.HasPrefix(w.next(), `40/custom,{"sid":"`) {
		t.Fatal("reconnect to /custom failed")
	}
}

func TestInvalidPacketsCloseTheConnection(t *testing.T) {
	io := New(Options{})
	addr := startIO(t, io)
	for _, bad := range []string{`9`, `42"not an array"`, `42["x"]`, `4abc[]`, `45["x"]`} {
		t.Run(bad, func(t *testing.T) {
			w := dialWire(t, addr)
			if bad == `42["x"]` { // an event for a namespace the client is not in
				w.send(bad)
			} else {
				w.connect("/", "")
				w.send(bad)
			}
			w.expectClosed()
		})
	}
}

func TestConnectTimeout(t *testing.T) {
	io := New(Options{ConnectTimeout: 100 * time.Millisecond})
	addr := startIO(t, io)
	w := dialWire(t, addr)
	start := time.Now()
	w.expectClosed()
	if time.Since(start) < 90*time.Millisecond {
		t.Fatal("closed before connectTimeout")
	}
}

func TestHandlersInOrderAndBlockingDoesNotStallOthers(t *testing.T) {
	io := New(Options{})
	release := make(chan struct{})
	var mu sync.Mutex
	var seen []string
	io.On("block", func(*Socket, *Event) { <-release })
	io.On("n", func(s *Socket, ev *Event) {
		mu.Lock()
		seen = append(seen, s.ID()+":"+string(ev.Raw(0)))
		mu.Unlock()
	})
	addr := startIO(t, io)
	a, b := dialWire(t, addr), dialWire(t, addr)
	ida, idb := a.connect("/", ""), b.connect("/", "")
	a.send(`42["block"]`)
	for i := 0; i < 5; i++ {
		a.send(fmt.Sprintf(`42["n",%d]`, i))
		b.send(fmt.Sprintf(`42["n",%d]`, i))
	}
	// b's events run while a's handler blocks.
	waitFor(t, "b's events", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(seen) == 5
	})
	mu.Lock()
	for i, s := range seen {
		if s != fmt.Sprintf("%s:%d", idb, i) {
			t.Fatalf("seen %v", seen)
		}
	}
	mu.Unlock()
	close(release)
	waitFor(t, "a's events", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(seen) == 10
	})
	for i, s := range seen[5:] {
		if s != fmt.Sprintf("%s:%d", ida, i) {
			t.Fatalf("a's events out of order: %v", seen)
		}
	}
}

func TestPacketMiddlewareAndCatchAll(t *testing.T) {
	io := New(Options{})
	var anyCount atomic.Int32
	io.OnConnection(func(s *Socket) {
		s.OnAny(func(*Event) { anyCount.Add(1) })
		s.Use(func(ev *Event) error {
			if ev.Name == "admin" {
				return errors.New("unauthorized event")
			}
			return nil
		})
		s.OnError(func(err error) { _ = s.Emit("error", Object{{Key: "message", Value: err.Error()}}) })
	})
	io.On("admin", func(s *Socket, _ *Event) { _ = s.Emit("should-not-happen") })
	io.On("ok", func(s *Socket, _ *Event) { _ = s.Emit("done") })
	addr := startIO(t, io)
	w := dialWire(t, addr)
	w.connect("/", "")
	w.send(`42["admin"]`)
	if got := w.next(); got != `42["error",{"message":"unauthorized event"}]` {
		t.Fatalf("got %q", got)
	}
	w.send(`42["ok"]`)
	if got := w.next(); got != `42["done"]` {
		t.Fatalf("got %q", got)
	}
	if anyCount.Load() != 2 {
		t.Fatalf("catch-all saw %d events", anyCount.Load())
	}
}

func TestRoomsAndBroadcasts(t *testing.T) {
	io := New(Options{})
	io.On("join", func(s *Socket, ev *Event) {
		room, _ := ev.String(0)
		s.Join(room)
		_ = ev.Ack()
	})
	io.On("shout", func(s *Socket, ev *Event) { _ = s.Broadcast().Emit("shout", ev.Args) })
	io.On("room", func(s *Socket, ev *Event) {
		room, _ := ev.String(0)
		_ = s.To(room).Emit("room", ev.From(1))
	})
	addr := startIO(t, io)
	ws := make([]*wire, 3)
	ids := make([]string, 3)
	for i := range ws {
		ws[i] = dialWire(t, addr)
		ids[i] = ws[i].connect("/", "")
	}
	ws[0].send(`421["join","r"]`)
	ws[0].next()
	ws[1].send(`421["join","r"]`)
	ws[1].next()
	ws[2].send(`42["room","r","x"]`) // not a member: still reaches the room
	for _, w := range ws[:2] {
		if got := w.next(); got != `42["room","x"]` {
			t.Fatalf("room message %q", got)
		}
	}
	ws[0].send(`42["room","r","y"]`) // socket.to(room) excludes the sender
	if got := ws[1].next(); got != `42["room","y"]` {
		t.Fatalf("room message %q", got)
	}
	ws[0].send(`42["shout",1]`)
	for _, w := range ws[1:] {
		if got := w.next(); got != `42["shout",1]` {
			t.Fatalf("broadcast %q", got)
		}
	}
	// Server-side operations.
	io.In("r").SocketsJoin("s")
	socks, _ := io.In("s").FetchSockets()
	var got []string
	for _, s := range socks {
		got = append(got, s.ID)
	}
	sort.Strings(got)
	want := []string{ids[0], ids[1]}
	sort.Strings(want)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("fetched %v, want %v", got, want)
	}
	_ = io.Except(ids[0]).To("s").Emit("only-1")
	if got := ws[1].next(); got != `42["only-1"]` {
		t.Fatalf("except %q", got)
	}
	io.In("s").SocketsLeave("s")
	if socks, _ := io.In("s").FetchSockets(); len(socks) != 0 {
		t.Fatalf("%d sockets still in s", len(socks))
	}
	io.In(ids[2]).DisconnectSockets(false)
	if got := ws[2].next(); got != `41` {
		t.Fatalf("disconnect packet %q", got)
	}
}

func TestEmitWithAck(t *testing.T) {
	io := New(Options{})
	type result struct {
		args Args
		err  error
	}
	results := make(chan result, 4)
	io.On("go", func(s *Socket, _ *Event) {
		go func() {
			a, err := s.Timeout(200*time.Millisecond).EmitWithAck(context.Background(), "q", 1)
			results <- result{a, err}
		}()
	})
	io.On("all", func(*Socket, *Event) {
		go func() {
			answers, err := io.Timeout(time.Second).EmitWithAck(context.Background(), "poll")
			results <- result{Args{raw: []byte(fmt.Sprint(len(answers)))}, err}
		}()
	})
	addr := startIO(t, io)
	w := dialWire(t, addr)
	w.connect("/", "")
	w.send(`42["go"]`)
	q := w.next()
	if !strings.HasPrefix(q, `42`) || !strings.HasSuffix(q, `["q",1]`) {
		t.Fatalf("question %q", q)
	}
	id := strings.TrimSuffix(strings.TrimPrefix(q, "42"), `["q",1]`)
	w.send(`43` + id + `["a",{"n":2}]`)
	r := <-results
	var s string
	var m map[string]int
	if r.err != nil || r.args.Bind(&s, &m) != nil || s != "a" || m["n"] != 2 {
		t.Fatalf("ack %+v %s", r, r.args.JSON())
	}
	// No answer: ErrAckTimeout, and a late ack is harmless.
	w.send(`42["go"]`)
	q = w.next()
	r = <-results
	if !errors.Is(r.err, ErrAckTimeout) {
		t.Fatalf("want timeout, got %v", r.err)
	}
	id = strings.TrimSuffix(strings.TrimPrefix(q, "42"), `["q",1]`)
	w.send(`43` + id + `["late"]`)
	// Broadcast acks from every socket.
	w2 := dialWire(t, addr)
	w2.connect("/", "")
	w.send(`42["all"]`)
	for _, c := range []*wire{w, w2} {
		p := c.next()
		id := strings.TrimSuffix(strings.TrimPrefix(p, "42"), `["poll"]`)
		c.send(`43` + id + `["yes"]`)
	}
	r = <-results
	if r.err != nil || string(r.args.raw) != "2" {
		t.Fatalf("broadcast acks: %v %s", r.err, r.args.raw)
	}
}

func TestDisconnectReasons(t *testing.T) {
	io := New(Options{})
	reasons := make(chan DisconnectReason, 8)
	io.OnConnection(func(s *Socket) {
		s.OnDisconnecting(func(r DisconnectReason) {
			if len(s.Rooms()) == 0 {
				reasons <- "rooms already gone"
			}
		})
		s.OnDisconnect(func(r DisconnectReason) { reasons <- r })
	})
	io.On("kick", func(s *Socket, _ *Event) { s.Disconnect(false) })
	addr := startIO(t, io)
	w := dialWire(t, addr)
	w.connect("/", "")
	w.send(`41`)
	if r := <-reasons; r != ReasonClientDisconnect {
		t.Fatalf("reason %q", r)
	}
	w.connect("/", "")
	w.send(`42["kick"]`)
	if got := w.next(); got != "41" {
		t.Fatalf("got %q", got)
	}
	if r := <-reasons; r != ReasonServerDisconnect {
		t.Fatalf("reason %q", r)
	}
	w.connect("/", "")
	w.c.Close()
	if r := <-reasons; r != "transport close" && r != "transport error" {
		t.Fatalf("reason %q", r)
	}
}

func TestRecovery(t *testing.T) {
	io := New(Options{ConnectionStateRecovery: &Recovery{MaxDisconnectionDuration: time.Second}})
	io.On("join", func(s *Socket, ev *Event) {
		room, _ := ev.String(0)
		s.Join(room)
		s.SetData("kept")
		_ = ev.Ack()
	})
	addr := startIO(t, io)
	w := dialWire(t, addr)
	w.send("40")
	reply := w.next()
	var r struct{ Sid, Pid string }
	if err := jsonUnmarshal(reply[2:], &r); err != nil || r.Pid == "" {
		t.Fatalf("CONNECT reply %q", reply)
	}
	w.send(`421["join","r"]`)
	w.next()
	_ = io.To("r").Emit("m", 1)
	got := w.next()
	if !strings.HasPrefix(got, `42["m",1,"`) {
		t.Fatalf("stored event without offset: %q", got)
	}
	offset := strings.TrimSuffix(strings.TrimPrefix(got, `42["m",1,"`), `"]`)
	w.c.Close() // transport-level loss
	waitFor(t, "disconnect", func() bool { return io.Of("/").Count() == 0 })
	_ = io.To("r").Emit("m", 2)
	_ = io.Emit("all", 3)
	w2 := dialWire(t, addr)
	w2.send(fmt.Sprintf(`40{"pid":%q,"offset":%q}`, r.Pid, offset))
	reply = w2.next()
	if reply != fmt.Sprintf(`40{"sid":%q,"pid":%q}`, r.Sid, r.Pid) {
		t.Fatalf("recovered CONNECT reply %q", reply)
	}
	for _, want := range []string{`42["m",2,"`, `42["all",3,"`} {
		if got := w2.next(); !strings.HasPrefix(got, want) {
			t.Fatalf("missed packet %q, want %s...", got, want)
		}
	}
	s := io.Of("/").Socket(r.Sid)
	if s == nil || !s.Recovered() || s.Data() != "kept" {
		t.Fatalf("socket not restored: %+v", s)
	}
	rooms := s.Rooms()
	sort.Strings(rooms)
	want := []string{"r", r.Sid}
	sort.Strings(want)
	if fmt.Sprint(rooms) != fmt.Sprint(want) {
		t.Fatalf("rooms %v", rooms)
	}
}

// joinHook is the in-memory adapter with a hook that runs right after each AddAll.
type joinHook struct {
	*rooms.Memory
	after func(m rooms.Member, rs []rooms.Room)
}

func (a *joinHook) AddAll(m rooms.Member, rs []rooms.Room) {
	a.Memory.AddAll(m, rs)
	if a.after != nil {
		a.after(m, rs)
	}
}

// A broadcast that reaches a recovered socket right after it rejoined its rooms, before
// its replay was queued, arrives after the CONNECT reply and the missed packets, as in the
// reference (one event-loop turn there): not ahead of them.
func TestRecoveryReplayFirst(t *testing.T) {
	var hook *joinHook
	var io *Server
	var restoring atomic.Value // the sid being restored
	io = New(Options{
		ConnectionStateRecovery: &Recovery{MaxDisconnectionDuration: time.Minute},
		NewAdapter: func(h rooms.Host) rooms.Adapter {
			hook = &joinHook{Memory: rooms.NewMemory(h, rooms.MemoryOptions{Recovery: true, MaxDisconnectionDuration: time.Minute})}
			hook.after = func(m rooms.Member, _ []rooms.Room) {
				if sid, _ := restoring.Load().(string); sid != "" && m.ID() == sid {
					_ = io.To("r").Emit("live", 3)
					// Leave the event loop time to write the broadcast, were it not held.
					time.Sleep(50 * time.Millisecond)
				}
			}
			return hook
		},
	})
	io.On("join", func(s *Socket, ev *Event) {
		room, _ := ev.String(0)
		s.Join(room)
		_ = ev.Ack()
	})
	addr := startIO(t, io)
	w := dialWire(t, addr)
	w.send("40")
	var r struct{ Sid, Pid string }
	if reply := w.next(); jsonUnmarshal(reply[2:], &r) != nil || r.Pid == "" {
		t.Fatalf("CONNECT reply %q", reply)
	}
	w.send(`421["join","r"]`)
	w.next()
	_ = io.To("r").Emit("m", 1)
	offset := strings.TrimSuffix(strings.TrimPrefix(w.next(), `42["m",1,"`), `"]`)
	w.c.Close()
	waitFor(t, "disconnect", func() bool { return io.Of("/").Count() == 0 })
	_ = io.To("r").Emit("m", 2)

	restoring.Store(r.Sid)
	w2 := dialWire(t, addr)
	w2.send(fmt.Sprintf(`40{"pid":%q,"offset":%q}`, r.Pid, offset))
	for _, want := range []string{fmt.Sprintf(`40{"sid":%q,"pid":%q}`, r.Sid, r.Pid), `42["m",2,"`, `42["live",3,"`} {
		if got := w2.next(); !strings.HasPrefix(got, want) {
			t.Fatalf("got %q, want %s...: the broadcast after the join overtook the replay", got, want)
		}
	}
}
