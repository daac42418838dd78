// Package server is riptide's Socket.IO v5 server: namespaces, connection middlewares,
// events with acknowledgements, binary attachments, rooms, broadcasts and connection state
// recovery, on top of the Engine.IO layer in server/engine. It behaves on the wire as the
// Node.js socket.io 4.8 server does, so unchanged socket.io-client v4 code connects to it.
//
// The model, for someone who knows the Node server:
//
//	io := server.New(server.Options{})           // new Server(options)
//	io.Use(func(s *server.Socket) error {...})   // io.use((socket, next) => ...)
//	io.OnConnection(func(s *server.Socket) {...}) // io.on("connection", ...)
//	io.On("chat", func(s *server.Socket, ev *server.Event) {...}) // socket.on("chat", ...) for every socket, registered once
//	s.Emit("hi", 1, "two", []byte{3})            // socket.emit; []byte is a binary attachment
//	ev.Ack(...)                                   // the client's callback
//	s.Timeout(d).EmitWithAck(ctx, "q")           // socket.timeout(d).emitWithAck("q")
//	io.To("room").Except("other").Emit(...)      // io.to().except().emit()
//	s.Broadcast().Emit(...)                      // socket.broadcast.emit()
//	io.Of("/admin"), io.OfFunc(match)            // static and dynamic namespaces
//
// Threading: middlewares, connection listeners and event handlers run on worker goroutines,
// one socket at a time and in arrival order, so they may block (a database call) without
// delaying other sockets; an idle socket has no goroutine. Emit and the other methods are
// safe from any goroutine and never block on the network. Acks are resolved as they arrive,
// so a handler may wait for an ack from its own client. Both sides are bounded: a connection
// with Options.MaxPendingEvents events waiting for handlers is not read until half of them
// ran (TCP pushes back on the client), and at most Options.MaxHandlerWorkers goroutines run
// handlers; sockets with work beyond that wait in order for a free one.
//
// Arguments stay raw: Event.Args keeps the JSON exactly as the client sent it (numbers, key
// order, unicode) plus the attachments, until a handler decodes them (Decode, Bind, String,
// Bytes, Values). Passing an Args value to Emit or Ack sends it unchanged.
package server
