package server

import (
	"sync/atomic"

	"github.com/riptide-io/riptide/codec/sio"
)

// Event is one incoming event: its name, its arguments (raw until decoded), and the
// acknowledgement the client asked for, if any. An Event may be kept after the handler
// returns (its bytes are its own).
type Event struct {
	Args
	Name   string
	socket *Socket
	ackID  int64 // -1: no ack requested
	acked  atomic.Bool
}

// Socket returns the socket the event came from.
func (e *Event) Socket() *Socket { return e.socket }

// HasAck reports whether the client asked for an acknowledgement.
func (e *Event) HasAck() bool { return e.ackID >= 0 }

// Ack answers the client's acknowledgement with args (an Args value alone is sent as is;
// binary becomes a BINARY_ACK). Only the first call sends; later ones and calls for events
// without an ack request do nothing. Safe from any goroutine.
func (e *Event) Ack(args ...any) error {
	if e.ackID < 0 || !e.acked.CompareAndSwap(false, true) {
		return nil
	}
	dst := make([]byte, 0, 32)
	dst = append(dst, '[')
	dst, atts, err := appendArgs(dst, nil, true, args)
	if err != nil {
		return err
	}
	dst = append(dst, ']')
	t := sio.Ack
	if len(atts) > 0 {
		t = sio.BinaryAck
	}
	s := e.socket
	return s.sendPacket(&sio.Packet{Type: t, Namespace: s.nsp.wireName(), ID: e.ackID, Data: dst, Attachments: len(atts)}, atts, false)
}
