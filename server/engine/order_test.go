package engine

import (
	"strconv"
	"testing"
)

// orderHandler answers each message with a broadcast to the sender and then a direct send,
// from inside the loop's turn on the session (OnMessage), where a send is flushed at the
// end of the turn while the broadcast waits for the mailbox's run.
type orderHandler struct{ echoHandler }

func (h *orderHandler) OnMessage(s *Session, data []byte, _ bool) {
	n := string(data)
	Broadcast(Prepare([]byte("b"+n), nil), []*Session{s}, false)
	_ = s.SendMessages([]byte("d"+n), nil, false)
	_ = s.Send([]byte("e"+n), false)
	_ = s.SendPrepared(Prepare([]byte("p"+n), nil), false)
}

// What a session is sent leaves in the order it was sent, a broadcast included: a send made
// while a broadcast to the session is on its way to the event loop is queued behind it.
func TestSendsAfterABroadcastStayBehindIt(t *testing.T) {
	h := &orderHandler{echoHandler: *newEcho()}
	_, l := startListener(t, Options{}, ListenConfig{}, h)
	w := dialWS(t, "ws://"+l.Addr()+eioPath+"?EIO=4&transport=websocket")
	w.readText() // open
	const n = 50
	for i := range n {
		w.sendText("4" + strconv.Itoa(i))
	}
	for i := range n {
		for _, kind := range []string{"b", "d", "e", "p"} {
			if got, want := w.readText(), "4"+kind+strconv.Itoa(i); got != want {
				t.Fatalf("got %q, want %q", got, want)
			}
		}
	}
}
