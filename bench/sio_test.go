package main

import (
	"bufio"
	"bytes"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
)

// publishToEvent turns a publish packet into what the server sends the other
// members of the room: `42["publish","room","m",...]` -> `42["m",...]`.
func publishToEvent(p []byte) []byte {
	i := bytes.Index(p, []byte(`","`+fanoutEvent+`"`))
	return append([]byte(`42[`), p[i+2:]...)
}

// readOnly lets wsutil read client frames from a buffer (it may write
// control replies, which go nowhere).
type readOnly struct {
	io.Reader
	io.Writer
}

func TestPublishRoundTrip(t *testing.T) {
	pkt := appendPublish(nil, "fan", 3, 42, 1764000000123456, "xyz")
	if want := `42["publish","fan","m",3,42,1764000000123456,"xyz"]`; string(pkt) != want {
		t.Fatalf("publish = %s, want %s", pkt, want)
	}
	ev := publishToEvent(pkt)
	gen, seq, sent, ok := parseFanout(ev)
	if !ok || gen != 3 || seq != 42 || sent != 1764000000123456 {
		t.Fatalf("parseFanout(%s) = %d %d %d %v", ev, gen, seq, sent, ok)
	}
	// Without padding the last number closes the array.
	if _, _, _, ok := parseFanout([]byte(`42["m",1,2,3]`)); !ok {
		t.Error("no padding: not parsed")
	}
	for _, bad := range []string{``, `42["x",1,2,3]`, `42["m",1,2]`, `42["m",1,-2,3]`, `42["m",1,2,3`, `42["m",a,2,3]`} {
		if _, _, _, ok := parseFanout([]byte(bad)); ok {
			t.Errorf("parseFanout(%q) accepted", bad)
		}
	}
}

func TestParseFanoutDoesNotAllocate(t *testing.T) {
	ev := []byte(`42["m",3,42,1764000000123456,"xyz"]`)
	if n := testing.AllocsPerRun(100, func() { parseFanout(ev) }); n != 0 {
		t.Fatalf("parseFanout allocates %v times", n)
	}
}

func FuzzParseFanout(f *testing.F) {
	f.Add([]byte(`42["m",3,42,1764000000123456,"xyz"]`))
	f.Add([]byte(`42["m",1,2,3]`))
	f.Add([]byte(`430[]`))
	f.Add([]byte(`42["m",99999999999999999999,1,1]`))
	f.Fuzz(func(t *testing.T, p []byte) {
		gen, seq, sent, ok := parseFanout(p)
		if ok && (gen < 0 || seq < 0 || sent < 0) {
			t.Fatalf("negative fields from %q", p)
		}
	})
}

func TestPingAndAck(t *testing.T) {
	if got := string(appendPing(nil, 17)); got != `4217["ping",17]` {
		t.Fatalf("ping = %s", got)
	}
	if got := string(appendEventWithAck(nil, 0, "join", "r1")); got != `420["join","r1"]` {
		t.Fatalf("join = %s", got)
	}
	for p, want := range map[string]bool{`4317[17]`: true, `430[]`: true, `43`: false, `42["m"]`: false, `43[]`: false} {
		if isAck([]byte(p)) != want {
			t.Errorf("isAck(%q) != %v", p, want)
		}
	}
	// The echo of ping 17, and what a server answers when it cannot echo.
	for p, want := range map[string]bool{
		`4317[17]`: true, `4317[]`: false, `4317[18]`: false, `4318[17]`: false, `4317[17,1]`: false,
		`4317[{"error":{"code":"BACKEND_UNAVAILABLE","message":"backend unavailable"}}]`: false,
	} {
		if isEcho([]byte(p), 17) != want {
			t.Errorf("isEcho(%q, 17) != %v", p, want)
		}
	}
	if n := testing.AllocsPerRun(100, func() { isEcho([]byte(`434294967295[4294967295]`), 1<<32-1) }); n != 0 {
		t.Fatalf("isEcho allocates %v times", n)
	}
}

func TestAppendClientFrameLengths(t *testing.T) {
	for _, n := range []int{0, 1, 125, 126, 1000, 65535} {
		payload := bytes.Repeat([]byte("a"), n)
		frame := appendClientFrame(nil, ws.OpText, payload, [4]byte{9, 8, 7, 6})
		got, op, err := wsutil.ReadClientData(readOnly{bytes.NewReader(frame), io.Discard})
		if err != nil || op != ws.OpText || !bytes.Equal(got, payload) {
			t.Fatalf("n=%d: %v %v, %d bytes back", n, op, err, len(got))
		}
	}
}

// writeFrame sends every payload whole: a CONNECT with a JWT is longer than
// the 125 bytes of the short length form, and a cut one is invalid JSON.
func TestWriteFrameLengths(t *testing.T) {
	for _, n := range []int{0, 1, 125, 126, 154, 1000, 65535} {
		payload := bytes.Repeat([]byte("b"), n)
		var out bytes.Buffer
		if err := writeFrame(&out, ws.OpText, payload, [4]byte{9, 8, 7, 6}); err != nil {
			t.Fatalf("n=%d: %v", n, err)
		}
		got, op, err := wsutil.ReadClientData(readOnly{&out, io.Discard})
		if err != nil || op != ws.OpText || !bytes.Equal(got, payload) || out.Len() != 0 {
			t.Fatalf("n=%d: %v %v, %d bytes back, %d left over", n, op, err, len(got), out.Len())
		}
	}
	if err := writeFrame(io.Discard, ws.OpText, make([]byte, 65536), [4]byte{}); err != errFrameTooLong {
		t.Fatalf("64 KiB payload: %v, want errFrameTooLong", err)
	}
}

// Setup replies may come after pings and unrelated frames; awaitText answers
// the pings and skips the rest.
func TestAwaitTextAnswersPings(t *testing.T) {
	var in bytes.Buffer
	for _, p := range []string{"2", `42["m",1,2,3]`, `40{"sid":"x"}`} {
		if err := wsutil.WriteServerText(&in, []byte(p)); err != nil {
			t.Fatal(err)
		}
	}
	var out bytes.Buffer
	var scratch [128]byte
	err := sioConnect(&out, bufio.NewReader(&in), [4]byte{1, 2, 3, 4}, scratch[:], nil)
	if err != nil {
		t.Fatal(err)
	}
	var sent []string
	r := bytes.NewReader(out.Bytes())
	for r.Len() > 0 {
		p, _, err := wsutil.ReadClientData(readOnly{r, io.Discard})
		if err != nil {
			t.Fatal(err)
		}
		sent = append(sent, string(p))
	}
	if strings.Join(sent, " ") != "40 3" {
		t.Fatalf("client sent %q, want CONNECT then a pong", sent)
	}
}

func TestCompletionInAndOutOfOrder(t *testing.T) {
	var c completion
	c.notify = make(chan struct{}, 1)
	c.reset(7, 3)
	c.add(7, 2) // seq 2 before seq 1, as two sessions may deliver
	c.add(7, 2)
	c.add(7, 2)
	if _, done := c.state(); done != 0 {
		t.Fatalf("done %d before seq 1 is complete", done)
	}
	c.add(6, 1) // another run: ignored
	var wg sync.WaitGroup
	for range 3 {
		wg.Add(1)
		go func() { defer wg.Done(); c.add(7, 1) }()
	}
	wg.Wait()
	if gen, done := c.state(); gen != 7 || done != 2 {
		t.Fatalf("state %d %d, want 7 2", gen, done)
	}
	select {
	case <-c.notify:
	default:
		t.Fatal("no notification")
	}
}
