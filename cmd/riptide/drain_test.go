package main

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/riptide-io/riptide/internal/nodetest"
)

var drainedLine = regexp.MustCompile(`msg=drained duration=(\S+) sessions=(\d+)$`)

// TestBinaryDrain: SIGTERM drains the built binary as a rolling restart behind a load
// balancer needs, seen by the real socket.io-client on both transports: acks asked just
// before the signal arrive, a client connecting during drain.delay gets in, a handshake
// after it gets 503 SERVER_DRAINING, every client sees a transport-level close (so it
// reconnects by itself) rather than "io server disconnect", and the process exits 0 after
// logging the drain's duration and sessions.
func TestBinaryDrain(t *testing.T) {
	nodetest.Setup(t)
	bin := nodetest.BuildGo(t, "./cmd/riptide")
	const extra, timeout = 4, 20 * time.Second
	p := launch(t, bin, cleanEnv(), "--addr", "127.0.0.1:0",
		"--drain-delay", "2s", "--drain-rate", "4", "--drain-timeout", timeout.String())
	exited := false
	t.Cleanup(func() {
		if !exited {
			_ = p.cmd.Process.Kill()
			<-p.exited
		}
	})

	type client struct {
		Name   string `json:"name"`
		Reason string `json:"reason"`
		Active bool   `json:"active"`
	}
	res := nodetest.Decode[struct {
		Acks    map[string]string `json:"acks"`
		Refused struct {
			Status int    `json:"status"`
			Body   string `json:"body"`
		} `json:"refused"`
		Clients []client `json:"clients"`
	}](t, nodetest.Run(t, 60*time.Second, "drain-clients.js", "--url", "http://"+p.addr,
		"--pid", strconv.Itoa(p.cmd.Process.Pid), "--extra", strconv.Itoa(extra), "--during-after", "500"))

	select {
	case err := <-p.exited:
		exited = true
		if err != nil {
			t.Fatalf("riptide exited with %v after draining; log:\n%s", err, strings.Join(p.logged(), "\n"))
		}
	case <-time.After(timeout):
		t.Fatalf("riptide still runs %v after the clients were closed; log:\n%s", timeout, strings.Join(p.logged(), "\n"))
	}

	if res.Acks["websocket"] != "websocket" || res.Acks["polling"] != "polling" {
		t.Errorf("acks asked before SIGTERM: %v", res.Acks)
	}
	const refusal = `{"code":"SERVER_DRAINING","message":"the server is shutting down: connect to another node"}`
	if res.Refused.Status != 503 || res.Refused.Body != refusal {
		t.Errorf("handshake after the delay: %d %s", res.Refused.Status, res.Refused.Body)
	}
	if want := 2 + extra + 1; len(res.Clients) != want {
		t.Errorf("%d clients disconnected, want %d", len(res.Clients), want)
	}
	for _, c := range res.Clients {
		if (c.Reason != "transport close" && c.Reason != "transport error") || !c.Active {
			t.Errorf("%s: disconnect %q, active %v: want a transport close after which the client reconnects", c.Name, c.Reason, c.Active)
		}
	}
	var drained []string
	for _, l := range p.logged() {
		if m := drainedLine.FindStringSubmatch(l); m != nil {
			drained = m
		}
	}
	if drained == nil {
		t.Fatalf("no drained line in the log:\n%s", strings.Join(p.logged(), "\n"))
	}
	took, err := time.ParseDuration(drained[1])
	if err != nil || took >= timeout || drained[2] != strconv.Itoa(2+extra+1) {
		t.Errorf("drained after %s (bound %v) with %s sessions, want %d", drained[1], timeout, drained[2], 2+extra+1)
	}
}
