package nodetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/riptide-io/riptide/internal/servetest"
	"github.com/riptide-io/riptide/server/engine"
)

// Every scenario runs against two servers with the same options: the Node reference
// (js/ref-engine-server.js), which proves the script and its assertions right, and riptide's
// engine, which is what the assertions are for.

type serverOpts struct {
	path                      string
	pingInterval, pingTimeout int // ms
	maxPayload                int64
	corsOrigin                string // "", "*", "true" (reflect) or one origin
	corsCredentials           bool
}

func (o serverOpts) refArgs() []string {
	var a []string
	if o.path != "" {
		a = append(a, "--path", o.path)
	}
	if o.pingInterval > 0 {
		a = append(a, "--ping-interval", fmt.Sprint(o.pingInterval))
	}
	if o.pingTimeout > 0 {
		a = append(a, "--ping-timeout", fmt.Sprint(o.pingTimeout))
	}
	if o.maxPayload > 0 {
		a = append(a, "--max-payload", fmt.Sprint(o.maxPayload))
	}
	if o.corsOrigin != "" {
		a = append(a, "--cors-origin", o.corsOrigin, "--cors-credentials", fmt.Sprint(o.corsCredentials))
	}
	return a
}

func (o serverOpts) engineOptions() engine.Options {
	e := engine.Options{
		Path:              o.path,
		PingInterval:      time.Duration(o.pingInterval) * time.Millisecond,
		PingTimeout:       time.Duration(o.pingTimeout) * time.Millisecond,
		MaxHTTPBufferSize: o.maxPayload,
	}
	switch o.corsOrigin {
	case "":
	case "true":
		e.CORS = &engine.CORS{AllowOrigin: func(string) bool { return true }, Credentials: o.corsCredentials}
	default:
		e.CORS = &engine.CORS{Origins: []string{o.corsOrigin}, Credentials: o.corsCredentials}
	}
	return e
}

type echo struct{}

func (echo) OnOpen(*engine.Session)                             {}
func (echo) OnMessage(s *engine.Session, data []byte, bin bool) { _ = s.Send(data, bin) }
func (echo) OnClose(*engine.Session, engine.CloseReason)        {}

// startRiptide serves riptide's Engine.IO echo server on a free loopback port.
func startRiptide(t *testing.T, o serverOpts) string {
	t.Helper()
	srv := engine.NewServer(o.engineOptions(), echo{})
	l, err := engine.Listen("127.0.0.1:0", engine.ListenConfig{}, srv)
	if err != nil {
		t.Fatal(err)
	}
	return servetest.Serve(t, l)
}

// forEachServer runs f as parallel subtests "reference" and "riptide".
func forEachServer(t *testing.T, o serverOpts, f func(t *testing.T, url string)) {
	t.Parallel()
	t.Run("reference", func(t *testing.T) {
		t.Parallel()
		f(t, refURL(Start(t, "ref-engine-server.js", o.refArgs()...)))
	})
	t.Run("riptide", func(t *testing.T) {
		t.Parallel()
		Setup(t)
		f(t, startRiptide(t, o))
	})
}
