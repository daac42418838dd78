package eio

import (
	"encoding/json"
	"strconv"

	"github.com/riptide-io/riptide/internal/jsonstr"
)

// Handshake is the JSON data of the open packet the server sends first on every session.
type Handshake struct {
	SID          string   // session id, the sid query parameter of later requests
	Upgrades     []string // transports the client may upgrade to: ["websocket"] on polling, [] on WebSocket
	PingInterval int64    // milliseconds between server pings (Node default 25000)
	PingTimeout  int64    // milliseconds the server waits for a pong (Node default 20000)
	MaxPayload   int64    // maxHttpBufferSize in bytes (Node default 1000000)
}

// AppendOpen appends the whole open packet for h to dst and returns the extended slice, e.g.
//
//	0{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}
//
// Keys come in the order engine.io's Socket writes them, nil Upgrades as [], and strings escaped
// as JSON.stringify escapes them, so the bytes equal the Node server's. It does not allocate when
// dst has room.
func AppendOpen(dst []byte, h Handshake) []byte {
	dst = append(dst, '0'+byte(Open))
	dst = append(dst, `{"sid":`...)
	dst = jsonstr.AppendQuote(dst, h.SID)
	dst = append(dst, `,"upgrades":[`...)
	for i, u := range h.Upgrades {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = jsonstr.AppendQuote(dst, u)
	}
	dst = append(dst, `],"pingInterval":`...)
	dst = strconv.AppendInt(dst, h.PingInterval, 10)
	dst = append(dst, `,"pingTimeout":`...)
	dst = strconv.AppendInt(dst, h.PingTimeout, 10)
	dst = append(dst, `,"maxPayload":`...)
	dst = strconv.AppendInt(dst, h.MaxPayload, 10)
	return append(dst, '}')
}

// openJSON mirrors the open packet's keys for ParseOpen.
type openJSON struct {
	SID          string   `json:"sid"`
	Upgrades     []string `json:"upgrades"`
	PingInterval int64    `json:"pingInterval"`
	PingTimeout  int64    `json:"pingTimeout"`
	MaxPayload   int64    `json:"maxPayload"`
}

// ParseOpen parses the data of an open packet (the JSON after the '0'). It is for clients and
// tests, not the server's hot path: it allocates, and the returned strings are copies.
// It returns ErrBadOpen, wrapping the JSON error if any, when data is not a JSON object with a
// non-empty string "sid" and integer times; missing numbers are zero and unknown keys ignored.
func ParseOpen(data []byte) (Handshake, error) {
	var o openJSON
	if err := json.Unmarshal(data, &o); err != nil {
		return Handshake{}, &openError{err}
	}
	if o.SID == "" {
		return Handshake{}, ErrBadOpen
	}
	return Handshake(o), nil
}

// openError is ErrBadOpen with the JSON decoder's reason attached.
type openError struct{ err error }

func (e *openError) Error() string { return ErrBadOpen.Error() + ": " + e.err.Error() }

// Is makes errors.Is(err, ErrBadOpen) true.
func (e *openError) Is(target error) bool { return target == ErrBadOpen }

// Unwrap exposes the JSON decoder's error.
func (e *openError) Unwrap() error { return e.err }
