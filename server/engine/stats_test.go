package engine

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/riptide-io/riptide/internal/logtest"
)

// statsView is the counters TestStats checks, read at once.
type statsView struct {
	hsPolling, hsWS, upgrades, websockets, refusedNode, refusedDraining int64
	transportClose, forcedClose                                         int64
	packetsIn, bytesIn, packetsOut, bytesOut                            uint64
}

func viewStats(st *Stats) statsView {
	return statsView{
		hsPolling: st.HandshakesPolling.Load(), hsWS: st.HandshakesWebSocket.Load(),
		upgrades: st.Upgrades.Load(), websockets: st.WebSockets.Load(), refusedNode: st.RefusedNode.Load(),
		refusedDraining: st.RefusedDraining.Load(),
		transportClose:  st.Closed[ReasonTransportClose].Load(), forcedClose: st.Closed[ReasonForcedClose].Load(),
		packetsIn: st.PacketsIn.Load(), bytesIn: st.BytesIn.Load(),
		packetsOut: st.PacketsOut.Load(), bytesOut: st.BytesOut.Load(),
	}
}

// Every counter of Stats moves by exactly what the traffic did: handshakes per transport,
// the WebSocket gauge through an upgrade and a close, a refused handshake (with its one
// log line), message packets and payload bytes both ways on both transports, and
// broadcasts (counted once per loop, per recipient).
func TestStats(t *testing.T) {
	var logs logtest.Buffer
	srv, l := startListener(t, Options{MaxSessions: 3}, ListenConfig{Logger: slog.New(slog.NewTextHandler(&logs, nil))}, newEcho())
	addr := l.Addr()
	st := srv.Stats()
	want := statsView{}
	check := func(what string) {
		t.Helper()
		end := time.Now().Add(5 * time.Second)
		for got := viewStats(st); got != want; got = viewStats(st) {
			if time.Now().After(end) {
				t.Fatalf("%s:\n got %+v\nwant %+v", what, got, want)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}

	sid := handshakePolling(t, addr, eioPath)
	want.hsPolling = 1
	check("polling handshake")

	w := dialWS(t, "ws://"+addr+eioPath+"?EIO=4&transport=websocket")
	parseOpen(t, w.readText())
	want.hsWS, want.websockets = 1, 1
	check("websocket handshake")

	w.sendText("4hello") // echoed: one packet of 5 bytes each way
	if got := w.readText(); got != "4hello" {
		t.Fatalf("echo %q", got)
	}
	want.packetsIn, want.bytesIn, want.packetsOut, want.bytesOut = 1, 5, 1, 5
	check("websocket echo")

	q := eioPath + "?EIO=4&transport=polling&sid=" + sid
	p := dialRaw(t, addr)
	p.send(post(q, "4abc\x1e4de")) // two packets in one payload
	if resp, _ := p.response(); resp.StatusCode != 200 {
		t.Fatalf("POST: %d", resp.StatusCode)
	}
	want.packetsIn, want.bytesIn, want.packetsOut, want.bytesOut = 3, 10, 3, 10
	check("polling echo")

	// Upgrade the polling session; the echoes queued on polling are delivered on the new
	// WebSocket and counted once, when they were queued.
	up := dialWS(t, "ws://"+addr+eioPath+"?EIO=4&transport=websocket&sid="+sid)
	up.sendText("2probe")
	if got := up.readText(); got != "3probe" {
		t.Fatalf("probe answer %q", got)
	}
	up.sendText("5")
	if a, b := up.readText(), up.readText(); a != "4abc" || b != "4de" {
		t.Fatalf("held echoes %q %q", a, b)
	}
	want.upgrades, want.websockets = 1, 2
	check("upgrade")

	// Over the limit: refused, counted and logged once.
	r := dialRaw(t, addr)
	r.send(get(eioPath + "?EIO=4&transport=polling"))
	r.response() // the third session slot is free: this one opens
	want.hsPolling = 2
	check("third session")
	r.send(get(eioPath + "?EIO=4&transport=polling"))
	if resp, _ := r.response(); resp.StatusCode != 503 {
		t.Fatalf("over MaxSessions: %d", resp.StatusCode)
	}
	want.refusedNode = 1
	check("refusal")
	if n := strings.Count(logs.String(), `msg="handshake refused" code=CONN_LIMIT_NODE status=503 addr=127.0.0.1 transport=polling`); n != 1 {
		t.Fatalf("%d refusal log lines, want 1:\n%s", n, logs.String())
	}
	srv.RefuseHandshakes(true)
	r = dialRaw(t, addr) // a refusal closes its connection
	r.send(get(eioPath + "?EIO=4&transport=polling"))
	if resp, _ := r.response(); resp.StatusCode != 503 {
		t.Fatalf("while refusing: %d", resp.StatusCode)
	}
	srv.RefuseHandshakes(false)
	want.refusedDraining = 1
	check("draining refusal")

	// A broadcast to both WebSocket sessions: one packet of 4 bytes to each.
	var both []*Session
	srv.Range(func(s *Session) bool {
		if s.Transport() == WebSocket {
			both = append(both, s)
		}
		return true
	})
	Broadcast(Prepare([]byte("cast"), nil), both, false)
	if a, b := w.readText(), up.readText(); a != "4cast" || b != "4cast" {
		t.Fatalf("broadcast %q %q", a, b)
	}
	want.packetsOut, want.bytesOut = 5, 18
	check("broadcast")

	w.sendText("1") // the client closes: transport close
	want.transportClose, want.websockets = 1, 1
	check("client close")
	srv.Session(sid).Close()
	want.forcedClose, want.websockets = 1, 0
	check("server close")
}
