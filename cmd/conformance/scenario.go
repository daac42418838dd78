package main

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/riptide-io/riptide/server"
	"github.com/riptide-io/riptide/server/engine"
)

// scenarioServers: CONTRACT part 2, the main server (/socket.io/) and the recovery server
// (/recovery/) on one listener.
func scenarioServers() []*engine.Server {
	return []*engine.Server{mainServer().Engine(), recoveryServer().Engine()}
}

func scenarioEngine(path string) engine.Options {
	return engine.Options{
		Path:              path,
		PingInterval:      time.Second,
		PingTimeout:       2 * time.Second,
		MaxHTTPBufferSize: 1_000_000,
	}
}

func rawAuth(s *server.Socket) json.RawMessage { return s.Handshake().Auth }

func mainServer() *server.Server {
	eo := scenarioEngine("/socket.io/")
	eo.CORS = &engine.CORS{Origins: []string{"http://allowed.example"}, Credentials: true}
	io := server.New(server.Options{Engine: eo, NewAdapter: newAdapter()})
	standardHandlers(io.Of("/"))
	if clusterMode != nil {
		clusterHandlers(io) // CONTRACT part 3
	}
	for i := 0; i < 20; i++ {
		name := fmt.Sprintf("/ns-%d", i)
		nsp := io.Of(name)
		nsp.OnConnection(func(s *server.Socket) { _ = s.Emit("hello", name) })
		standardHandlers(nsp)
	}
	private := io.Of("/private")
	private.Use(func(s *server.Socket) error {
		var auth struct {
			Token string `json:"token"`
		}
		_ = json.Unmarshal(s.Handshake().Auth, &auth)
		if auth.Token != "secret" {
			return &server.ConnectError{Message: "not authorized", Data: server.Object{{Key: "code", Value: 401}, {Key: "reason", Value: "bad token"}}}
		}
		return nil
	})
	private.OnConnection(func(s *server.Socket) { _ = s.Emit("hello", "/private") })
	standardHandlers(private)
	return io
}

// standardHandlers are the contract's handlers for every socket of the main server.
func standardHandlers(nsp *server.Namespace) {
	nsp.On("echo", func(s *server.Socket, ev *server.Event) { _ = s.Emit("echo", ev.Args) })
	nsp.On("echo-ack", func(_ *server.Socket, ev *server.Event) { _ = ev.Ack(ev.Args) })
	nsp.On("info", func(s *server.Socket, ev *server.Event) {
		_ = ev.Ack(server.Object{
			{Key: "nsp", Value: nsp.Name()},
			{Key: "id", Value: s.ID()},
			{Key: "engineId", Value: s.Conn().ID()},
			{Key: "transport", Value: string(s.Conn().Transport())},
			{Key: "auth", Value: rawAuth(s)},
		})
	})
	nsp.On("ask", func(s *server.Socket, ev *server.Event) {
		// Waiting for the client's ack must not hold the socket's other events back.
		go func() {
			answers, err := s.Timeout(time.Second).EmitWithAck(context.Background(), "question", ev.Args)
			if err != nil {
				_ = ev.Ack(server.Object{{Key: "ok", Value: false}, {Key: "error", Value: "timeout"}})
				return
			}
			_ = ev.Ack(server.Object{{Key: "ok", Value: true}, {Key: "answers", Value: answers}})
		}()
	})
	nsp.On("stream", func(s *server.Socket, ev *server.Event) {
		var count, intervalMs int
		var volatile bool
		_ = ev.Bind(&count, &intervalMs, &volatile)
		item := func(i int) {
			if volatile {
				_ = s.Volatile().Emit("stream-item", i)
			} else {
				_ = s.Emit("stream-item", i)
			}
		}
		if intervalMs <= 0 {
			for i := 0; i < count; i++ {
				item(i)
			}
			_ = s.Emit("stream-end", count)
			return
		}
		go func() {
			tick := time.NewTicker(time.Duration(intervalMs) * time.Millisecond)
			defer tick.Stop()
			for i := 0; i <= count; i++ {
				<-tick.C
				if !s.Connected() {
					return
				}
				if i == count {
					_ = s.Emit("stream-end", count)
					return
				}
				item(i)
			}
		}()
	})
	nsp.On("kick", func(s *server.Socket, _ *server.Event) { s.Disconnect(false) })
	nsp.On("drop", func(s *server.Socket, _ *server.Event) { s.Conn().Close() })
}

func recoveryServer() *server.Server {
	io := server.New(server.Options{
		Engine:                  scenarioEngine("/recovery/"),
		ConnectionStateRecovery: &server.Recovery{MaxDisconnectionDuration: 2 * time.Second},
	})
	io.On("join", func(s *server.Socket, ev *server.Event) {
		var room string
		_ = ev.Decode(0, &room)
		s.Join(room)
		_ = ev.Ack()
	})
	io.On("to-room", func(s *server.Socket, ev *server.Event) {
		var room string
		_ = ev.Decode(0, &room)
		_ = io.To(room).Emit("room-message", ev.From(1))
		_ = ev.Ack()
	})
	io.On("remember", func(s *server.Socket, ev *server.Event) {
		s.SetData(json.RawMessage(ev.Raw(0)))
		_ = ev.Ack()
	})
	io.On("info", func(s *server.Socket, ev *server.Event) {
		rooms := []string{}
		for _, r := range s.Rooms() {
			if r != s.ID() {
				rooms = append(rooms, r)
			}
		}
		slices.Sort(rooms)
		var remembered any
		if d := s.Data(); d != nil {
			remembered = d
		}
		_ = ev.Ack(server.Object{
			{Key: "id", Value: s.ID()},
			{Key: "recovered", Value: s.Recovered()},
			{Key: "rooms", Value: rooms},
			{Key: "remembered", Value: remembered},
		})
	})
	return io
}
