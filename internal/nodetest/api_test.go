package nodetest

import (
	"context"
	"errors"
	"regexp"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/riptide-io/riptide/internal/servetest"
	"github.com/riptide-io/riptide/server"
	"github.com/riptide-io/riptide/server/engine"
)

// apiServer exercises the Go API's less common calls for js/sio-api.js.
func apiServer() *server.Server {
	io := server.New(server.Options{})
	dyn := io.OfPattern(regexp.MustCompile(`^/dyn-\d+$`))
	dyn.On("whoami", func(s *server.Socket, ev *server.Event) { _ = ev.Ack(s.Namespace().Name()) })
	dyn.On("parent-broadcast", func(_ *server.Socket, ev *server.Event) { _ = dyn.Emit("parent-news", ev.Args) })

	var mu sync.Mutex
	seen := map[string][]string{}
	var closingLog []string
	io.OnConnection(func(s *server.Socket) {
		s.OnAny(func(ev *server.Event) {
			mu.Lock()
			seen[s.ID()] = append(seen[s.ID()], "any:"+ev.Name)
			mu.Unlock()
		})
		s.PrependAny(func(ev *server.Event) {
			mu.Lock()
			seen[s.ID()] = append(seen[s.ID()], "first:"+ev.Name)
			mu.Unlock()
		})
		s.OnAnyOutgoing(func(event string, _ []any) {
			mu.Lock()
			seen[s.ID()+"/out"] = append(seen[s.ID()+"/out"], event)
			mu.Unlock()
		})
		s.Use(func(ev *server.Event) error {
			if ev.Name == "forbidden" {
				return errors.New("forbidden event")
			}
			return nil
		})
		s.OnError(func(err error) { _ = s.Emit("rejected", err.Error()) })
		s.OnDisconnecting(func(reason server.DisconnectReason) {
			rooms := s.Rooms()
			rooms = slices.DeleteFunc(rooms, func(r string) bool { return r == s.ID() })
			mu.Lock()
			closingLog = append(append(closingLog[:0], rooms...), string(reason))
			mu.Unlock()
		})
	})
	io.On("seen", func(s *server.Socket, ev *server.Event) {
		mu.Lock()
		got := slices.Clone(seen[s.ID()])
		mu.Unlock()
		_ = ev.Ack(got)
	})
	io.On("greet", func(s *server.Socket, ev *server.Event) { _ = s.Emit("greeting"); _ = ev.Ack() })
	io.On("outgoing", func(s *server.Socket, ev *server.Event) {
		mu.Lock()
		got := slices.Clone(seen[s.ID()+"/out"])
		mu.Unlock()
		_ = ev.Ack(got)
	})
	io.On("run-survey", func(_ *server.Socket, ev *server.Event) {
		go func() {
			answers, err := io.Timeout(500*time.Millisecond).EmitWithAck(context.Background(), "survey", "q?")
			var got []string
			for _, a := range answers {
				v, _ := a.String(0)
				got = append(got, v)
			}
			slices.Sort(got)
			if err != nil {
				_ = ev.Ack(server.Object{{Key: "error", Value: err.Error()}, {Key: "answers", Value: got}})
				return
			}
			_ = ev.Ack(got)
		}()
	})
	io.On("join", func(s *server.Socket, ev *server.Event) {
		r, _ := ev.String(0)
		s.Join(r)
		_ = ev.Ack()
	})
	members := func(room string) []string {
		socks, _ := io.In(room).FetchSockets()
		ids := []string{}
		for _, x := range socks {
			ids = append(ids, x.ID)
		}
		return ids
	}
	io.On("sockets-join", func(_ *server.Socket, ev *server.Event) {
		var from, to string
		_ = ev.Bind(&from, &to)
		io.In(from).SocketsJoin(to)
		_ = ev.Ack(members(to))
	})
	io.On("sockets-leave", func(_ *server.Socket, ev *server.Event) {
		var from, room string
		_ = ev.Bind(&from, &room)
		io.In(from).SocketsLeave(room)
		_ = ev.Ack(members(room))
	})
	io.On("to", func(s *server.Socket, ev *server.Event) {
		var room, event string
		_ = ev.Bind(&room, &event)
		_ = s.To(room).Emit(event, room)
	})
	io.On("close-me", func(s *server.Socket, _ *server.Event) { s.Disconnect(true) })
	io.On("closing-log", func(_ *server.Socket, ev *server.Event) {
		mu.Lock()
		got := slices.Clone(closingLog)
		mu.Unlock()
		_ = ev.Ack(got)
	})
	return io
}

// TestGoAPIWithSocketIOClient: dynamic namespaces, catch-all listeners, broadcast acks,
// socketsJoin/Leave, per-packet middleware errors and Disconnect(true), on both transports.
func TestGoAPIWithSocketIOClient(t *testing.T) {
	Setup(t)
	for _, transports := range []string{"polling", "websocket"} {
		t.Run(transports, func(t *testing.T) {
			t.Parallel()
			io := apiServer()
			l, err := io.Listen("127.0.0.1:0", engine.ListenConfig{})
			if err != nil {
				t.Fatal(err)
			}
			Run(t, 40*time.Second, "sio-api.js", "--url", servetest.Serve(t, l), "--transports", transports)
		})
	}
}
