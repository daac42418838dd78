package redis

import (
	"strconv"

	"github.com/riptide-io/riptide/codec/sio"
	"github.com/riptide-io/riptide/rooms"
)

// The two protocols, as @socket.io/redis-adapter 8.x writes them (dist/index.js and
// dist/sharded-adapter.js, with socket.io-adapter 2.5's cluster-adapter.js).
//
// Classic (createAdapter, and @socket.io/redis-emitter 5.x), per namespace NSP and key K:
//   K#NSP#         broadcasts, msgpack [uid, packet, opts]; K#NSP#ROOM# when exactly one
//                  room is named. Subscribed as the pattern K#NSP#*.
//   K-request#NSP# requests {uid, requestId?, type, ...}: JSON, except BROADCAST (7, a
//                  broadcast with acks), which is msgpack. Types: 0 SOCKETS, 1 ALL_ROOMS,
//                  2 REMOTE_JOIN, 3 REMOTE_LEAVE, 4 REMOTE_DISCONNECT, 5 REMOTE_FETCH,
//                  6 SERVER_SIDE_EMIT, 7 BROADCAST.
//   K-response#NSP# and K-response#NSP#UID#  answers {requestId, ...}: JSON, except
//                  BROADCAST_ACK (9), msgpack; SERVER_SIDE_EMIT answers (6) and
//                  BROADCAST_CLIENT_COUNT (8) carry a type, the others do not.
// A receiver tells JSON from msgpack by the first byte ('{'). The requester hears its own
// requests; it recognizes them by uid.
//
// Sharded (createShardedAdapter): K#NSP# for every message, K#NSP#ROOM# for broadcasts to one
// room (subscriptionMode), K#NSP#UID# for the answers to node UID; every message is
// {type, data, uid, nsp}, JSON unless its data holds binary, then msgpack. Types:
// 1 INITIAL_HEARTBEAT, 2 HEARTBEAT, 3 BROADCAST, 4 SOCKETS_JOIN, 5 SOCKETS_LEAVE,
// 6 DISCONNECT_SOCKETS, 7 FETCH_SOCKETS, 8 FETCH_SOCKETS_RESPONSE, 9 SERVER_SIDE_EMIT,
// 10 SERVER_SIDE_EMIT_RESPONSE, 11 BROADCAST_CLIENT_COUNT, 12 BROADCAST_ACK, 13 ADAPTER_CLOSE.
//
// riptide's additions, which Node.js nodes ignore (unknown types, extra fields): heartbeats
// on the classic request channel (types 100 hello, 101 heartbeat, 102 goodbye, with the
// node's name), the sharded heartbeat types with {name} as data, and the answering node's
// uid in classic answers. They let a requester know which nodes are alive and which did not
// answer.

// kind is what a message asks or answers, the same for both protocols.
type kind uint8

const (
	kNone kind = iota
	kBroadcast
	kJoin
	kLeave
	kDisconnect
	kFetch
	kSockets
	kAllRooms
	kSSE
	kHello
	kHeartbeat
	kBye
	rFetch
	rSockets
	rAllRooms
	rSSE
	rCount
	rAck
	rDone // the answer to a legacy REMOTE_JOIN/LEAVE/DISCONNECT with a socket id
)

// Classic request types, and riptide's heartbeat types.
const (
	cSockets    = 0
	cAllRooms   = 1
	cJoin       = 2
	cLeave      = 3
	cDisconnect = 4
	cFetch      = 5
	cSSE        = 6
	cBroadcast  = 7
	cCount      = 8
	cAck        = 9
	cHello      = 100
	cHeartbeat  = 101
	cBye        = 102
)

// Sharded (cluster-adapter) message types.
const (
	sHello      = 1
	sHeartbeat  = 2
	sBroadcast  = 3
	sJoin       = 4
	sLeave      = 5
	sDisconnect = 6
	sFetch      = 7
	sFetchResp  = 8
	sSSE        = 9
	sSSEResp    = 10
	sCount      = 11
	sAck        = 12
	sBye        = 13
)

// msg is a decoded message. Byte slices alias the decoded JSON.
type msg struct {
	kind     kind
	typ      int
	uid      string
	reqID    string
	nsp      string
	hasNsp   bool
	name     string
	opts     rooms.Options
	hasOpts  bool
	stored   bool   // a broadcast's opts say "stored": recovery nodes read it from the stream
	ptype    int    // packet type of a broadcast
	data     []byte // a broadcast's or server-side event's JSON array; an answer's value
	atts     [][]byte
	hasData  bool
	rooms    []byte // raw "rooms": targets of join/leave, the filter of SOCKETS, an answer's list
	close    bool
	sid      string // legacy requests
	room     string
	sockets  []byte // raw "sockets" of an answer
	count    int
	hasCount bool
}

// eachField calls f for each member of the JSON object obj, in order, with the unquoted key
// (valid during the call) and the raw value.
func eachField(obj []byte, f func(key []byte, val []byte)) error {
	i := skipWS(obj, 0)
	if i >= len(obj) || obj[i] != '{' {
		return errJSON
	}
	i = skipWS(obj, i+1)
	if i < len(obj) && obj[i] == '}' {
		return nil
	}
	var scratch [64]byte
	for {
		kend, err := skipString(obj, i)
		if err != nil {
			return err
		}
		key, err := sio.Unquote(scratch[:0], obj[i:kend])
		if err != nil {
			return errJSON
		}
		i = skipWS(obj, kend)
		if i >= len(obj) || obj[i] != ':' {
			return errJSON
		}
		i = skipWS(obj, i+1)
		vend, err := skipJSON(obj, i, 1)
		if err != nil {
			return err
		}
		f(key, obj[i:vend:vend])
		i = skipWS(obj, vend)
		if i >= len(obj) {
			return errJSON
		}
		if obj[i] == '}' {
			return nil
		}
		if obj[i] != ',' {
			return errJSON
		}
		i = skipWS(obj, i+1)
	}
}

// str returns a JSON string's text, or a number's digits (rooms may be numbers in Node).
func str(v []byte) string {
	if len(v) > 0 && v[0] == '"' {
		b, err := sio.AppendUnquote(nil, v)
		if err != nil {
			return ""
		}
		return string(b)
	}
	if len(v) > 0 && (v[0] == '-' || v[0] >= '0' && v[0] <= '9') {
		f, err := strconv.ParseFloat(string(v), 64)
		if err == nil {
			return string(sio.AppendNumber(nil, f))
		}
	}
	return ""
}

func num(v []byte) (int, bool) {
	f, err := strconv.ParseFloat(string(v), 64)
	if err != nil {
		return 0, false
	}
	return int(f), true
}

// strs decodes a JSON array of strings (numbers become their text, other values are left out).
func strs(v []byte) []string {
	var out []string
	it := sio.NewArrayIter(v)
	for e, ok := it.Next(); ok; e, ok = it.Next() {
		if s := str(e); s != "" || len(e) == 2 {
			out = append(out, s)
		}
	}
	return out
}

// parseOpts reads {rooms, except, flags[, stored]}; stored is riptide's own (tail.go), and
// Node's adapters ignore it.
func parseOpts(v []byte) (o rooms.Options, stored bool) {
	_ = eachField(v, func(k, val []byte) {
		switch string(k) {
		case "stored":
			stored = string(val) == "true"
		case "rooms":
			o.Rooms = strs(val)
		case "except":
			o.Except = strs(val)
		case "flags":
			_ = eachField(val, func(k, val []byte) {
				switch string(k) {
				case "volatile":
					o.Flags.Volatile = string(val) == "true"
				case "compress":
					o.Flags.Compress = string(val) == "true"
				case "local":
					o.Flags.Local = string(val) == "true"
				}
			})
		}
	})
	return o, stored
}

// parsePacket reads a socket.io-parser packet {type, data, nsp}.
func (m *msg) parsePacket(v []byte) {
	m.ptype = 2
	_ = eachField(v, func(k, val []byte) {
		switch string(k) {
		case "type":
			if n, ok := num(val); ok {
				m.ptype = n
			}
		case "data":
			m.data, m.hasData = val, true
		case "nsp":
			m.nsp, m.hasNsp = str(val), true
		}
	})
}

// toJSON turns a message body into JSON text: as is when it starts with '{' or '[' (JSON),
// else from msgpack, the binary values collected as attachments.
func toJSON(body []byte) ([]byte, [][]byte, error) {
	if len(body) > 0 && (body[0] == '{' || body[0] == '[') {
		return body, nil, nil
	}
	return msgpackToJSON(make([]byte, 0, len(body)+len(body)/2+16), body, nil)
}

// decodeClassicBroadcast reads [uid, packet, opts] from a K#NSP# channel.
func decodeClassicBroadcast(body []byte) (msg, error) {
	js, atts, err := toJSON(body)
	if err != nil {
		return msg{}, err
	}
	m := msg{kind: kBroadcast, atts: atts}
	it := sio.NewArrayIter(js)
	for i := 0; ; i++ {
		e, ok := it.Next()
		if !ok {
			break
		}
		switch i {
		case 0:
			m.uid = str(e)
		case 1:
			m.parsePacket(e)
		case 2:
			m.opts, m.stored = parseOpts(e)
		}
	}
	if it.Err() != nil || !m.hasData {
		return msg{}, errJSON
	}
	return m, nil
}

// decodeClassic reads a request or an answer from the request or response channels.
func decodeClassic(body []byte, response bool) (msg, error) {
	js, atts, err := toJSON(body)
	if err != nil {
		return msg{}, err
	}
	m := msg{typ: -1, atts: atts}
	var packet, opts []byte
	err = eachField(js, func(k, v []byte) {
		switch string(k) {
		case "type":
			if n, ok := num(v); ok {
				m.typ = n
			}
		case "uid":
			m.uid = str(v)
		case "requestId":
			m.reqID = str(v)
		case "opts":
			opts = v
		case "rooms":
			m.rooms = v
		case "close":
			m.close = string(v) == "true"
		case "data":
			m.data, m.hasData = v, true
		case "packet":
			packet = v
		case "sid":
			m.sid = str(v)
		case "room":
			m.room = str(v)
		case "sockets":
			m.sockets = v
		case "clientCount":
			m.count, m.hasCount = num(v)
		case "name":
			m.name = str(v)
		}
	})
	if err != nil {
		return msg{}, err
	}
	if opts != nil {
		m.opts, m.stored = parseOpts(opts)
		m.hasOpts = true
	}
	if response {
		switch m.typ {
		case cSSE:
			m.kind = rSSE
		case cCount:
			m.kind = rCount
		case cAck:
			m.kind = rAck
			m.data, m.hasData = packet, packet != nil
		default: // untyped: the pending request says what it is
			switch {
			case m.sockets != nil:
				m.kind = rFetch // or rSockets: decided by the request
			case m.rooms != nil:
				m.kind = rAllRooms
			default:
				m.kind = rDone
			}
		}
		return m, nil
	}
	switch m.typ {
	case cSockets:
		m.kind = kSockets
	case cAllRooms:
		m.kind = kAllRooms
	case cJoin:
		m.kind = kJoin
	case cLeave:
		m.kind = kLeave
	case cDisconnect:
		m.kind = kDisconnect
	case cFetch:
		m.kind = kFetch
	case cSSE:
		m.kind = kSSE
	case cBroadcast:
		m.kind = kBroadcast
		if packet == nil {
			return msg{}, errJSON
		}
		m.parsePacket(packet)
	case cHello:
		m.kind = kHello
	case cHeartbeat:
		m.kind = kHeartbeat
	case cBye:
		m.kind = kBye
	}
	m.hasNsp = false // classic requests carry no namespace of their own
	return m, nil
}

// decodeSharded reads {type, data, uid, nsp}.
func decodeSharded(body []byte) (msg, error) {
	js, atts, err := toJSON(body)
	if err != nil {
		return msg{}, err
	}
	m := msg{typ: -1, atts: atts}
	var data []byte
	err = eachField(js, func(k, v []byte) {
		switch string(k) {
		case "type":
			if n, ok := num(v); ok {
				m.typ = n
			}
		case "uid":
			m.uid = str(v)
		case "nsp":
			m.nsp, m.hasNsp = str(v), true
		case "data":
			data = v
		}
	})
	if err != nil {
		return msg{}, err
	}
	var packet, opts []byte
	if data != nil {
		_ = eachField(data, func(k, v []byte) {
			switch string(k) {
			case "requestId":
				m.reqID = str(v)
			case "packet":
				packet = v
			case "opts":
				opts = v
			case "rooms":
				m.rooms = v
			case "close":
				m.close = string(v) == "true"
			case "sockets":
				m.sockets = v
			case "clientCount":
				m.count, m.hasCount = num(v)
			case "name":
				m.name = str(v)
			}
		})
	}
	if opts != nil {
		m.opts, m.stored = parseOpts(opts)
		m.hasOpts = true
	}
	nsp, hasNsp := m.nsp, m.hasNsp
	switch m.typ {
	case sHello:
		m.kind = kHello
	case sHeartbeat:
		m.kind = kHeartbeat
	case sBye:
		m.kind = kBye
	case sBroadcast:
		m.kind = kBroadcast
		if packet == nil {
			return msg{}, errJSON
		}
		m.parsePacket(packet)
		m.nsp, m.hasNsp = nsp, hasNsp // the message's namespace, not the packet's
	case sJoin:
		m.kind = kJoin
	case sLeave:
		m.kind = kLeave
	case sDisconnect:
		m.kind = kDisconnect
	case sFetch:
		m.kind = kFetch
	case sSSE:
		m.kind = kSSE
		m.data, m.hasData = packet, packet != nil
	case sFetchResp:
		m.kind = rFetch
	case sSSEResp:
		m.kind = rSSE
		m.data, m.hasData = packet, packet != nil
	case sCount:
		m.kind = rCount
	case sAck:
		m.kind = rAck
		m.data, m.hasData = packet, packet != nil
	}
	return m, nil
}

// JSON writing.

func appendStrs(dst []byte, ss []string) []byte {
	dst = append(dst, '[')
	for i, s := range ss {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = sio.AppendQuote(dst, s)
	}
	return append(dst, ']')
}

// appendFlags writes the broadcast flags Node puts in opts (local ones never leave a node).
func appendFlags(dst []byte, f rooms.Flags) []byte {
	dst = append(dst, '{')
	n := len(dst)
	if f.Volatile {
		dst = append(dst, `"volatile":true`...)
	}
	if f.Compress {
		if len(dst) > n {
			dst = append(dst, ',')
		}
		dst = append(dst, `"compress":true`...)
	}
	if f.Timeout > 0 {
		if len(dst) > n {
			dst = append(dst, ',')
		}
		dst = append(dst, `"timeout":`...)
		dst = strconv.AppendInt(dst, f.Timeout.Milliseconds(), 10)
	}
	return append(dst, '}')
}

// appendOpts writes {rooms, except[, flags]}; except without repeats, as Node's new Set.
func appendOpts(dst []byte, o *rooms.Options, flags bool) []byte {
	return appendBroadcastOpts(dst, o, flags, false)
}

// appendBroadcastOpts is appendOpts with "stored":true for a broadcast in the recovery
// stream (tail.go).
func appendBroadcastOpts(dst []byte, o *rooms.Options, flags, stored bool) []byte {
	dst = append(dst, `{"rooms":`...)
	dst = appendStrs(dst, o.Rooms)
	dst = append(dst, `,"except":`...)
	dst = appendStrs(dst, uniq(o.Except))
	if flags {
		dst = append(dst, `,"flags":`...)
		dst = appendFlags(dst, o.Flags)
	}
	if stored {
		dst = append(dst, `,"stored":true`...)
	}
	return append(dst, '}')
}

func uniq(ss []string) []string {
	for i := 1; i < len(ss); i++ {
		for j := 0; j < i; j++ {
			if ss[i] == ss[j] {
				out := make([]string, 0, len(ss))
				for _, s := range ss {
					dup := false
					for _, o := range out {
						dup = dup || o == s
					}
					if !dup {
						out = append(out, s)
					}
				}
				return out
			}
		}
	}
	return ss
}

// firstArg returns the first element of the JSON array arr (an ack's first argument: Node
// passes only that one on), or nil for an empty array.
func firstArg(arr []byte) []byte {
	it := sio.NewArrayIter(arr)
	e, ok := it.Next()
	if !ok {
		return nil
	}
	return e
}

// encode finishes a message built as JSON: msgpack (notepack's layout) when it must be, or
// when it carries attachments, which JSON cannot.
func encode(js []byte, atts [][]byte, asMsgpack bool) []byte {
	if !asMsgpack && len(atts) == 0 {
		return js
	}
	out, err := jsonToMsgpack(make([]byte, 0, len(js)+16), js, atts)
	if err != nil {
		return js // cannot happen for what this package builds; JSON is the safe fallback
	}
	return out
}
