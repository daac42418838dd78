// Package engine is riptide's Engine.IO v4 server: a gnet reactor that speaks HTTP/1.1
// long-polling and WebSocket, with sessions, heartbeats and transport upgrades, behaving on
// the wire as the Node.js engine.io 6.x server does.
//
// The model:
//
//   - A Server answers one path ("/engine.io/" by default; the Socket.IO layer uses
//     "/socket.io/") with its Options and one Handler. A Listener is the gnet reactor for one
//     address; several Servers (on different paths) may share it, and requests for other
//     paths go to its HTTPHandler (health checks, a demo page).
//   - A Session is one client. It starts on polling or WebSocket and may upgrade from polling to
//     WebSocket. Session.Send and Session.Close are safe from any goroutine and never block:
//     they encode into the session's pooled buffer and wake the event loop that owns the
//     connection, which writes everything queued in one write.
//   - Handler callbacks run on event loops (OnClose also on timer goroutines) and must not
//     block. Message data passed to OnMessage points into the loop's read buffer and is valid
//     only during the call.
//   - Heartbeats follow the reference: the server pings pingInterval after the handshake and
//     after each pong; no pong within pingTimeout ends the session with "ping timeout".
//     Deadlines live in server/internal/deadline, never in a timer per session.
//
// HTTP errors carry the reference's JSON bodies ({"code":N,"message":"..."}, see ErrorCode);
// WebSocket protocol faults close with the RFC 6455 code (1002, 1007, 1009). docs/protocol.md
// lists every code a client can see.
package engine
