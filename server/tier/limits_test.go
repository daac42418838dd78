package tier_test

import (
	"encoding/json"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/riptide-io/riptide/internal/nodetest"
	"github.com/riptide-io/riptide/server"
	"github.com/riptide-io/riptide/server/tier"
)

// TestLimitsPerUserCountedAtAdmission: the namespace sends CONNECT before its connection
// handlers run (on a WebSocket it even waits for the reply to leave), so a client may
// connect its next socket before the first one is counted there. A slow connection handler
// ahead of the limits widens that window to 300 ms; the user's second socket must still be
// refused, on both transports, and once the first has left she may connect again.
func TestLimitsPerUserCountedAtAdmission(t *testing.T) {
	k := getKeys(t)
	v := newVerifier(t, baseConfig(t))
	lim := tier.NewLimits(tier.LimitsConfig{MaxPerUser: 1})
	io := server.New(server.Options{})
	io.Use(tier.Auth(v))
	io.OnConnection(func(*server.Socket) { time.Sleep(300 * time.Millisecond) })
	lim.Install(io.Of("/"))
	url := listen(t, io, lim.Close)

	var cases []map[string]any
	for _, tr := range []string{"polling", "websocket"} {
		auth := map[string]string{"token": mint(t, jwt.SigningMethodHS256, k.hmac, "hs", claims("ana-"+tr))}
		c := func(name string) map[string]any {
			return map[string]any{"name": name + "/" + tr, "url": url, "transport": tr, "auth": auth, "connectOnly": true}
		}
		first, second, again := c("first"), c("second"), c("again")
		first["hold"] = true
		again["release"], again["retry"] = []string{"first/" + tr}, 5000
		cases = append(cases, first, second, again)
	}
	b, err := json.Marshal(cases)
	if err != nil {
		t.Fatal(err)
	}
	out := nodetest.Decode[struct {
		Results []struct {
			sioResult
			Released bool `json:"released"`
		} `json:"results"`
	}](t, nodetest.Run(t, 60*time.Second, "tier-auth.js", "--cases", writeFile(t, "cases.json", b), "--timeout", "50000"))
	if len(out.Results) != len(cases) {
		t.Fatalf("%d results for %d cases", len(out.Results), len(cases))
	}
	for _, r := range out.Results {
		switch {
		case strings.HasPrefix(r.Name, "second/"):
			wantRefused(t, r.Name, r.sioResult, tier.ConnLimitUser)
		case !r.Connected || r.ErrorEvent != nil:
			t.Errorf("%s: not connected: %+v", r.Name, r)
		case strings.HasPrefix(r.Name, "first/") && !r.Released:
			t.Errorf("%s: dropped while held: %+v", r.Name, r)
		}
	}
}

// TestLimitsReservationLapses: a socket admitted by the per-user check whose client leaves
// before it connects (here while a slower middleware runs) never reaches a connection or
// disconnect handler; its reserved slot lapses, and the user may connect again.
func TestLimitsReservationLapses(t *testing.T) {
	t.Cleanup(tier.SetReserveTTL(200 * time.Millisecond)) // restored after the server stopped
	k := getKeys(t)
	v := newVerifier(t, baseConfig(t))
	lim := tier.NewLimits(tier.LimitsConfig{MaxPerUser: 1})
	io := server.New(server.Options{})
	io.Use(tier.Auth(v))
	entered, gate, passed := make(chan *server.Socket, 1), make(chan struct{}), make(chan struct{}, 1)
	var waited atomic.Bool
	io.Use(func(s *server.Socket) error { // only the first socket waits
		if !waited.Swap(true) {
			entered <- s
			<-gate
		}
		return nil
	})
	lim.Install(io.Of("/"))
	io.Use(func(*server.Socket) error { passed <- struct{}{}; return nil }) // observes the limits' verdict
	url := listen(t, io, lim.Close)
	addr := strings.TrimPrefix(url, "http://")
	tok := mint(t, jwt.SigningMethodHS256, k.hmac, "hs", claims("ana"))

	c1 := dialWS(t, addr)
	c1.send(`40{"token":"` + tok + `"}`)
	s := <-entered
	_ = c1.c.Close()
	waitFor(t, "the first session to close", func() bool { return !s.Conn().Writable() })
	close(gate)
	<-passed // admitted, and its slot reserved, but its client is gone: it never connects
	waitFor(t, "the reservation to lapse", func() bool { return lim.Users() == 0 })

	c2 := dialWS(t, addr)
	c2.send(`40{"token":"` + tok + `"}`)
	<-passed
	if p := c2.read(); !strings.HasPrefix(p, `40{"sid":`) {
		t.Fatalf("second socket: %s, want a CONNECT", p)
	}
	waitFor(t, "the socket to be counted", func() bool { return lim.Users() == 1 })
}

// waitFor polls cond for up to 5 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}
