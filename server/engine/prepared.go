package engine

import (
	"errors"

	"github.com/riptide-io/riptide/codec/eio"
)

// ErrDropped is returned for a volatile send that the transport could not take at once.
var ErrDropped = errors.New("engine: volatile packet dropped")

// Prepared is a group of message packets (one text message and its binary attachments, as
// Socket.IO sends them) encoded once for every transport, so a broadcast encodes once and
// hands the same bytes to every recipient. Immutable once built; safe for concurrent use.
type Prepared struct {
	ws      []byte // WebSocket frames, ready to write
	rec     []byte // queue records for polling sessions
	packets int    // message packets: the text and its attachments
	size    int    // their payload bytes (Stats.BytesOut)
}

// Prepare encodes text and its attachments for every transport. The inputs are copied.
func Prepare(text []byte, attachments [][]byte) *Prepared {
	wsLen, recLen := 14+1+len(text), recordHeader+len(text)
	for _, a := range attachments {
		wsLen += 10 + len(a)
		recLen += recordHeader + len(a)
	}
	p := &Prepared{ws: make([]byte, 0, wsLen), rec: make([]byte, 0, recLen), packets: 1 + len(attachments), size: len(text)}
	p.ws = appendWSPacket(p.ws, eio.Message, text, false)
	p.rec = appendRecord(p.rec, eio.Message, text, false)
	for _, a := range attachments {
		p.ws = appendWSPacket(p.ws, eio.Message, a, true)
		p.rec = appendRecord(p.rec, eio.Message, a, true)
		p.size += len(a)
	}
	return p
}
