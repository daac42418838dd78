package main

import (
	"testing"
	"time"

	"github.com/riptide-io/riptide/internal/nodetest"
)

// The default protocol, driven by the real socket.io-client, with and without a token.
func TestRelayWithSocketIOClient(t *testing.T) {
	nodetest.Setup(t)
	for _, token := range []string{"", "s3cret"} {
		t.Run("token="+token, func(t *testing.T) {
			base, _ := serveConfig(t, flags(t, "--addr", "127.0.0.1:0", "--auth-token", token))
			args := []string{"--url", base}
			if token != "" {
				args = append(args, "--token", token)
			}
			nodetest.Run(t, 30*time.Second, "riptide-relay.js", args...)
		})
	}
}
