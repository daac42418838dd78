package tier_test

import (
	"context"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/riptide-io/riptide/internal/redistest"
	"github.com/riptide-io/riptide/rooms/redis"
	"github.com/riptide-io/riptide/server"
	"github.com/riptide-io/riptide/server/engine"
	"github.com/riptide-io/riptide/server/tier"
)

// TestIdentityAcrossCluster: two nodes on a real Redis; a socket authenticated on node A is
// seen with its identity by FetchSockets on node B.
func TestIdentityAcrossCluster(t *testing.T) {
	r := redistest.Start(t)
	k := getKeys(t)
	v := newVerifier(t, baseConfig(t))
	node := func() *server.Server {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		cl, err := redis.Dial(ctx, r.URL(), redis.Options{Key: "tier-test"})
		if err != nil {
			t.Fatal(err)
		}
		io := server.New(server.Options{NewAdapter: cl.NewAdapter})
		io.Use(tier.Auth(v))
		io.OnConnection(func(s *server.Socket) { _ = s.Emit("whoami", tier.IdentityOf(s).User) })
		t.Cleanup(func() { io.Close(); cl.Close() })
		return io
	}
	a, b := node(), node()
	l, err := a.Listen("127.0.0.1:0", engine.ListenConfig{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close(context.Background()) })

	// A raw WebSocket client keeps the socket connected while node B looks.
	tok := mint(t, jwt.SigningMethodEdDSA, k.ed, "ed", claims("u-cluster"))
	ws := dialWS(t, l.Addr())
	ws.send(`40{"token":"` + tok + `"}`)
	ws.read() // 40{"sid":...}
	ws.read() // whoami

	local, err := a.FetchSockets()
	if err != nil || len(local) != 1 || tier.RemoteIdentity(local[0]) == nil || tier.RemoteIdentity(local[0]).User != "u-cluster" {
		t.Fatalf("node A: %+v, %v", local, err)
	}
	remote, err := b.FetchSockets()
	if err != nil || len(remote) != 1 {
		t.Fatalf("node B: %+v, %v", remote, err)
	}
	id := tier.RemoteIdentity(remote[0])
	want := tier.IdentityOf(local[0].Local())
	if id == nil || id.User != "u-cluster" || id.Exp != want.Exp || id.Exp == 0 {
		t.Fatalf("node B sees identity %+v (data %v); want user u-cluster, exp %d", id, remote[0].Data, want.Exp)
	}
}
