// Command conformance serves the behaviour that black-box Socket.IO / Engine.IO conformance
// checks expect (../shared/conformance/CONTRACT.md), so the public protocol test suites can
// judge riptide.
//
// Part 1 (the protocol-suite server, --suite-addr, default 127.0.0.1:3000): path /engine.io/
// is a plain Engine.IO v4 echo server with pingInterval 300 ms, pingTimeout 200 ms and
// maxPayload 1,000,000. The Socket.IO paths of the contract land with the Socket.IO layer.
package main

import (
	"context"
	"flag"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/riptide-io/riptide/server/engine"
)

// echo sends every message back to its session unchanged.
type echo struct{}

func (echo) OnOpen(*engine.Session) {}
func (echo) OnMessage(s *engine.Session, data []byte, binary bool) {
	_ = s.Send(data, binary)
}
func (echo) OnClose(*engine.Session, engine.CloseReason) {}

func main() {
	suiteAddr := flag.String("suite-addr", "127.0.0.1:3000", "address of the protocol-suite server (empty: not started)")
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if *suiteAddr == "" {
		log.Error("nothing to serve: --suite-addr is empty")
		os.Exit(2)
	}
	eioServer := engine.NewServer(engine.Options{
		Path:              "/engine.io/",
		PingInterval:      300 * time.Millisecond,
		PingTimeout:       200 * time.Millisecond,
		MaxHTTPBufferSize: 1_000_000,
		CORS:              &engine.CORS{Origins: []string{"*"}},
	}, echo{})
	l, err := engine.Listen(*suiteAddr, engine.ListenConfig{Logger: log}, eioServer)
	if err != nil {
		log.Error("listen", "err", err)
		os.Exit(1)
	}
	log.Info("protocol-suite server listening", "addr", l.Addr(), "paths", []string{"/engine.io/"})
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = l.Close(shutdown)
}
