package engine

import (
	"bytes"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"time"

	"github.com/gobwas/ws"
	"github.com/panjf2000/gnet/v2"
	"github.com/valyala/bytebufferpool"

	"github.com/riptide-io/riptide/codec/eio"
	"github.com/riptide-io/riptide/codec/wsframe"
	"github.com/riptide-io/riptide/server/http1"
)

const wsGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// upgradeWebSocket completes an HTTP Upgrade into a WebSocket: a new session (no sid) or the
// probe of a polling session's upgrade (sid).
func (l *Listener) upgradeWebSocket(c gnet.Conn, cs *connState, srv *Server, sess *Session, req *http1.Request, buf []byte, n int) (reqOutcome, gnet.Action) {
	key := req.HeaderValue("Sec-WebSocket-Key")
	if !bytes.Equal(req.Method, []byte("GET")) {
		writeAbortUpgrade(c, "Invalid HTTP method")
		return reqDone, gnet.Close
	}
	if v := req.HeaderValue("Sec-WebSocket-Version"); !bytes.Equal(v, []byte("13")) && !bytes.Equal(v, []byte("8")) {
		writeAbortUpgrade(c, "Missing or invalid Sec-WebSocket-Version header")
		return reqDone, gnet.Close
	}
	if !validWSKey(key) {
		writeAbortUpgrade(c, "Missing or invalid Sec-WebSocket-Key header")
		return reqDone, gnet.Close
	}
	out := bytebufferpool.Get()
	defer bytebufferpool.Put(out)
	out.B = append(out.B, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: "...)
	out.B = appendAcceptKey(out.B, key)
	out.B = append(out.B, "\r\n"...)

	if sess == nil {
		s := newSession(srv, newRequest(buf[:n], c.RemoteAddr().String(), time.Now()), WebSocket)
		if srv.opts.Cookie != nil {
			out.B = srv.opts.Cookie.appendSetCookie(out.B, s.id)
		}
		out.B = append(out.B, "\r\n"...)
		open := bytebufferpool.Get()
		open.B = srv.appendOpen(open.B, s.id, false)
		out.B = wsframe.AppendFrame(out.B, ws.OpText, open.B)
		bytebufferpool.Put(open)
		s.conn = c
		cs.kind, cs.srv, cs.sess = kindWebSocket, srv, s
		l.disarm(cs, false)
		// Register before the client can learn the sid; what OnOpen sends is flushed by the
		// wake it queues, which runs after this write.
		srv.open(s)
		_, _ = c.Write(out.B)
		_, _ = c.Discard(n)
		return reqUpgraded, l.wsTraffic(c, cs)
	}

	out.B = append(out.B, "\r\n"...)
	_, _ = c.Write(out.B)
	_, _ = c.Discard(n)
	cs.kind, cs.srv = kindWebSocket, srv
	l.disarm(cs, false)
	if !sess.probeOpen(c) {
		// Already upgraded, or upgrading: the reference accepts then closes this socket.
		_, _ = c.Write(closeNoStatus)
		return reqUpgraded, gnet.Close
	}
	cs.sess, cs.probe = sess, true
	return reqUpgraded, l.wsTraffic(c, cs)
}

// validWSKey checks the form the `ws` package requires: 16 bytes in base64 (24 characters).
func validWSKey(k []byte) bool {
	if len(k) != 24 || k[22] != '=' || k[23] != '=' {
		return false
	}
	for _, b := range k[:22] {
		if !(b >= 'A' && b <= 'Z' || b >= 'a' && b <= 'z' || b >= '0' && b <= '9' || b == '+' || b == '/') {
			return false
		}
	}
	return true
}

func appendAcceptKey(dst, key []byte) []byte {
	h := sha1.New()
	h.Write(key)
	h.Write([]byte(wsGUID))
	var sum [sha1.Size]byte
	return base64.StdEncoding.AppendEncode(dst, h.Sum(sum[:0]))
}

// wsTraffic reads the frames buffered on a WebSocket connection and flushes what the session
// queued for it. It runs on c's event loop, also when the session woke it.
func (l *Listener) wsTraffic(c gnet.Conn, cs *connState) gnet.Action {
	s := cs.sess
	if s == nil {
		return gnet.Close
	}
	if cs.probe {
		return l.probeTraffic(c, cs, s)
	}
	action := gnet.None
	if s.wsTurn() {
		l.startReading(c, cs)
		action = l.readFrames(c, cs, s)
	} else if c.InboundBuffered() > 0 || cs.readOff {
		// Paused, or closing: input waits in the kernel. gnet polls for input again after
		// each write it could not finish, so a little arrives meanwhile; a client that keeps
		// pushing while its session is paused is cut once that passes two messages' worth.
		if int64(c.InboundBuffered()) > 2*cs.srv.opts.MaxHTTPBufferSize+64<<10 {
			l.stats.StalledClosed.Add(1)
			return gnet.Close
		}
		l.stopReading(c, cs)
	}
	if cs.draining {
		return gnet.None // the failure's close frame is out; drain ends the connection
	}
	out, flushed, closeConn := s.wsEndTurn()
	if out != nil {
		_, _ = c.Write(out.B)
		bytebufferpool.Put(out)
		s.written(c.OutboundBuffered())
	}
	if flushed != nil {
		close(flushed)
	}
	if closeConn && action == gnet.None {
		_, _ = c.Write(closeNoStatus)
		action = gnet.Close
	}
	return action
}

// closeNoStatus is the close frame the reference's `ws` server sends when it closes a
// session (ping timeout, forced close): no status code, which clients report as 1005.
var closeNoStatus = wsframe.AppendFrame(nil, ws.OpClose, nil)

// probeTraffic serves the WebSocket that probes a polling session's upgrade.
func (l *Listener) probeTraffic(c gnet.Conn, cs *connState, s *Session) gnet.Action {
	if !s.isProbe(c) {
		cs.sess = nil // upgrade aborted (timeout) or session gone: close the probe
		_, _ = c.Write(closeNoStatus)
		return gnet.Close
	}
	return l.readFrames(c, cs, s)
}

// readFrames parses the complete frames in c's buffer in place and handles them. Messages
// are delivered before their bytes are discarded, so handlers see them without a copy. It
// stops early when the session pauses or the client stops reading what it is answered.
func (l *Listener) readFrames(c gnet.Conn, cs *connState, s *Session) gnet.Action {
	buf, _ := c.Peek(-1)
	max := cs.srv.opts.MaxHTTPBufferSize
	off := 0
	action := gnet.None
loop:
	for off < len(buf) {
		h, hn, err := wsframe.ParseHeader(buf[off:], max)
		if errors.Is(err, wsframe.ErrNeedMore) {
			break
		}
		if err != nil {
			action = l.wsFail(c, cs, err)
			break
		}
		end := off + hn + int(h.Length)
		if end > len(buf) {
			break // wait for the rest of the payload; gnet keeps it in the connection's buffer
		}
		payload := buf[off+hn : end]
		wsframe.Unmask(payload, h.Mask)
		off = end
		switch h.OpCode {
		case ws.OpPing:
			_, _ = c.Write(wsframe.AppendFrame(make([]byte, 0, 2+len(payload)), ws.OpPong, payload))
			if stop, a := l.overLimit(c, cs); stop {
				action = a
				break loop
			}
			continue
		case ws.OpPong:
			continue
		case ws.OpClose:
			code, err := wsframe.ParseClosePayload(payload)
			if err != nil {
				action = l.wsFail(c, cs, err)
				break loop
			}
			if code == ws.StatusNoStatusRcvd {
				_, _ = c.Write(closeNoStatus)
			} else {
				_, _ = c.Write(wsframe.AppendClose(nil, code, ""))
			}
			action = gnet.Close
			break loop
		}
		op, final, err := cs.asm.Frame(h)
		if err != nil {
			action = l.wsFail(c, cs, err)
			break
		}
		msg := payload
		if !final || cs.frag != nil {
			if cs.frag == nil {
				cs.frag = bytebufferpool.Get()
			}
			if int64(len(cs.frag.B)+len(payload)) > max {
				action = l.wsFail(c, cs, wsframe.ErrTooBig)
				break
			}
			cs.frag.B = append(cs.frag.B, payload...)
			if !final {
				continue
			}
			msg = cs.frag.B
		}
		var p eio.Packet
		if op == ws.OpText {
			if !wsframe.ValidText(msg) {
				action = l.wsFail(c, cs, wsframe.ErrInvalidUTF8)
				break
			}
			p, err = eio.ParsePacket(msg)
		} else {
			p = eio.BinaryPacket(msg)
		}
		keep := true
		switch {
		case err != nil:
			// An undecodable Engine.IO packet ends the session, as in the reference.
			s.terminate(ReasonParseError)
			keep = false
		case cs.probe:
			keep = l.onProbePacket(c, cs, s, p)
		default:
			keep = s.onPacket(p)
		}
		if cs.frag != nil {
			bytebufferpool.Put(cs.frag)
			cs.frag = nil
		}
		if !keep {
			if action == gnet.None && cs.probe {
				action = gnet.Close
			}
			break
		}
		if !cs.probe && s.Paused() {
			break // the rest waits for Resume, which wakes this loop
		}
	}
	if off > 0 && !cs.draining {
		_, _ = c.Discard(off) // never Discard(0): gnet reads n <= 0 as "everything"
	}
	return action
}

// wsFail answers a protocol fault with the close code that err carries (1002 by default;
// 1009 for a message over maxHttpBufferSize), then drains the connection until the client
// closes it, so the close frame is read before the connection goes.
func (l *Listener) wsFail(c gnet.Conn, cs *connState, err error) gnet.Action {
	code, ok := wsframe.CloseCode(err)
	if !ok {
		code = ws.StatusProtocolError
	}
	_, _ = c.Write(wsframe.AppendClose(nil, code, ""))
	return l.drain(c, cs, ReasonTransportError)
}

// onProbePacket runs the session's probe transition and writes what it answers.
func (l *Listener) onProbePacket(c gnet.Conn, cs *connState, s *Session, p eio.Packet) bool {
	out := bytebufferpool.Get()
	defer bytebufferpool.Put(out)
	var keep, upgraded bool
	out.B, keep, upgraded = s.probePacket(c, p, out.B)
	if len(out.B) > 0 {
		_, _ = c.Write(out.B)
	}
	if upgraded {
		cs.probe = false
		s.written(c.OutboundBuffered())
		if u := s.srv.upgrades; u != nil {
			u.OnUpgrade(s)
		}
	}
	return keep
}
