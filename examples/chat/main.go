// Command chat is the Go version of an everyday Express + Socket.IO chat app, written with
// riptide's server API: an auth middleware, a welcome emit, broadcasts to all and to all but
// the sender, replies, rooms with join/leave notices, a per-packet validation middleware,
// an admin-only event and an "error" event to the client. internal/nodetest runs the same
// client scenarios against it and against the Node.js original.
//
//	go run ./examples/chat --addr :3000
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"strings"
	"unicode/utf8"

	"github.com/riptide-io/riptide/server"
	"github.com/riptide-io/riptide/server/engine"
	"github.com/riptide-io/riptide/server/http1"
)

// user is what the auth middleware stores in socket data.
type user struct {
	Name  string
	Admin bool
}

func userOf(s *server.Socket) user { u, _ := s.Data().(user); return u }

func newChat() *server.Server {
	io := server.New(server.Options{})

	// Connection middleware: the token is the user name.
	io.Use(func(s *server.Socket) error {
		var auth struct {
			Token string `json:"token"`
		}
		_ = json.Unmarshal(s.Handshake().Auth, &auth)
		switch auth.Token {
		case "":
			return &server.ConnectError{Message: "missing token"}
		case "banned":
			return &server.ConnectError{Message: "forbidden", Data: map[string]any{"reason": "banned"}}
		}
		s.SetData(user{Name: auth.Token, Admin: strings.HasPrefix(auth.Token, "admin")})
		return nil
	})

	io.OnConnection(func(s *server.Socket) {
		u := userOf(s)
		who := server.Object{{Key: "id", Value: s.ID()}, {Key: "user", Value: u.Name}}
		_ = s.Emit("welcome", who)
		_ = s.Broadcast().Emit("user-connected", who)

		// Per-packet validation: a chat message must be a string of 1..200 characters.
		s.Use(func(ev *server.Event) error {
			if ev.Name != "chat" {
				return nil
			}
			text, ok := ev.String(0)
			if n := utf8.RuneCountInString(text); !ok || n < 1 || n > 200 {
				return fmt.Errorf("invalid message")
			}
			return nil
		})
		s.OnError(func(err error) {
			_ = s.Emit("error", server.Object{{Key: "message", Value: err.Error()}})
		})
		s.OnDisconnect(func(server.DisconnectReason) {
			_ = io.Emit("user-disconnected", who)
		})
	})

	io.On("chat", func(s *server.Socket, ev *server.Event) {
		text, _ := ev.String(0)
		_ = io.Emit("chat", server.Object{{Key: "user", Value: userOf(s).Name}, {Key: "text", Value: text}})
		_ = ev.Ack(server.Object{{Key: "ok", Value: true}})
	})
	io.On("whisper", func(s *server.Socket, ev *server.Event) {
		text, _ := ev.String(0)
		_ = s.Broadcast().Emit("whisper", server.Object{{Key: "user", Value: userOf(s).Name}, {Key: "text", Value: text}})
	})
	io.On("question", func(s *server.Socket, ev *server.Event) {
		text, _ := ev.String(0)
		_ = s.Emit("answer", strings.ToUpper(text))
	})
	io.On("join", func(s *server.Socket, ev *server.Event) {
		room, _ := ev.String(0)
		s.Join(room)
		_ = s.To(room).Emit("user-joined", server.Object{{Key: "room", Value: room}, {Key: "user", Value: userOf(s).Name}})
		members, _ := io.In(room).FetchSockets()
		_ = ev.Ack(server.Object{{Key: "room", Value: room}, {Key: "members", Value: len(members)}})
	})
	io.On("leave", func(s *server.Socket, ev *server.Event) {
		room, _ := ev.String(0)
		s.Leave(room)
		_ = s.To(room).Emit("user-left", server.Object{{Key: "room", Value: room}, {Key: "user", Value: userOf(s).Name}})
		_ = ev.Ack(server.Object{{Key: "room", Value: room}})
	})
	io.On("room-message", func(s *server.Socket, ev *server.Event) {
		var msg struct {
			Room string `json:"room"`
			Text string `json:"text"`
		}
		if ev.Decode(0, &msg) != nil {
			return
		}
		_ = io.To(msg.Room).Emit("room-message", server.Object{{Key: "room", Value: msg.Room}, {Key: "user", Value: userOf(s).Name}, {Key: "text", Value: msg.Text}})
	})
	io.On("admin:kick", func(s *server.Socket, ev *server.Event) {
		if !userOf(s).Admin {
			_ = s.Emit("error", server.Object{{Key: "message", Value: "forbidden"}})
			_ = ev.Ack(server.Object{{Key: "ok", Value: false}})
			return
		}
		target, _ := ev.String(0)
		io.In(target).DisconnectSockets(true)
		_ = ev.Ack(server.Object{{Key: "ok", Value: true}})
	})
	return io
}

func main() {
	addr := flag.String("addr", ":3000", "listen address")
	flag.Parse()
	io := newChat()
	l, err := io.Listen(*addr, engine.ListenConfig{HTTP: func(r *http1.Request, _ []byte) engine.HTTPResponse {
		if string(r.Path) == "/healthz" {
			return engine.HTTPResponse{Body: []byte("ok")}
		}
		return engine.HTTPResponse{Status: 404, Body: []byte("Not Found")}
	}})
	if err != nil {
		log.Fatal(err)
	}
	var port int
	fmt.Sscanf(l.Addr()[strings.LastIndex(l.Addr(), ":")+1:], "%d", &port)
	fmt.Printf("{\"port\":%d}\n", port)
	log.Fatal(l.Wait())
}
