package main

import (
	"time"

	"github.com/riptide-io/riptide/server"
	"github.com/riptide-io/riptide/server/engine"
)

// suiteOptions are part 1's: what the public protocol test suites expect.
func suiteOptions(path string) engine.Options {
	return engine.Options{
		Path:              path,
		PingInterval:      300 * time.Millisecond,
		PingTimeout:       200 * time.Millisecond,
		MaxHTTPBufferSize: 1_000_000,
		CORS:              &engine.CORS{Origins: []string{"*"}},
	}
}

// echo sends every Engine.IO message back to its session unchanged.
type echo struct{}

func (echo) OnOpen(*engine.Session) {}
func (echo) OnMessage(s *engine.Session, data []byte, binary bool) {
	_ = s.Send(data, binary)
}
func (echo) OnClose(*engine.Session, engine.CloseReason) {}

// suiteServers: /engine.io/ (plain Engine.IO echo) and /socket.io/ (CONTRACT part 1).
func suiteServers() []*engine.Server {
	eio := engine.NewServer(suiteOptions("/engine.io/"), echo{})
	io := server.New(server.Options{Engine: suiteOptions("/socket.io/"), ConnectTimeout: time.Second})
	emitAuth := func(s *server.Socket) { _ = s.Emit("auth", rawAuth(s)) }
	io.OnConnection(emitAuth)
	io.On("message", func(s *server.Socket, ev *server.Event) { _ = s.Emit("message-back", ev.Args) })
	io.On("message-with-ack", func(_ *server.Socket, ev *server.Event) { _ = ev.Ack(ev.Args) })
	io.Of("/custom").OnConnection(emitAuth)
	return []*engine.Server{eio, io.Engine()}
}
