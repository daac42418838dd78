package server

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
)

// record is an Observer that writes down what it sees, one line per hook call.
type record struct {
	mu    sync.Mutex
	lines []string
}

func (r *record) add(format string, args ...any) {
	r.mu.Lock()
	r.lines = append(r.lines, fmt.Sprintf(format, args...))
	r.mu.Unlock()
}

func (r *record) has(line string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Contains(r.lines, line)
}

func (r *record) observer() *Observer {
	return &Observer{
		Connected:    func(s *Socket) { r.add("connected %s %s", s.Namespace().Name(), s.ID()) },
		Disconnected: func(s *Socket, why DisconnectReason) { r.add("disconnected %s %s", s.ID(), why) },
		Joined:       func(n *Namespace, room, id string) { r.add("joined %s %s %s", n.Name(), room, id) },
		Left:         func(n *Namespace, room, id string) { r.add("left %s %s %s", n.Name(), room, id) },
		EventIn:      func(s *Socket, ev *Event) { r.add("in %s %s %s", s.ID(), ev.Name, ev.JSON()) },
		EventOut:     func(n *Namespace, id string, ev Args) { r.add("out %s %s %s", n.Name(), id, ev.JSON()) },
	}
}

// TestObserver: each hook reports what happens on every namespace, joins and leaves from
// every path included, and a paused observation reports nothing. (The traffic is the
// engine's counters' business: server/engine's Stats.)
func TestObserver(t *testing.T) {
	io := New(Options{})
	io.On("join", func(s *Socket, ev *Event) {
		room, _ := ev.String(0)
		s.Join(room)
		_ = s.Emit("joined", room)
	})
	io.On("leave", func(s *Socket, ev *Event) {
		room, _ := ev.String(0)
		s.Leave(room)
	})
	io.Of("/chat")
	r := &record{}
	ob, err := io.Observe(r.observer())
	if err != nil {
		t.Fatal(err)
	}
	defer ob.Close()
	if _, err := io.Observe(&Observer{}); !errors.Is(err, ErrObserved) {
		t.Fatalf("a second observer: %v", err)
	}
	if got := io.Namespaces(); len(got) != 2 || got[0].Name() != "/" || got[1].Name() != "/chat" {
		t.Fatalf("namespaces %v", got)
	}
	addr := startIO(t, io)
	w := dialWire(t, addr)
	id := w.connect("/", "")
	w.send(`42["join","r1"]`)
	if m := w.next(); m != `42["joined","r1"]` {
		t.Fatalf("got %s", m)
	}
	io.In(id).SocketsJoin("r2")
	w.send(`42["leave","r1"]`)
	want := []string{
		"connected / " + id,
		`in ` + id + ` join ["r1"]`,
		"joined / r1 " + id,
		`out / ` + id + ` ["joined","r1"]`,
		"joined / r2 " + id,
		"left / r1 " + id,
	}
	for _, line := range want {
		waitFor(t, line, func() bool { return r.has(line) })
	}
	// A broadcast reports the event to each recipient.
	_ = io.To("r2").Emit("news", 1)
	waitFor(t, "broadcast", func() bool { return r.has(`out / ` + id + ` ["news",1]`) })
	if m := w.next(); m != `42["news",1]` {
		t.Fatalf("got %s", m)
	}
	w.send("41")
	for _, line := range []string{"left / r2 " + id, "disconnected " + id + " client namespace disconnect"} {
		waitFor(t, line, func() bool { return r.has(line) })
	}
	// Paused: nothing more is seen.
	ob.Set(nil)
	if io.Observing() {
		t.Fatal("Observing after Set(nil)")
	}
	r.mu.Lock()
	n := len(r.lines)
	r.mu.Unlock()
	w2 := dialWire(t, addr)
	id2 := w2.connect("/", "")
	w2.send(`42["join","r3"]`)
	if m := w2.next(); m != `42["joined","r3"]` {
		t.Fatalf("got %s", m)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.lines) != n {
		t.Errorf("a paused observer saw %q (socket %s)", r.lines[n:], id2)
	}
}
