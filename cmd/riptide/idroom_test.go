package main

import (
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/riptide-io/riptide/internal/nodetest"
	"github.com/riptide-io/riptide/internal/redistest"
)

// A client that joins a room named like another client's id shares that room with it, as
// with Node: a publish to the id reaches both, with the default in-memory rooms and, through
// Redis, from @socket.io/redis-emitter (to and except). The joiner's room used to hide the
// owner, who then lost its own direct messages.
func TestRoomNamedLikeASocketID(t *testing.T) {
	nodetest.Setup(t)
	for _, withRedis := range []bool{false, true} {
		name := "memory"
		if withRedis {
			name = "redis"
		}
		t.Run(name, func(t *testing.T) {
			args := []string{"--addr", "127.0.0.1:0"}
			var script []string
			if withRedis {
				r := redistest.Start(t)
				args = append(args, "--redis", r.URL())
				script = []string{"--redis", r.URL()}
			}
			c := flags(t, args...)
			l, _, err := start(c, slog.New(slog.NewTextHandler(io.Discard, nil)))
			if err != nil {
				t.Fatal(err)
			}
			defer stopStarted(l)
			nodetest.Run(t, 30*time.Second, "riptide-id-room.js", append([]string{"--url", "http://" + l.Addr()}, script...)...)
		})
	}
}
