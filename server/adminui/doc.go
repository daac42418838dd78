// Package adminui serves the server side of the Socket.IO Admin UI protocol, so the unchanged
// UI of the npm package @socket.io/admin-ui (0.5.x; hosted at https://admin.socket.io) can
// watch a riptide node or a whole cluster. It is what instrument(io, {...}) does for a Node
// server:
//
//	ui, err := adminui.Install(io, adminui.Config{Username: "admin", PasswordHash: bcryptHash})
//	defer ui.Close()
//
// The UI connects to the namespace "/admin" with auth {username, password} (checked against
// a bcrypt hash, as the Node package does) or, later, with the {sessionId} it was given. It
// then receives "config" (the actions it may offer), "all_sockets", a "server_stats" from
// every node each StatsInterval, and a feed of sockets connecting, upgrading, joining and
// leaving rooms and disconnecting (and, with Config.Events, every event received and sent).
// Unless ReadOnly, it may disconnect sockets, make them join or leave rooms, and emit to
// them ("_disconnect", "join", "leave", "emit"), by namespace and room, cluster-wide.
//
// Cost: nothing while no UI watches. The server's Observer (server.Server.Observe) is
// installed only while an admin socket is connected to some node of the cluster; a node
// learns that from a lease the watching nodes renew every StatsInterval. While watched, each
// connect, disconnect, join and leave is one broadcast to the admin namespace (a Redis
// publish in a cluster). The traffic figures are the engine's own counters (server/engine's
// Stats), read once per interval.
//
// Cluster: the admin namespace's broadcasts reach the UI on whichever node it is connected
// to, so the stats and the feed of every node arrive there, as with Node's adapters.
// "all_sockets" is this node's sockets plus each other node's answer to a server-side
// event (every node serializes its own sockets, with their transport and Engine.IO id).
package adminui
