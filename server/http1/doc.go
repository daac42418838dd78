// Package http1 parses HTTP/1.1 request heads in place and appends responses
// into caller buffers, for a gnet reactor serving Engine.IO: polling GET/POST,
// CORS preflight OPTIONS, the WebSocket upgrade GET and small requests such as
// /healthz. Nothing blocks, copies or allocates.
//
// The reactor peeks everything buffered and parses one head per iteration:
//
//	buf, _ := c.Peek(-1)
//	n, err := http1.Parse(buf, &loop.req, maxHead) // loop.req: one Request per event loop
//	// err == ErrIncomplete: consume nothing, wait for the next OnTraffic.
//	// other err: write AppendErrorResponse(dst, StatusFor(err)) and close.
//	// ok: buf[:n] is the head, buf[n:] the body (ContentLength bytes) and then
//	// any pipelined request. Copy out what must outlive the bytes (sid, Origin),
//	// then Discard(n + body).
//
// Parse is stateless: on an incomplete head it is called again with the longer
// buffer and parses from the start, in one pass, line by line, checking eight
// bytes at a time in targets and values (scan.go). Every byte that has arrived
// is validated, so garbage is refused from its first line; a connection that
// drips its head can keep FindHeadEnd's scanned offset instead (gnet#748).
//
// A chunked body (Request.Chunked) is checked incrementally by a
// ChunkedState kept while the body is incomplete, then decoded in place:
//
//	done, m, err := st.Scan(buf[n:], maxBody) // resumes where it stopped
//	// !done: wait; err: answer StatusFor(err) (400 or 413) and close.
//	body := http1.DecodeChunkedInPlace(buf[n : n+m]) // then Discard(n + m)
//
// Supported: HTTP/1.0 and 1.1, origin/absolute/asterisk(/CONNECT authority)
// targets, Content-Length and chunked bodies (trailers checked and dropped),
// keep-alive and pipelining, Connection token lists, Upgrade: websocket,
// Expect: 100-continue, empty lines before the request line. Rejected,
// matching Node's llhttp where it is strict and RFC 9112 where Node is lax:
// bare LF, obs-fold, space before colon, control bytes, non-ASCII targets,
// repeated Content-Length (even equal), Content-Length with
// Transfer-Encoding, a final coding other than chunked, chunked twice,
// Transfer-Encoding in HTTP/1.0, codings before chunked (501), whitespace or
// empty names in chunk extensions, HTTP/0.9 and HTTP/2.0 request lines, a
// missing or repeated Host.
// Any token is accepted as a method: Node answers 400 to methods llhttp does
// not know (and to "get"), so the router decides. A Request is ~3.3 KB (the
// header array): keep one per event loop, never one per connection.
package http1
