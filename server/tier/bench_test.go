package tier_test

import (
	"strings"
	"testing"

	"github.com/riptide-io/riptide/server"
	"github.com/riptide-io/riptide/server/tier"
)

// BenchmarkPublish measures a publish to a joined room through a server, from one WebSocket
// client to another: once with a bare relay handler (what cmd/riptide served before it had
// policies) and once with a tier.Policy that checks the event's rule, a per-socket rate, the
// room's pattern among several and the membership. allocs/op are the whole round trip,
// clients included; the difference between the two is what the policy costs:
//
//	go test -run '^$' -bench BenchmarkPublish -benchmem ./server/tier
func BenchmarkPublish(b *testing.B) {
	b.Run("relay", func(b *testing.B) {
		io := server.New(server.Options{})
		io.On("join", func(s *server.Socket, ev *server.Event) {
			if room, ok := ev.String(0); ok {
				s.Join(room)
			}
			_ = ev.Ack()
		})
		io.On("publish", func(s *server.Socket, ev *server.Event) {
			room, ok1 := ev.String(0)
			event, ok2 := ev.String(1)
			if ok1 && ok2 {
				_ = s.To(room).Emit(event, ev.From(2))
			}
		})
		benchPublish(b, io)
	})
	b.Run("policy", func(b *testing.B) {
		p, err := tier.NewPolicy(tier.PolicyConfig{
			Rooms: []tier.RoomRule{
				{Pattern: "user:{sub}"},
				{Pattern: "org:{claims.org}:*"},
				{Pattern: "chat:*", Join: tier.JoinAnyone},
			},
			Events: []tier.EventRule{{Name: "publish", MaxPayload: 4096, Rate: 1e9, Burst: 1e9}},
			Strict: true, Rate: 1e9, Burst: 1e9,
		})
		if err != nil {
			b.Fatal(err)
		}
		io := server.New(server.Options{})
		p.Install(io.Of("/"))
		benchPublish(b, io)
		_ = p.Close()
	})
}

func benchPublish(b *testing.B, io *server.Server) {
	url := listen(b, io)
	addr := strings.TrimPrefix(url, "http://")
	from, to := dialWS(b, addr), dialWS(b, addr)
	for _, c := range []*wsClient{from, to} {
		c.send("40")
		if p := c.read(); !strings.HasPrefix(p, "40") {
			b.Fatalf("connect: %q", p)
		}
		c.send(`420["join","chat:bench"]`)
		if p := c.read(); !strings.HasPrefix(p, "430") {
			b.Fatalf("join: %q", p)
		}
	}
	const msg = `42["publish","chat:bench","m",{"text":"hello","n":1}]`
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		from.send(msg)
		if p := to.read(); len(p) < 3 {
			b.Fatalf("got %q", p)
		}
	}
}
