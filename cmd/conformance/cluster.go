package main

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync/atomic"
	"time"

	"github.com/riptide-io/riptide/rooms"
	"github.com/riptide-io/riptide/rooms/redis"
	"github.com/riptide-io/riptide/server"
)

// CONTRACT part 3: with --redis, the main server (path /socket.io/) is one node of a cluster
// joined through Redis, and namespace "/" has the cluster handlers below.

// clusterConfig is set by main from the flags before the servers are built.
type clusterConfig struct {
	url     string
	key     string
	sharded bool
	nodeID  atomic.Value // string; defaults to the scenario listener's host:port once known
	cluster *redis.Cluster
}

var clusterMode *clusterConfig

// connect joins the cluster; main calls it before building the servers.
func (c *clusterConfig) connect(ctx context.Context) error {
	name, _ := c.nodeID.Load().(string)
	cl, err := redis.Dial(ctx, c.url, redis.Options{Key: c.key, Sharded: c.sharded, NodeName: name})
	if err != nil {
		return fmt.Errorf("redis %s: %w", c.url, err)
	}
	c.cluster = cl
	return nil
}

// newAdapter is the main server's adapter factory: the cluster's in cluster mode.
func newAdapter() func(rooms.Host) rooms.Adapter {
	if clusterMode == nil || clusterMode.cluster == nil {
		return nil
	}
	return clusterMode.cluster.NewAdapter
}

// ids of a FetchSockets answer, sorted.
func sortedIDs(sockets []*server.RemoteSocket) []string {
	ids := make([]string, 0, len(sockets))
	for _, s := range sockets {
		ids = append(ids, s.ID)
	}
	slices.Sort(ids)
	return ids
}

// sortedJSON sorts raw JSON values by their text, as the contract compares them.
func sortedJSON(vs []json.RawMessage) []json.RawMessage {
	slices.SortFunc(vs, func(a, b json.RawMessage) int {
		switch {
		case string(a) < string(b):
			return -1
		case string(a) > string(b):
			return 1
		}
		return 0
	})
	return vs
}

func clusterHandlers(io *server.Server) {
	nsp := io.Of("/")
	ms := func(ev *server.Event, i int) time.Duration {
		var n float64
		_ = ev.Decode(i, &n)
		return time.Duration(n * float64(time.Millisecond))
	}
	nsp.On("node-id", func(_ *server.Socket, ev *server.Event) {
		id, _ := clusterMode.nodeID.Load().(string)
		_ = ev.Ack(id)
	})
	nsp.On("join", func(s *server.Socket, ev *server.Event) {
		if room, ok := ev.String(0); ok {
			s.Join(room)
		}
		_ = ev.Ack()
	})
	nsp.On("leave", func(s *server.Socket, ev *server.Event) {
		if room, ok := ev.String(0); ok {
			s.Leave(room)
		}
		_ = ev.Ack()
	})
	nsp.On("to-room", func(_ *server.Socket, ev *server.Event) {
		room, _ := ev.String(0)
		_ = io.To(room).Emit("room-message", ev.From(1))
		_ = ev.Ack()
	})
	nsp.On("to-room-but-me", func(s *server.Socket, ev *server.Event) {
		room, _ := ev.String(0)
		_ = s.To(room).Emit("room-message", ev.From(1))
		_ = ev.Ack()
	})
	nsp.On("room-sockets", func(_ *server.Socket, ev *server.Event) {
		room, _ := ev.String(0)
		// On a partial answer (a node did not answer, Redis is away) the sockets that are
		// known are still the best answer.
		sockets, _ := io.In(room).FetchSockets()
		_ = ev.Ack(sortedIDs(sockets))
	})
	nsp.On("room-join", func(_ *server.Socket, ev *server.Event) {
		room, _ := ev.String(0)
		target, _ := ev.String(1)
		io.In(room).SocketsJoin(target)
		_ = ev.Ack()
	})
	nsp.On("room-leave", func(_ *server.Socket, ev *server.Event) {
		room, _ := ev.String(0)
		target, _ := ev.String(1)
		io.In(room).SocketsLeave(target)
		_ = ev.Ack()
	})
	nsp.On("room-kick", func(_ *server.Socket, ev *server.Event) {
		room, _ := ev.String(0)
		_ = ev.Ack()
		io.In(room).DisconnectSockets(false)
	})
	nsp.On("ask-room", func(_ *server.Socket, ev *server.Event) {
		room, _ := ev.String(0)
		d := ms(ev, 1)
		go func() { // waiting must not hold the socket's other events back
			answers, err := io.To(room).Timeout(d).EmitWithAck(context.Background(), "question")
			if err != nil {
				_ = ev.Ack(server.Object{{Key: "ok", Value: false}})
				return
			}
			// Each client's first ack argument, as the Node server collects them.
			vals := make([]json.RawMessage, 0, len(answers))
			for _, a := range answers {
				if v := a.Raw(0); v != nil {
					vals = append(vals, v)
				} else {
					vals = append(vals, json.RawMessage("null"))
				}
			}
			_ = ev.Ack(server.Object{{Key: "ok", Value: true}, {Key: "answers", Value: sortedJSON(vals)}})
		}()
	})
	nsp.On("count-nodes", func(_ *server.Socket, ev *server.Event) {
		d := ms(ev, 0)
		go func() {
			answers, err := io.Timeout(d).ServerSideEmitWithAck(context.Background(), "local-count")
			if err != nil {
				_ = ev.Ack(server.Object{{Key: "ok", Value: false}})
				return
			}
			counts := make([]float64, 0, len(answers))
			for _, a := range answers {
				var n float64
				_ = a.Decode(0, &n)
				counts = append(counts, n)
			}
			slices.Sort(counts)
			_ = ev.Ack(server.Object{{Key: "ok", Value: true}, {Key: "counts", Value: counts}})
		}()
	})
	nsp.On("server-note", func(_ *server.Socket, ev *server.Event) {
		_ = io.ServerSideEmit("note", ev.Args)
		_ = ev.Ack()
	})
	io.OnServerSideEmit("local-count", func(_ server.Args, ack func(...any)) {
		if ack != nil {
			ack(nsp.Count())
		}
	})
	io.OnServerSideEmit("note", func(args server.Args, _ func(...any)) {
		_ = nsp.Local().Emit("note", args)
	})
}
