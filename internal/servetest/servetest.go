// Package servetest serves a server on a free loopback port for the length of a test.
package servetest

import (
	"context"
	"testing"
	"time"

	"github.com/riptide-io/riptide/server"
	"github.com/riptide-io/riptide/server/engine"
)

// Listen serves io on a free port of 127.0.0.1 until the test ends, then closes the
// listener and io, and runs after; it returns the server's URL (http://127.0.0.1:PORT).
func Listen(t testing.TB, io *server.Server, cfg engine.ListenConfig, after ...func()) string {
	t.Helper()
	l, err := io.Listen("127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	return Serve(t, l, append([]func(){io.Close}, after...)...)
}

// Serve closes l when the test ends (waiting at most 5 s for its connections), then runs
// after; it returns l's URL.
func Serve(t testing.TB, l *engine.Listener, after ...func()) string {
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = l.Close(ctx)
		for _, f := range after {
			f()
		}
	})
	return "http://" + l.Addr()
}
