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
// node-sio-proxy.js reuses arg, protocol and serve with a "ping" of its own.
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

// echoPing acks with the event's own arguments.
function echoPing(...args) {
  const ack = args.pop();
  if (typeof ack === "function") ack(...args);
}

// protocol installs the default protocol's handlers on socket; ping handles "ping".
function protocol(socket, ping = echoPing) {
  socket.on("join", (room, ack) => {
    if (typeof room === "string") socket.join(room);
    if (typeof ack === "function") ack();
  });
  socket.on("leave", (room, ack) => {
    if (typeof room === "string") socket.leave(room);
    if (typeof ack === "function") ack();
  });
  socket.on("ping", ping);
  socket.on("publish", (room, event, ...args) => {
    if (typeof args[args.length - 1] === "function") args.pop();
    if (typeof room === "string" && typeof event === "string") socket.to(room).emit(event, ...args);
  });
}

// serve listens on --host/--port, calls onConnection for every socket and
// prints the port once listening.
function serve(onConnection) {
  const httpServer = http.createServer();
  // serveClient off: it only adds the /socket.io/socket.io.js route, which no
  // bench client asks for; everything on the wire is the default.
  const io = new Server(httpServer, { serveClient: false });
  io.on("connection", onConnection);
  httpServer.listen(Number(arg("--port", "0")), arg("--host", "127.0.0.1"), () => {
    process.stdout.write(JSON.stringify({ port: httpServer.address().port }) + "\n");
  });
  const shutdown = () => process.exit(0);
  process.on("SIGTERM", shutdown);
  process.on("SIGINT", shutdown);
}

module.exports = { arg, protocol, serve };

if (require.main === module) serve((socket) => protocol(socket));
