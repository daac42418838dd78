package server

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/riptide-io/riptide/internal/logtest"
)

// Stats counts refused connections by the code of their connect_error (and logs each once),
// disconnects by reason, and ack round trips; Namespaces lists the namespaces with their
// socket counts.
func TestStatsCounts(t *testing.T) {
	var logs logtest.Buffer
	io := New(Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	io.Of("/vip").Use(func(*Socket) error {
		return &ConnectError{Message: "members only", Data: Object{{Key: "code", Value: "NOT_A_MEMBER"}}}
	})
	io.On("ask", func(s *Socket, ev *Event) {
		go func() {
			a, err := s.Timeout(5*time.Second).EmitWithAck(context.Background(), "question")
			v, _ := a.String(0)
			_ = s.Emit("answered", v, err == nil)
		}()
	})
	addr := startIO(t, io)

	w := dialWire(t, addr)
	w.connect("/", "")
	w.send(`40/vip,`)
	if got := w.next(); got != `44/vip,{"message":"members only","data":{"code":"NOT_A_MEMBER"}}` {
		t.Fatalf("refusal %q", got)
	}
	w.send(`40/nowhere,`)
	if got := w.next(); got != `44/nowhere,{"message":"Invalid namespace"}` {
		t.Fatalf("unknown namespace %q", got)
	}
	st := io.Stats()
	if st.ConnectRefusals["NOT_A_MEMBER"] != 1 || st.ConnectRefusals[""] != 1 || len(st.ConnectRefusals) != 2 {
		t.Fatalf("refusals %v", st.ConnectRefusals)
	}
	for _, want := range []string{
		`msg="connection refused" nsp=/vip code=NOT_A_MEMBER message="members only" addr=127.0.0.1 transport=websocket`,
		`msg="connection refused" nsp=/nowhere code="" message="Invalid namespace" addr=127.0.0.1 transport=websocket`,
	} {
		if n := strings.Count(logs.String(), want); n != 1 {
			t.Fatalf("%d lines %s, want 1:\n%s", n, want, logs.String())
		}
	}

	w.send(`42["ask"]`)
	q := w.next()
	if !strings.HasPrefix(q, `420["question"]`) {
		t.Fatalf("question %q", q)
	}
	time.Sleep(20 * time.Millisecond) // a round trip of at least 20 ms
	w.send(`430["yes"]`)
	if got := w.next(); got != `42["answered","yes",true]` {
		t.Fatalf("answer %q", got)
	}
	lat := io.Stats().AckLatency
	if lat.Count() != 1 || lat.Sum < 20*time.Millisecond || lat.Sum > 5*time.Second {
		t.Fatalf("ack latency %+v", lat)
	}

	nsps := io.Namespaces()
	if len(nsps) != 2 || nsps[0].Name() != "/" || nsps[0].Count() != 1 || nsps[1].Name() != "/vip" || nsps[1].Count() != 0 {
		t.Fatalf("namespaces %v", nsps)
	}
	w.send(`41`) // the client leaves "/"
	waitFor(t, "client namespace disconnect", func() bool {
		return io.Stats().Disconnects[ReasonClientDisconnect] == 1
	})
	st = io.Stats()
	if len(st.Disconnects) != len(disconnectReasons) {
		t.Fatalf("disconnects %v: every reason should be listed", st.Disconnects)
	}
	for r, n := range st.Disconnects {
		if r != ReasonClientDisconnect && n != 0 {
			t.Fatalf("disconnects %v", st.Disconnects)
		}
	}
}

// A refusal's code is its data's "code": a string's text or a number's digits; anything
// else counts as no code.
func TestRefusalCode(t *testing.T) {
	for data, want := range map[string]string{
		`{"code":"AUTH_TOKEN_EXPIRED","message":"token expired"}`: "AUTH_TOKEN_EXPIRED",
		`{"code":401,"reason":"bad token"}`:                       "401",
		`{"code":{"nested":1}}`:                                   "",
		`{"reason":"none"}`:                                       "",
		`"just text"`:                                             "",
		``:                                                        "",
	} {
		if got := refusalCode([]byte(data)); got != want {
			t.Errorf("refusalCode(%s) = %q, want %q", data, got, want)
		}
	}
}

// Past maxRefusalCodes distinct codes, refusals count under OtherRefusalCode.
func TestRefusalCodesAreBounded(t *testing.T) {
	io := New(Options{})
	for i := 0; i < maxRefusalCodes+10; i++ {
		io.countRefusal(strings.Repeat("X", i+1))
	}
	st := io.Stats()
	if len(st.ConnectRefusals) != maxRefusalCodes+1 || st.ConnectRefusals[OtherRefusalCode] != 10 {
		t.Fatalf("%d codes, %d other", len(st.ConnectRefusals), st.ConnectRefusals[OtherRefusalCode])
	}
}
