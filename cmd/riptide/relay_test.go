package main

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/riptide-io/riptide/internal/nodetest"
)

// The default protocol, driven by the real socket.io-client, with and without a token.
func TestRelayWithSocketIOClient(t *testing.T) {
	nodetest.Setup(t)
	for _, token := range []string{"", "s3cret"} {
		t.Run("token="+token, func(t *testing.T) {
			c := flags(t, "--addr", "127.0.0.1:0", "--auth-token", token)
			l, _, err := start(c, slog.New(slog.NewTextHandler(io.Discard, nil)))
			if err != nil {
				t.Fatal(err)
			}
			defer func() {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				_ = l.Close(ctx)
			}()
			args := []string{"--url", "http://" + l.Addr()}
			if token != "" {
				args = append(args, "--token", token)
			}
			nodetest.Run(t, 30*time.Second, "riptide-relay.js", args...)
		})
	}
}
