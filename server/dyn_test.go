package server

import (
	"regexp"
	"testing"
)

func TestDynamicNamespace(t *testing.T) {
	io := New(Options{})
	dyn := io.OfPattern(regexp.MustCompile(`^/dyn-\d+$`))
	dyn.On("whoami", func(s *Socket, ev *Event) { _ = ev.Ack(s.Namespace().Name()) })
	addr := startIO(t, io)
	w := dialWire(t, addr)
	w.connect("/dyn-1", "")
	w.send(`42/dyn-1,7["whoami"]`)
	if got := w.next(); got != `43/dyn-1,7["/dyn-1"]` {
		t.Fatalf("got %q", got)
	}
	w.send(`40/other,`)
	if got := w.next(); got != `44/other,{"message":"Invalid namespace"}` {
		t.Fatalf("got %q", got)
	}
}
