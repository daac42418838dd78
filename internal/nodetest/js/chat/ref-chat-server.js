"use strict";
// The Node reference for riptide's examples/chat: an Express 4 + socket.io 4.8
// chat server with the everyday patterns of such an app (auth middleware,
// per-packet validation, broadcasts, rooms, acks, admin kick). The chat-*.js
// scenarios are proven against it before they judge the Go version.
//
// Flags:
//   --addr HOST:PORT   listen address (default 127.0.0.1:0; port 0 = a free port)
//
// stdout: one line {"port":N} once listening; nothing else.
// stderr: one JSON line per connection, refusal and disconnection.
//
// Behaviour (the contract the Go app matches):
//   GET /healthz                 200 "ok" (an Express route; res.send)
//   /socket.io/                  Socket.IO with default options, namespace "/":
//   connection middleware        auth.token is the user name; missing/empty ->
//                                connect_error "missing token"; "banned" ->
//                                connect_error "forbidden", data {reason:"banned"};
//                                admin iff the name starts with "admin"
//   on connection                emit "welcome" {id,user} to the socket;
//                                broadcast "user-connected" {id,user} to the others
//   socket.use                   "chat" needs a string of 1..200 chars as first
//                                argument, else the socket's "error" event fires
//                                and the client gets "error" {message}
//   chat (text, ack?)            io.emit "chat" {user,text}; ack {ok:true}
//   whisper (text)               broadcast "whisper" {user,text} (not the sender)
//   question (text)              "answer" text.toUpperCase() to the sender only
//   join (room, ack)             join; to(room) "user-joined" {room,user};
//                                ack {room, members}
//   leave (room, ack)            leave; to(room) "user-left" {room,user}; ack {room}
//   room-message ({room,text})   io.to(room) "room-message" {room,user,text}
//   admin:kick (id, ack)         non-admin: "error" {message:"forbidden"}, ack {ok:false};
//                                admin: io.in(id).disconnectSockets(true), ack {ok:true}
//   on disconnect                io.emit "user-disconnected" {id,user}

const http = require("http");
const express = require("express");
const { Server } = require("socket.io");

const args = { addr: "127.0.0.1:0" };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (!a.startsWith("--")) {
    process.stderr.write(`unexpected argument ${a}\n`);
    process.exit(2);
  }
  const eq = a.indexOf("=");
  if (eq > 0) args[a.slice(2, eq)] = a.slice(eq + 1);
  else if (i + 1 < argv.length && !argv[i + 1].startsWith("--")) args[a.slice(2)] = argv[++i];
  else args[a.slice(2)] = "";
}

function parseAddr(s) {
  const i = s.lastIndexOf(":");
  const port = Number(s.slice(i + 1));
  if (i < 0 || !Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(`--addr: want HOST:PORT, got ${JSON.stringify(s)}\n`);
    process.exit(2);
  }
  let host = s.slice(0, i);
  if (host.startsWith("[") && host.endsWith("]")) host = host.slice(1, -1);
  return { host: host || undefined, port };
}

const started = Date.now();
function event(obj) {
  obj.t = Date.now() - started;
  process.stderr.write(JSON.stringify(obj) + "\n");
}

const MAX_CHAT = 200;

const app = express();
app.get("/healthz", (req, res) => res.send("ok"));

const httpServer = http.createServer(app);
const io = new Server(httpServer);

io.use((socket, next) => {
  const token = socket.handshake.auth && socket.handshake.auth.token;
  if (!token) {
    event({ event: "refused", reason: "missing token" });
    return next(new Error("missing token"));
  }
  if (token === "banned") {
    event({ event: "refused", reason: "forbidden" });
    const err = new Error("forbidden");
    err.data = { reason: "banned" };
    return next(err);
  }
  socket.data.user = token;
  socket.data.admin = typeof token === "string" && token.startsWith("admin");
  next();
});

io.on("connection", (socket) => {
  const user = socket.data.user;
  event({ event: "connection", id: socket.id, user, transport: socket.conn.transport.name });

  socket.use(([name, ...rest], next) => {
    if (name === "chat") {
      const text = rest[0];
      if (typeof text !== "string" || text.length < 1 || text.length > MAX_CHAT) {
        return next(new Error("invalid message"));
      }
    }
    next();
  });

  socket.on("error", (err) => socket.emit("error", { message: err.message }));

  socket.emit("welcome", { id: socket.id, user });
  socket.broadcast.emit("user-connected", { id: socket.id, user });

  socket.on("chat", (text, ack) => {
    io.emit("chat", { user, text });
    if (typeof ack === "function") ack({ ok: true });
  });

  socket.on("whisper", (text) => {
    socket.broadcast.emit("whisper", { user, text });
  });

  socket.on("question", (text) => {
    socket.emit("answer", String(text).toUpperCase());
  });

  socket.on("join", async (room, ack) => {
    socket.join(room);
    socket.to(room).emit("user-joined", { room, user });
    const members = (await io.in(room).fetchSockets()).length;
    if (typeof ack === "function") ack({ room, members });
  });

  socket.on("leave", (room, ack) => {
    socket.leave(room);
    socket.to(room).emit("user-left", { room, user });
    if (typeof ack === "function") ack({ room });
  });

  socket.on("room-message", (msg) => {
    const { room, text } = msg || {};
    io.to(room).emit("room-message", { room, user, text });
  });

  socket.on("admin:kick", (targetId, ack) => {
    if (!socket.data.admin) {
      socket.emit("error", { message: "forbidden" });
      if (typeof ack === "function") ack({ ok: false });
      return;
    }
    io.in(targetId).disconnectSockets(true);
    if (typeof ack === "function") ack({ ok: true });
  });

  socket.on("disconnect", (reason) => {
    event({ event: "disconnect", id: socket.id, user, reason });
    io.emit("user-disconnected", { id: socket.id, user });
  });
});

const { host, port } = parseAddr(args.addr);
httpServer.listen(port, host, () => {
  process.stdout.write(JSON.stringify({ port: httpServer.address().port }) + "\n");
});

// NODETEST_WATCH_STDIN=1, so a killed test binary does not leave us running.
if (process.env.NODETEST_WATCH_STDIN === "1") {
  process.stdin.on("end", () => process.exit(0));
  process.stdin.on("error", () => process.exit(0));
  process.stdin.resume();
}
