// Peer server for riptide's bench tool: Node socket.io 4.8 with default
// options (pingInterval 25 s, pingTimeout 20 s, path /socket.io/, no
// perMessageDeflate, in-memory adapter), running the same default protocol
// as cmd/riptide:
//
//   "join"    (room, ack)         the socket joins room; ack()
//   "leave"   (room, ack)         the socket leaves room; ack()
//   "publish" (room, event, ...)  everyone in room except the sender gets event(...)
//   "ping"    (..., ack)          ack(...)
//
// Usage: node node-sio.js [--port N] [--host H]
// Prints {"port":N} on stdout once listening. Exits on SIGTERM/SIGINT.
"use strict";

const path = require("path");
const http = require("http");

// The Node modules live with the interop tests; resolve them from this
// script's location so no second package.json is needed.
const modules = path.resolve(__dirname, "../../internal/nodetest/js/node_modules");
const { Server } = require(path.join(modules, "socket.io"));

function arg(name, def) {
  const i = process.argv.indexOf(name);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : def;
}

const host = arg("--host", "127.0.0.1");
const port = Number(arg("--port", "0"));

const httpServer = http.createServer();
// serveClient off: it only adds the /socket.io/socket.io.js route, which no
// bench client asks for; everything on the wire is the default.
const io = new Server(httpServer, { serveClient: false });

io.on("connection", (socket) => {
  socket.on("join", (room, ack) => {
    if (typeof room === "string") socket.join(room);
    if (typeof ack === "function") ack();
  });
  socket.on("leave", (room, ack) => {
    if (typeof room === "string") socket.leave(room);
    if (typeof ack === "function") ack();
  });
  socket.on("ping", (...args) => {
    const ack = args.pop();
    if (typeof ack === "function") ack(...args);
  });
  socket.on("publish", (room, event, ...args) => {
    if (typeof args[args.length - 1] === "function") args.pop();
    if (typeof room === "string" && typeof event === "string") socket.to(room).emit(event, ...args);
  });
});

httpServer.listen(port, host, () => {
  process.stdout.write(JSON.stringify({ port: httpServer.address().port }) + "\n");
});

function shutdown() {
  process.exit(0);
}
process.on("SIGTERM", shutdown);
process.on("SIGINT", shutdown);
