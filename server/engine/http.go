package engine

import (
	"bytes"
	"errors"
	"strconv"
	"sync"
	"time"

	"github.com/panjf2000/gnet/v2"
	"github.com/valyala/bytebufferpool"

	"github.com/riptide-io/riptide/codec/eio"
	"github.com/riptide-io/riptide/server/http1"
)

// reqPool holds request scratch: an http1.Request is a few KiB (its header array), so it is
// per request in flight, never per connection.
var reqPool = sync.Pool{New: func() any { return new(http1.Request) }}

// httpTraffic serves the HTTP/1.1 requests buffered on c, in order (pipelining), until one
// parks (a long-poll GET with nothing to send), upgrades to WebSocket, waits for more bytes,
// or the client stops reading its answers.
func (l *Listener) httpTraffic(c gnet.Conn, cs *connState) gnet.Action {
	if cs.sess != nil {
		done, action := l.resumeParked(c, cs)
		if !done {
			l.stopReading(c, cs) // what the client pipelines meanwhile waits in the kernel
			return gnet.None
		}
		if action != gnet.None {
			return action
		}
	}
	l.startReading(c, cs)
	if cs.timer == nil {
		cs.timer = newConnTimer(c)
	}
	req := reqPool.Get().(*http1.Request)
	defer reqPool.Put(req)
	for {
		buf, _ := c.Peek(-1)
		if len(buf) == 0 {
			l.arm(c, cs, timerIdle, l.cfg.IdleTimeout)
			return gnet.None
		}
		req.Reset()
		n, err := http1.Parse(buf, req, l.cfg.MaxHeaderBytes)
		if errors.Is(err, http1.ErrIncomplete) {
			l.armHead(c, cs)
			return gnet.None
		}
		if err != nil {
			status := http1.StatusFor(err)
			writeSimple(c, status, "text/plain; charset=utf-8", []byte(http1.StatusText(status)), false, nil)
			return l.drain(c, cs, ReasonTransportError)
		}
		next, action := l.serveRequest(c, cs, req, buf, n)
		switch next {
		case reqWait:
			l.arm(c, cs, timerBody, l.cfg.BodyTimeout)
			return action
		case reqParked:
			l.disarm(cs, true)
			l.stopReading(c, cs)
			return action
		case reqUpgraded:
			return action
		}
		if action != gnet.None || cs.draining {
			return action
		}
		if stop, action := l.overLimit(c, cs); stop {
			return action
		}
	}
}

// armHead starts the header timeout when a request's first bytes arrived on a connection
// that was idle between requests (a fresh connection's deadline runs from its start).
func (l *Listener) armHead(c gnet.Conn, cs *connState) {
	if cs.timer == nil || cs.timer.kind != timerHead {
		l.arm(c, cs, timerHead, l.cfg.HeaderTimeout)
	}
}

// resumeParked answers the parked GET or held POST on c if its session is ready. done is
// false while it must stay parked.
func (l *Listener) resumeParked(c gnet.Conn, cs *connState) (done bool, action gnet.Action) {
	s := cs.sess
	if cs.held {
		if !s.postResume(c) {
			return false, gnet.None
		}
		cs.held, cs.sess = false, nil
		writePostOK(c, cs.keepAlive, cs.timer.cors)
	} else {
		body := bytebufferpool.Get()
		defer bytebufferpool.Put(body)
		var act pollAction
		body.B, act = s.pollRelease(c, body.B)
		switch act {
		case pollPark:
			return false, gnet.None
		case pollAnswer:
			writePollResponse(c, body.B, cs.keepAlive, cs.timer.cors)
		}
		cs.sess = nil
	}
	cs.timer.cors = cs.timer.cors[:0]
	if !cs.keepAlive {
		return true, gnet.Close
	}
	return true, gnet.None
}

type reqOutcome uint8

const (
	reqDone     reqOutcome = iota // answered and discarded; serve the next pipelined request
	reqWait                       // the body is not all here yet (nothing discarded)
	reqParked                     // a long-poll GET is parked on c
	reqUpgraded                   // c now speaks WebSocket
)

// reqBody is a request's body as far as it has arrived.
type reqBody struct {
	data     []byte // the whole body (decoded in place when chunked); valid until Discard
	size     int64  // its length, or its declared length while it is incomplete
	total    int    // head and body bytes to discard once answered
	complete bool
}

// serveRequest answers one parsed request head at the start of buf (head length n).
func (l *Listener) serveRequest(c gnet.Conn, cs *connState, req *http1.Request, buf []byte, n int) (reqOutcome, gnet.Action) {
	srv := l.match(req.Target)
	limit := int64(maxOtherBody)
	if srv != nil {
		limit = srv.opts.MaxHTTPBufferSize
	}
	b, err := l.body(c, cs, req, buf, n, limit)
	if err != nil {
		// Malformed chunked framing; a body over the limit is answered by the handlers.
		status := http1.StatusFor(err)
		writeSimple(c, status, "text/plain; charset=utf-8", []byte(http1.StatusText(status)), false, nil)
		return reqDone, l.drain(c, cs, ReasonTransportError)
	}
	if req.ExpectContinue && !b.complete && len(buf) == n && !cs.timer.continued {
		// curl sends "Expect: 100-continue" before a body over 1 KiB and waits a second
		// for this; Node's http server answers it by itself.
		_, _ = c.Write(continueLine)
		cs.timer.continued = true
	}
	if srv == nil {
		return l.serveOther(c, cs, req, b)
	}
	return srv.serve(l, c, cs, req, buf, n, b)
}

var continueLine = []byte("HTTP/1.1 100 Continue\r\n\r\n")

// maxOtherBody bounds the bodies of requests for the HTTP hook.
const maxOtherBody = 1 << 20

// body finds the request's body after its head: by Content-Length, or by scanning its
// chunked framing (resumed across calls in the connection's scan state, so a body that
// drips in is scanned once). A chunked body over limit comes back incomplete with a size
// over limit, as a Content-Length over it does.
func (l *Listener) body(c gnet.Conn, cs *connState, req *http1.Request, buf []byte, n int, limit int64) (reqBody, error) {
	if !req.Chunked {
		cl := int(max(req.ContentLength, 0))
		b := reqBody{size: int64(cl), total: n + cl, complete: len(buf) >= n+cl}
		if b.complete {
			b.data = buf[n : n+cl]
			cs.timer.continued = false
		}
		return b, nil
	}
	st := cs.chunkState(c)
	done, m, err := st.Scan(buf[n:], limit)
	if errors.Is(err, http1.ErrBodyTooLarge) {
		cs.endChunked()
		return reqBody{size: limit + 1, total: len(buf)}, nil
	}
	if err != nil || !done {
		if err != nil {
			cs.endChunked()
		}
		return reqBody{}, err
	}
	cs.endChunked()
	cs.timer.continued = false
	data := http1.DecodeChunkedInPlace(buf[n : n+m])
	return reqBody{data: data, size: int64(len(data)), total: n + m, complete: true}, nil
}

func (l *Listener) match(target []byte) *Server {
	for _, s := range l.servers {
		if bytes.HasPrefix(target, []byte(s.opts.Path)) {
			return s
		}
	}
	return nil
}

// serveOther answers a non-Engine.IO request through the HTTP hook.
func (l *Listener) serveOther(c gnet.Conn, cs *connState, req *http1.Request, b reqBody) (reqOutcome, gnet.Action) {
	if b.size > maxOtherBody {
		writeSimple(c, 413, "text/plain; charset=utf-8", []byte(http1.StatusText(413)), false, nil)
		return reqDone, l.drain(c, cs, ReasonTransportError)
	}
	if !b.complete {
		return reqWait, gnet.None
	}
	resp := HTTPResponse{Status: 404, Body: []byte("Not Found")}
	if l.cfg.HTTP != nil {
		resp = l.cfg.HTTP(req, b.data)
	}
	if resp.Status == 0 {
		resp.Status = 200
	}
	if resp.ContentType == "" {
		resp.ContentType = "text/plain; charset=utf-8"
	}
	var extra []byte
	for _, h := range resp.Header {
		extra = appendHeaderLine(extra, h[0], h[1])
	}
	body := resp.Body
	if bytes.Equal(req.Method, []byte("HEAD")) {
		body = nil
	}
	writeSimple(c, resp.Status, resp.ContentType, body, req.KeepAlive, extra)
	return l.finish(c, req, b.total)
}

// serve answers one request for this Engine.IO server, following engine.io's
// handleRequest/handleUpgrade and verify.
func (srv *Server) serve(l *Listener, c gnet.Conn, cs *connState, req *http1.Request, buf []byte, n int, b reqBody) (reqOutcome, gnet.Action) {
	opts := &srv.opts
	scratch := bytebufferpool.Get()
	defer bytebufferpool.Put(scratch)
	origin := req.HeaderValue("Origin")
	if opts.CORS != nil {
		if bytes.Equal(req.Method, []byte("OPTIONS")) && !req.Upgrade {
			if !b.complete {
				return reqWait, gnet.None
			}
			scratch.B = opts.CORS.appendPreflight(scratch.B[:0], origin, req.HeaderValue("Access-Control-Request-Headers"))
			writeSimple(c, 204, "", nil, req.KeepAlive, scratch.B)
			return l.finish(c, req, b.total)
		}
		scratch.B = opts.CORS.appendCORS(scratch.B[:0], origin)
	}
	cors := scratch.B

	// verify, in the reference's order.
	transport, _ := req.QueryValue("transport")
	sid, hasSID := req.QueryValue("sid")
	hasSID = hasSID && len(sid) > 0
	var sess *Session
	code := ErrorCode(-1)
	msg := ""
	switch {
	case !opts.allows(Transport(transport)):
		code = CodeUnknownTransport
	case !validOrigin(origin):
		code = CodeBadRequest
	case hasSID:
		sess = srv.Session(string(sid))
		if sess != nil && sess.expired(time.Now()) {
			sess = nil
		}
		switch {
		case sess == nil:
			code = CodeUnknownSID
		case !req.Upgrade && sess.Transport() != Transport(transport):
			code = CodeBadRequest
		}
	default:
		switch {
		case !bytes.Equal(req.Method, []byte("GET")):
			code = CodeBadHandshakeMethod
		case Transport(transport) == WebSocket && !req.Upgrade:
			code = CodeBadRequest
		default:
			if v, _ := req.QueryValue("EIO"); string(v) != "4" {
				code = CodeUnsupportedProtocolVersion
			}
		}
	}
	if code < 0 && !hasSID {
		if status, limit := srv.admit(c, req); status != 0 {
			srv.stats.refused(limit)
			l.log.Info("handshake refused", "code", limit, "status", status, "addr", srv.opts.clientAddr(c.RemoteAddr().String(), req), "transport", string(transport))
			writeRefusal(c, status, limit, cors)
			if !b.complete || req.Upgrade {
				return reqDone, l.drain(c, cs, ReasonTransportError)
			}
			_, _ = c.Discard(b.total)
			return reqDone, gnet.Close
		}
	}
	if code < 0 && !hasSID && opts.AllowRequest != nil {
		hs := newRequest(buf[:n], c.RemoteAddr().String(), time.Now())
		if err := opts.AllowRequest(hs); err != nil {
			code, msg = CodeForbidden, err.Error()
		}
	}
	if code >= 0 {
		if msg == "" {
			msg = code.Message()
		}
		if req.Upgrade {
			writeAbortUpgrade(c, msg)
			return reqDone, gnet.Close
		}
		body := appendErrorJSON(nil, code, msg)
		writeSimple(c, code.Status(), "application/json", body, req.KeepAlive && b.complete, cors)
		if !b.complete {
			return reqDone, l.drain(c, cs, ReasonTransportError)
		}
		return l.finish(c, req, b.total)
	}

	if req.Upgrade {
		if Transport(transport) != WebSocket {
			writeAbortUpgrade(c, CodeBadRequest.Message())
			return reqDone, gnet.Close
		}
		return l.upgradeWebSocket(c, cs, srv, sess, req, buf, n)
	}
	switch {
	case sess == nil:
		return l.pollHandshake(c, srv, req, buf, n, cors)
	case bytes.Equal(req.Method, []byte("GET")):
		return l.pollGet(c, cs, sess, req, n, cors)
	case bytes.Equal(req.Method, []byte("POST")):
		if b.size > opts.MaxHTTPBufferSize {
			// Checked from the length header, before buffering the body. The reference
			// answers 413 and keeps the session; the body is never read, so this
			// connection drains and closes.
			writeSimple(c, 413, "", nil, false, cors)
			return reqDone, l.drain(c, cs, ReasonTransportError)
		}
		if !b.complete {
			return reqWait, gnet.None
		}
		return l.pollPost(c, cs, sess, req, b.data, b.total, cors)
	default:
		if !b.complete {
			return reqWait, gnet.None
		}
		writeSimple(c, 500, "", nil, req.KeepAlive, cors)
		return l.finish(c, req, b.total)
	}
}

// finish discards an answered request and says whether the connection stays open.
func (l *Listener) finish(c gnet.Conn, req *http1.Request, total int) (reqOutcome, gnet.Action) {
	_, _ = c.Discard(total)
	if !req.KeepAlive {
		return reqDone, gnet.Close
	}
	return reqDone, gnet.None
}

// validOrigin mirrors engine.io's checkInvalidHeaderChar on the Origin header.
func validOrigin(o []byte) bool {
	for _, b := range o {
		if (b < 0x20 && b != '\t') || b == 0x7f {
			return false
		}
	}
	return true
}

// pollHandshake opens a session over polling: the GET is answered with the open packet.
func (l *Listener) pollHandshake(c gnet.Conn, srv *Server, req *http1.Request, buf []byte, n int, cors []byte) (reqOutcome, gnet.Action) {
	s := newSession(srv, newRequest(buf[:n], c.RemoteAddr().String(), time.Now()), Polling)
	body := bytebufferpool.Get()
	body.B = srv.appendOpen(body.B, s.id, srv.upgradesPolling)
	extra := append([]byte(nil), cors...)
	extra = appendHeaderLine(extra, "Cache-Control", "no-store")
	if srv.opts.Cookie != nil {
		extra = srv.opts.Cookie.appendSetCookie(extra, s.id)
	}
	srv.open(s) // before the client can learn the sid
	writeSimple(c, 200, "text/plain; charset=UTF-8", body.B, req.KeepAlive, extra)
	bytebufferpool.Put(body)
	return l.finish(c, req, n)
}

func (srv *Server) appendOpen(dst []byte, sid string, upgrades bool) []byte {
	h := eio.Handshake{
		SID:          sid,
		PingInterval: srv.opts.PingInterval.Milliseconds(),
		PingTimeout:  srv.opts.PingTimeout.Milliseconds(),
		MaxPayload:   srv.opts.MaxHTTPBufferSize,
	}
	if upgrades {
		h.Upgrades = upgradesWebSocket
	}
	return eio.AppendOpen(dst, h)
}

var upgradesWebSocket = []string{"websocket"}

// open registers a new session, arms its first ping and tells the handler.
func (srv *Server) open(s *Session) {
	srv.stats.opened(s.transport)
	srv.add(s)
	s.mu.Lock()
	s.phase = phasePing
	at, due := srv.nextPing(time.Now())
	s.pingDue = due.UnixNano()
	srv.wheel.Schedule(&s.hb, at)
	s.mu.Unlock()
	srv.handler.OnOpen(s)
}

// pollGet serves a long-poll GET: answered at once when packets wait, parked otherwise.
func (l *Listener) pollGet(c gnet.Conn, cs *connState, s *Session, req *http1.Request, n int, cors []byte) (reqOutcome, gnet.Action) {
	_, _ = c.Discard(n)
	body := bytebufferpool.Get()
	defer bytebufferpool.Put(body)
	var act pollAction
	body.B, act = s.pollGet(c, body.B)
	switch act {
	case pollPark:
		cs.sess = s
		cs.keepAlive = req.KeepAlive
		cs.timer.cors = append(cs.timer.cors[:0], cors...)
		return reqParked, gnet.None
	case pollOverlap:
		writeSimple(c, 400, "", nil, req.KeepAlive, cors)
	case pollWrongTransport:
		body := appendErrorJSON(nil, CodeBadRequest, CodeBadRequest.Message())
		writeSimple(c, 400, "application/json", body, req.KeepAlive, cors)
	default:
		writePollResponse(c, body.B, req.KeepAlive, cors)
	}
	return l.keep(req)
}

func (l *Listener) keep(req *http1.Request) (reqOutcome, gnet.Action) {
	if !req.KeepAlive {
		return reqDone, gnet.Close
	}
	return reqDone, gnet.None
}

// pollPost handles a POST carrying one or more packets.
func (l *Listener) pollPost(c gnet.Conn, cs *connState, s *Session, req *http1.Request, body []byte, total int, cors []byte) (reqOutcome, gnet.Action) {
	if bytes.Equal(req.HeaderValue("Content-Type"), []byte("application/octet-stream")) {
		// v4 clients never send binary bodies; the reference treats it as a transport error.
		writeSimple(c, 400, "", nil, req.KeepAlive, cors)
		s.terminate(ReasonTransportError)
		return l.finish(c, req, total)
	}
	// Decode the whole payload first: a bad packet closes the session and none of the
	// packets is delivered, so a client never sees half a payload applied. Decoding is in
	// place, and each packet's bytes stay where they are, so the packets stay valid.
	var arr [16]eio.Packet
	pkts := arr[:0]
	rest := body
	bad := len(body) == 0 // the reference reads an empty body as one empty packet: a parse error
	for len(rest) > 0 && !bad {
		pkt, r, _ := eio.NextPacket(rest)
		rest = r
		p, err := eio.ParsePollingPacket(pkt)
		if err != nil {
			bad = true
			break
		}
		pkts = append(pkts, p)
	}
	if bad {
		writeSimple(c, 400, "", nil, req.KeepAlive, cors)
		s.terminate(ReasonParseError)
		return l.finish(c, req, total)
	}
	if s.pollPost(c, pkts) {
		// The handler paused the session: the answer waits for Resume (resumeParked).
		cs.sess, cs.held = s, true
		cs.keepAlive = req.KeepAlive
		cs.timer.cors = append(cs.timer.cors[:0], cors...)
		_, _ = c.Discard(total)
		return reqParked, gnet.None
	}
	writePostOK(c, req.KeepAlive, cors)
	return l.finish(c, req, total)
}

func writePostOK(c gnet.Conn, keepAlive bool, cors []byte) {
	h := bytebufferpool.Get()
	h.B = append(h.B, cors...)
	h.B = append(h.B, "Cache-Control: no-store\r\n"...)
	writeSimple(c, 200, "text/html", okBody, keepAlive, h.B)
	bytebufferpool.Put(h)
}

var okBody = []byte("ok")

func writePollResponse(c gnet.Conn, body []byte, keepAlive bool, cors []byte) {
	h := bytebufferpool.Get()
	h.B = append(h.B, cors...)
	h.B = append(h.B, "Cache-Control: no-store\r\n"...)
	writeSimple(c, 200, "text/plain; charset=UTF-8", body, keepAlive, h.B)
	bytebufferpool.Put(h)
}

// writeSimple writes a whole response with one write. extra holds preformatted header lines.
// Must run on c's event loop.
func writeSimple(c gnet.Conn, status int, contentType string, body []byte, keepAlive bool, extra []byte) {
	b := bytebufferpool.Get()
	b.B = http1.AppendStatusLine(b.B, status)
	if contentType != "" {
		b.B = appendHeaderLine(b.B, "Content-Type", contentType)
	}
	b.B = append(b.B, "Content-Length: "...)
	b.B = strconv.AppendInt(b.B, int64(len(body)), 10)
	b.B = append(b.B, "\r\n"...)
	b.B = append(b.B, extra...)
	if !keepAlive {
		b.B = append(b.B, "Connection: close\r\n"...)
	}
	b.B = append(b.B, "\r\n"...)
	b.B = append(b.B, body...)
	_, _ = c.Write(b.B)
	bytebufferpool.Put(b)
}

// writeAbortUpgrade answers a refused WebSocket upgrade exactly as engine.io's abortUpgrade.
func writeAbortUpgrade(c gnet.Conn, msg string) {
	b := bytebufferpool.Get()
	b.B = append(b.B, "HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-type: text/html\r\nContent-Length: "...)
	b.B = strconv.AppendInt(b.B, int64(len(msg)), 10)
	b.B = append(b.B, "\r\n\r\n"...)
	b.B = append(b.B, msg...)
	_, _ = c.Write(b.B)
	bytebufferpool.Put(b)
}
