package redis

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/rueidis"

	"github.com/riptide-io/riptide/internal/nodetest"
	"github.com/riptide-io/riptide/internal/redistest"
	"github.com/riptide-io/riptide/rooms"
)

type captured struct {
	Channel string `json:"channel"`
	Hex     string `json:"hex"`
}

// TestWireMatchesNode performs the same operations on the Node adapter
// (js/cluster/wire-capture.js, the real @socket.io/redis-adapter 8.3) and on this one, with
// the random ids pinned, and compares what each publishes, byte for byte and in order.
// Not parallel: it pins newID, which every adapter reads.
func TestWireMatchesNode(t *testing.T) {
	for _, sharded := range []bool{false, true} {
		name := map[bool]string{false: "classic", true: "sharded"}[sharded]
		t.Run(name, func(t *testing.T) {
			r := redistest.Start(t)
			args := []string{"--redis", r.URL()}
			if sharded {
				args = append(args, "--sharded")
			}
			raw := nodetest.Run(t, 40*time.Second, "cluster/wire-capture.js", args...)
			var node struct {
				Messages []captured `json:"messages"`
			}
			if err := json.Unmarshal(raw, &node); err != nil {
				t.Fatal(err)
			}
			ours := captureOurs(t, sharded)
			if len(ours) != len(node.Messages) {
				t.Errorf("%d messages, Node published %d", len(ours), len(node.Messages))
			}
			for i := range min(len(ours), len(node.Messages)) {
				if ours[i] != node.Messages[i] {
					t.Errorf("message %d:\n ours %s %q\nNode's %s %q", i, ours[i].Channel, unhex(ours[i].Hex), node.Messages[i].Channel, unhex(node.Messages[i].Hex))
				}
			}
		})
	}
}

func unhex(h string) string {
	b, _ := hex.DecodeString(h)
	return string(b)
}

func captureOurs(t *testing.T, sharded bool) []captured {
	saved := newID
	newID = func(n int, _ string) string {
		if n == 16 {
			return strings.Repeat("a", 16)
		}
		return strings.Repeat("R", n)
	}
	defer func() { newID = saved }()

	r := redistest.Start(t)
	cl, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{r.Addr()}, DisableCache: true})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	dc, release := cl.Dedicate()
	defer release()
	defer dc.Close()
	var mu sync.Mutex
	var got []captured
	dc.SetPubSubHooks(rueidis.PubSubHooks{OnMessage: func(m rueidis.PubSubMessage) {
		if isHeartbeat(m.Message, sharded) {
			return // riptide's addition; Node's adapter sends none
		}
		if !sharded && m.Pattern == "" {
			return // the request channel's own subscription repeats what the pattern got
		}
		mu.Lock()
		got = append(got, captured{m.Channel, hex.EncodeToString([]byte(m.Message))})
		mu.Unlock()
	}})
	ctx := context.Background()
	if sharded {
		for _, ch := range []string{"socket.io#/#", "socket.io#/#room1#"} {
			if err := dc.Do(ctx, dc.B().Ssubscribe().Channel(ch).Build()).Error(); err != nil {
				t.Fatal(err)
			}
		}
	} else {
		if err := dc.Do(ctx, dc.B().Psubscribe().Pattern("*").Build()).Error(); err != nil {
			t.Fatal(err)
		}
		// Counts as a second server, so requests that need answers are published.
		if err := dc.Do(ctx, dc.B().Subscribe().Channel("socket.io-request#/#").Build()).Error(); err != nil {
			t.Fatal(err)
		}
	}

	opts := testOptions("wire", sharded)
	opts.RequestsTimeout = 300 * time.Millisecond
	opts.HeartbeatInterval = time.Hour
	nd := startNode(t, r, "wire", opts)
	a := nd.a
	p := func(data string, atts ...[]byte) *rooms.Packet {
		typ := uint8(2)
		if len(atts) > 0 {
			typ = 5
		}
		return &rooms.Packet{Type: typ, Data: []byte(data), Attachments: atts, ID: -1}
	}
	a.Broadcast(p(`["ev",1,"s",{"b":1,"a":[true,null,1.5]}]`), &rooms.Options{})
	a.Broadcast(p(`["ev",{"_placeholder":true,"num":0},{"nested":{"_placeholder":true,"num":1}}]`, []byte{1, 2, 3}, []byte{}), &rooms.Options{Rooms: []string{"room1"}})
	a.Broadcast(p(`["two"]`), &rooms.Options{Rooms: []string{"room1", "room2"}, Except: []string{"room3"}})
	a.Broadcast(p(`["vol"]`), &rooms.Options{Flags: rooms.Flags{Volatile: true}})
	a.AddSockets(&rooms.Options{Rooms: []string{"room1"}}, []string{"room2"})
	a.DelSockets(&rooms.Options{Rooms: []string{"room1"}}, []string{"room2", "room3"})
	a.DisconnectSockets(&rooms.Options{Rooms: []string{"room1"}}, true)
	if err := a.ServerSideEmit(p(`["hello","world",1]`), nil, nil); err != nil {
		t.Fatal(err)
	}
	_ = a.BroadcastWithAck(p(`["q",1]`), &rooms.Options{Flags: rooms.Flags{Timeout: 200 * time.Millisecond}},
		func(rooms.Member) int64 { return -1 }, func(int) {}, func([]byte, [][]byte) {})
	_, _ = a.FetchSockets(&rooms.Options{Rooms: []string{"room1"}})
	time.Sleep(300 * time.Millisecond)
	_ = nd.c.Close()
	mu.Lock()
	defer mu.Unlock()
	return got
}

func isHeartbeat(m string, sharded bool) bool {
	js, _, err := toJSON([]byte(m))
	if err != nil {
		return false
	}
	var v struct {
		Type int `json:"type"`
	}
	_ = json.Unmarshal(js, &v)
	if sharded {
		return v.Type == sHello || v.Type == sHeartbeat || v.Type == sBye
	}
	return v.Type >= cHello && v.Type <= cBye
}
