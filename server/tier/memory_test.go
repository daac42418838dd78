package tier_test

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/riptide-io/riptide/server"
	"github.com/riptide-io/riptide/server/engine"
	"github.com/riptide-io/riptide/server/tier"
)

// TestIdentityMemory measures what an authenticated idle socket costs beyond a socket that
// connected with an empty CONNECT payload through a middleware that accepts anything: the
// Identity, its expiry timer and its disconnect listener (the token itself is not kept: Auth
// drops it from the socket's handshake auth once verified). The budget is 320 bytes (about 160 measured)
// (an idle socket is about 1.7 KiB; with its identity it should stay near 2 KiB).
func TestIdentityMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("opens 400 connections")
	}
	k := getKeys(t)
	v := newVerifier(t, baseConfig(t))
	tok := mint(t, jwt.SigningMethodHS256, k.hmac, "hs", claims("user-0123456789"))
	const n = 200
	perSocket := func(mw func(*server.Socket) error, payload string) float64 {
		io := server.New(server.Options{})
		io.Use(mw)
		l, err := io.Listen("127.0.0.1:0", engine.ListenConfig{})
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = l.Close(context.Background()); io.Close() }()
		clients := make([]*wsClient, n)
		for i := range clients { // the client side is the same in both runs and cancels out
			clients[i] = dialWS(t, l.Addr())
		}
		before := heap()
		for _, c := range clients {
			c.send(`40` + payload)
			c.read()
		}
		time.Sleep(100 * time.Millisecond) // let the CONNECT tasks finish and release scratch
		after := heap()
		for _, c := range clients {
			_ = c.c.Close()
		}
		return float64(after-before) / n
	}
	plain := perSocket(func(*server.Socket) error { return nil }, `{}`)
	authed := perSocket(tier.Auth(v), `{"token":"`+tok+`"}`)
	extra := authed - plain
	t.Logf("per socket: %.0f B connected without tier.Auth, %.0f B with it: %.0f B for the identity", plain, authed, extra)
	if extra > 320 {
		t.Errorf("an identity costs %.0f B per socket; budget 320 B", extra)
	}
}

func heap() uint64 {
	var m runtime.MemStats
	for i := 0; i < 3; i++ {
		runtime.GC()
	}
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestTokenNotKept: once verified, the token leaves the socket's handshake auth (the other
// members stay), so it is neither held for the socket's life nor shown to other nodes by
// FetchSockets.
func TestTokenNotKept(t *testing.T) {
	k := getKeys(t)
	v := newVerifier(t, baseConfig(t))
	tok := mint(t, jwt.SigningMethodHS256, k.hmac, "hs", claims("user-1"))
	io := server.New(server.Options{})
	io.Use(tier.Auth(v))
	auths := make(chan string, 1)
	io.OnConnection(func(s *server.Socket) { auths <- string(s.Handshake().Auth) })
	l, err := io.Listen("127.0.0.1:0", engine.ListenConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = l.Close(context.Background()); io.Close() }()
	c := dialWS(t, l.Addr())
	c.send(`40{"token":"` + tok + `","room":"lobby"}`)
	c.read()
	select {
	case a := <-auths:
		if a != `{"room":"lobby"}` {
			t.Fatalf("handshake auth after Auth: %s", a)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("not connected")
	}
}
