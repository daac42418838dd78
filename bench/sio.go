package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/gobwas/ws"
)

// The client side of Socket.IO v5 over an Engine.IO v4 WebSocket, as much as
// the workloads need: CONNECT to "/", events with and without an ack id, and
// the two events the server sends back (fan-out messages and acks). Every
// packet is one text frame; nothing here is binary.

var (
	errConnectError = errors.New("bench: server refused the Socket.IO CONNECT")
	errSetupTimeout = errors.New("bench: too many frames before the expected reply")
)

// fanoutEvent is the event name subscribers receive. Its arguments are
// [gen, seq, sentMicros, pad]: the run generation (so a late message from an
// aborted run is never counted in the next one), the broadcast number, the
// publisher's wall clock in µs (below 2^53, so Node keeps it exact) and a
// padding string.
const fanoutEvent = "m"

// sioConnect sends a CONNECT for namespace "/" (with the auth payload, when
// not nil) and waits for its reply, answering pings meanwhile.
func sioConnect(conn io.Writer, br *bufio.Reader, mask [4]byte, scratch []byte, auth []byte) error {
	if err := writeFrame(conn, ws.OpText, append([]byte("40"), auth...), mask); err != nil {
		return err
	}
	return awaitText(conn, br, mask, scratch, func(p []byte) (bool, error) {
		switch {
		case bytes.HasPrefix(p, []byte("40")):
			return true, nil
		case bytes.HasPrefix(p, []byte("44")):
			return false, fmt.Errorf("%w: %q", errConnectError, p)
		}
		return false, nil
	})
}

// sioJoin emits "join" (room) with ack id id and waits for the ack.
func sioJoin(conn io.Writer, br *bufio.Reader, mask [4]byte, scratch []byte, room string, id int) error {
	pkt := appendEventWithAck(nil, id, "join", room)
	if err := writeFrame(conn, ws.OpText, pkt, mask); err != nil {
		return err
	}
	want := strconv.AppendInt([]byte("43"), int64(id), 10)
	return awaitText(conn, br, mask, scratch, func(p []byte) (bool, error) {
		return bytes.HasPrefix(p, want) && len(p) > len(want) && p[len(want)] == '[', nil
	})
}

// awaitText reads frames until done accepts a text payload, answering
// Engine.IO and WebSocket pings. It gives up after 64 frames: setup replies
// come first on an otherwise quiet connection.
func awaitText(conn io.Writer, br *bufio.Reader, mask [4]byte, scratch []byte, done func([]byte) (bool, error)) error {
	for range 64 {
		op, p, err := readFrame(br, scratch)
		if err != nil {
			return err
		}
		switch op {
		case ws.OpText:
			if len(p) == 1 && p[0] == '2' {
				if err := writeFrame(conn, ws.OpText, []byte{'3'}, mask); err != nil {
					return err
				}
				continue
			}
			ok, err := done(p)
			if err != nil || ok {
				return err
			}
		case ws.OpPing:
			if err := writeFrame(conn, ws.OpPong, p, mask); err != nil {
				return err
			}
		case ws.OpClose:
			return errServerClose
		}
	}
	return errSetupTimeout
}

// appendEventWithAck appends `42<id>["name","arg"]`; the strings must need
// no JSON escaping (the bench only uses plain names).
func appendEventWithAck(dst []byte, id int, name, arg string) []byte {
	dst = append(dst, "42"...)
	dst = strconv.AppendInt(dst, int64(id), 10)
	dst = append(dst, `["`...)
	dst = append(dst, name...)
	dst = append(dst, `","`...)
	dst = append(dst, arg...)
	return append(dst, `"]`...)
}

// appendPing appends the echo request `42<id>["ping",<id>]`.
func appendPing(dst []byte, id uint32) []byte {
	dst = append(dst, "42"...)
	dst = strconv.AppendUint(dst, uint64(id), 10)
	dst = append(dst, `["ping",`...)
	dst = strconv.AppendUint(dst, uint64(id), 10)
	return append(dst, ']')
}

// appendPublish appends `42["publish","room","m",gen,seq,sentMicros,"pad"]`.
func appendPublish(dst []byte, room string, gen, seq, sentMicros int64, pad string) []byte {
	dst = append(dst, `42["publish","`...)
	dst = append(dst, room...)
	dst = append(dst, `","`+fanoutEvent+`",`...)
	dst = strconv.AppendInt(dst, gen, 10)
	dst = append(dst, ',')
	dst = strconv.AppendInt(dst, seq, 10)
	dst = append(dst, ',')
	dst = strconv.AppendInt(dst, sentMicros, 10)
	dst = append(dst, `,"`...)
	dst = append(dst, pad...)
	return append(dst, `"]`...)
}

// parseFanout reads gen, seq and the send time from a received fan-out event
// `42["m",gen,seq,sentMicros,...]`. It does not allocate.
func parseFanout(p []byte) (gen, seq, sent int64, ok bool) {
	const prefix = `42["` + fanoutEvent + `",`
	if !bytes.HasPrefix(p, []byte(prefix)) {
		return 0, 0, 0, false
	}
	p = p[len(prefix):]
	var vals [3]int64
	for i := range vals {
		n, rest, ok := parseUint(p)
		if !ok || len(rest) == 0 || (rest[0] != ',' && rest[0] != ']') {
			return 0, 0, 0, false
		}
		vals[i], p = n, rest[1:]
	}
	return vals[0], vals[1], vals[2], true
}

// parseUint reads a non-negative decimal integer from the front of p.
func parseUint(p []byte) (int64, []byte, bool) {
	var n int64
	i := 0
	for ; i < len(p) && i < 18 && p[i] >= '0' && p[i] <= '9'; i++ {
		n = n*10 + int64(p[i]-'0')
	}
	return n, p[i:], i > 0
}

// isAck reports whether p is an ACK packet `43<id>[...]` for namespace "/".
func isAck(p []byte) bool {
	return len(p) >= 3 && p[0] == '4' && p[1] == '3' && p[2] >= '0' && p[2] <= '9'
}

// isEcho reports whether p is the answer every server gives to the echo
// request of appendPing: `43<id>[<id>]`, the ack of ping id carrying its
// argument back. Anything else (an error in the ack, e.g. a proxied ping
// whose backend failed) is not a round trip. It does not allocate.
func isEcho(p []byte, id uint32) bool {
	var buf [32]byte
	want := strconv.AppendUint(append(buf[:0], "43"...), uint64(id), 10)
	want = strconv.AppendUint(append(want, '['), uint64(id), 10)
	return bytes.Equal(p, append(want, ']'))
}
