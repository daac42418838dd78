// Package rooms keeps room membership for one namespace and delivers broadcasts: the
// Adapter interface the Socket.IO layer talks to, and the in-memory adapter every node
// starts with.
//
// The model is Node's socket.io-adapter: a socket (a Member, implemented by the server
// package) joins rooms; a broadcast names rooms to include (none: everyone) and rooms to
// exclude, and the adapter hands one Packet to each matching member exactly once. The packet
// is the same value for every member, so the transport layer encodes it once (see
// Packet.SetEncoded) and writes the same bytes to every recipient.
//
// With connection state recovery on, the adapter also stores broadcast packets with an
// offset (appended as a last argument, as the Node reference does) and the sessions of
// sockets that dropped, so a reconnecting client gets the packets it missed.
//
// Imports point down: the server package implements Member; rooms knows nothing of it.
package rooms
