package server

import "github.com/riptide-io/riptide/server/engine"

// DisconnectReason says why a socket disconnected. Its values are the reference's strings
// (socket.io 4.8), so a handler written as reason == "ping timeout" compiles and means the
// same as in Node; compare with the constants.
type DisconnectReason string

// Disconnect reasons, as the reference names them.
const (
	// The client closed the connection, or the transport closed under it.
	ReasonTransportClose DisconnectReason = "transport close"
	// The connection broke (a dropped long-poll, a protocol violation, a slow consumer).
	ReasonTransportError DisconnectReason = "transport error"
	// No pong within pingTimeout.
	ReasonPingTimeout DisconnectReason = "ping timeout"
	// The client sent an undecodable Engine.IO packet.
	ReasonParseError DisconnectReason = "parse error"
	// The connection was closed by this server (Conn().Close(), or a Socket.IO protocol error).
	ReasonForcedClose DisconnectReason = "forced close"
	// Socket.Disconnect(false): the server sent DISCONNECT for the namespace.
	ReasonServerDisconnect DisconnectReason = "server namespace disconnect"
	// The client sent DISCONNECT for the namespace (socket.disconnect() on the client).
	ReasonClientDisconnect DisconnectReason = "client namespace disconnect"
	// Server.Close, or the listener serving the server closed.
	ReasonServerShutdown DisconnectReason = "server shutting down"
	// Socket.Disconnect(true): a socket of the connection that had no DISCONNECT of its own.
	ReasonForcedServerClose DisconnectReason = "forced server close"
)

// reasonOf maps an Engine.IO close reason to the Socket.IO reason sockets report: the one
// place the two vocabularies meet. The engine's "server shutdown" is Socket.IO's "server
// shutting down" (io.close() in the reference).
func reasonOf(r engine.CloseReason) DisconnectReason {
	switch r {
	case engine.ReasonTransportClose:
		return ReasonTransportClose
	case engine.ReasonPingTimeout:
		return ReasonPingTimeout
	case engine.ReasonParseError:
		return ReasonParseError
	case engine.ReasonForcedClose:
		return ReasonForcedClose
	case engine.ReasonServerShutdown:
		return ReasonServerShutdown
	default: // ReasonTransportError, and whatever the engine adds later: the connection broke
		return ReasonTransportError
	}
}

// recoverable reports whether connection state recovery keeps the socket's session: the
// transport-level losses (the reference's RECOVERABLE_DISCONNECT_REASONS).
func (r DisconnectReason) recoverable() bool {
	switch r {
	case ReasonTransportError, ReasonTransportClose, ReasonForcedClose, ReasonPingTimeout,
		ReasonServerShutdown, ReasonForcedServerClose:
		return true
	}
	return false
}
