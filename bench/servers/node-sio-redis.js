// Peer cluster node for riptide's bench tool (the "cluster" workload): Node
// socket.io 4.8 with default options, as bench/servers/node-sio.js, plus
// @socket.io/redis-adapter 8.3 (classic createAdapter, key "socket.io") on
// the `redis` 4.7 client, so that a broadcast published on one node reaches
// the room's members on every node through Redis pub/sub. Same protocol as
// cmd/riptide:
//
//   "join"    (room, ack)         the socket joins room; ack()
//   "leave"   (room, ack)         the socket leaves room; ack()
//   "publish" (room, event, ...)  everyone in room except the sender gets event(...)
//   "ping"    (..., ack)          ack(...)
//
// Usage: node node-sio-redis.js --redis redis://127.0.0.1:P [--port N] [--host H] [--redis-key K]
// Prints {"port":N} on stdout once listening. Exits on SIGTERM/SIGINT.
"use strict";

const path = require("path");
const http = require("http");

// The Node modules live with the interop tests; resolve them from this
// script's location so no second package.json is needed.
const modules = path.resolve(__dirname, "../../internal/nodetest/js/node_modules");
const { Server } = require(path.join(modules, "socket.io"));
const { createClient } = require(path.join(modules, "redis"));
const { createAdapter } = require(path.join(modules, "@socket.io/redis-adapter"));

function arg(name, def) {
  const i = process.argv.indexOf(name);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : def;
}

const host = arg("--host", "127.0.0.1");
const port = Number(arg("--port", "0"));
const redisURL = arg("--redis", "");
const key = arg("--redis-key", "socket.io");
if (!redisURL) {
  process.stderr.write("--redis is required\n");
  process.exit(2);
}

async function main() {
  const pub = createClient({ url: redisURL });
  const sub = pub.duplicate();
  for (const c of [pub, sub]) c.on("error", (e) => process.stderr.write(`redis: ${e.message}\n`));
  await Promise.all([pub.connect(), sub.connect()]);

  const httpServer = http.createServer();
  // serveClient off: it only adds the /socket.io/socket.io.js route, which no
  // bench client asks for; everything on the wire is the default.
  const io = new Server(httpServer, { serveClient: false, adapter: createAdapter(pub, sub, { key }) });

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

  // Listen only once the adapter's subscriptions are in place (node-redis
  // subscribes asynchronously), so the bench's readiness check means ready.
  await new Promise((r) => setTimeout(r, 300));
  httpServer.listen(port, host, () => {
    process.stdout.write(JSON.stringify({ port: httpServer.address().port }) + "\n");
  });
}

main().catch((e) => {
  process.stderr.write(`${e.stack}\n`);
  process.exit(1);
});

function shutdown() {
  process.exit(0);
}
process.on("SIGTERM", shutdown);
process.on("SIGINT", shutdown);
