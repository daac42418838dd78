package main

import (
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/riptide-io/riptide/internal/nodetest"
	"github.com/riptide-io/riptide/internal/redistest"
)

// No client can join or publish to another socket's own id room, even with the open default
// policy: the join and the publish get ROOM_FORBIDDEN, and a backend's direct message
// through Redis (@socket.io/redis-emitter's to and except) reaches the owner alone. (That a
// room named like an id reaches both its owner and its joiners, as in Node, is the
// adapter's business: rooms/idroom_test.go.)
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
