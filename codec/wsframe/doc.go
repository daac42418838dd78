// Package wsframe parses and writes RFC 6455 WebSocket frames over bytes the
// server already holds, with no I/O and no allocations.
//
// The server peeks gnet's inbound buffer and loops:
//
//	h, n, err := wsframe.ParseHeader(buf, maxPayload) // header only, 6..14 bytes
//	// err == ErrNeedMore: wait for the next OnTraffic; consume nothing.
//	// err is a ProtocolError: send AppendClose(dst, pe.Code, pe.Reason) and close.
//	// len(buf)-n < h.Length: wait for the payload (the limit was already checked).
//	p := buf[n : n+int(h.Length)]
//	wsframe.Unmask(p, h.Mask) // in place; then Discard(n+len(p)), never re-parse p
//	op, fin, err := conn.asm.Frame(h) // fragmentation state, 3 bytes per connection
//
// ParseHeader checks everything a header alone can prove wrong (mask, RSV bits,
// opcode, control frame rules, length) as soon as the bytes that prove it arrive,
// so a too-big frame is refused from its first 2-10 bytes, before any payload is
// buffered (PROTOCOL-NOTES 10: 1009 from the length header). Payload checks that
// need the bytes - close codes (ParseClosePayload) and UTF-8 of whole text
// messages (ValidText) - are separate because fragment payloads are gathered by
// the server in its own pooled buffer; the Assembler only tracks the opcode.
//
// Server frames are never masked, so AppendHeader/AppendFrame/PutHeader output
// can be encoded once and written to many connections. gobwas/ws provides the
// types (ws.Header, ws.OpCode, ws.StatusCode) and the XOR kernel (ws.Cipher); its
// io.Reader based helpers block on partial frames and are not used here.
package wsframe
