"use strict";
// A Node.js node of a cluster: socket.io 4.8 with @socket.io/redis-adapter 8.3 (classic
// createAdapter, or createShardedAdapter with --sharded), and the handlers of
// /work/shared/conformance/CONTRACT.md part 3 on namespace "/". It is the reference the
// cluster scenarios are proven against, and the Node.js member of mixed clusters.
//
// Flags: --redis URL (required)  --redis-key KEY (default socket.io)  --node-id NAME
//        --sharded  --port N (default 0: a free port)
// stdout: {"port":N} once listening and subscribed.

const http = require("http");
const { Server } = require("socket.io");
const { createClient } = require("redis");
const { createAdapter, createShardedAdapter } = require("@socket.io/redis-adapter");

const args = { "redis-key": "socket.io", port: "0" };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i].replace(/^--/, "");
  if (a === "sharded") args.sharded = true;
  else args[a] = argv[++i];
}
if (!args.redis) {
  process.stderr.write("--redis is required\n");
  process.exit(2);
}
if (process.env.NODETEST_WATCH_STDIN === "1") {
  process.stdin.on("end", () => process.exit(0));
  process.stdin.resume();
}

async function main() {
  const pub = createClient({ url: args.redis });
  const sub = pub.duplicate();
  for (const c of [pub, sub]) c.on("error", (e) => process.stderr.write(`redis: ${e.message}\n`));
  await Promise.all([pub.connect(), sub.connect()]);
  const adapter = args.sharded
    ? createShardedAdapter(pub, sub, { channelPrefix: args["redis-key"] })
    : createAdapter(pub, sub, { key: args["redis-key"] });
  const httpServer = http.createServer();
  const io = new Server(httpServer, { adapter, pingInterval: 1000, pingTimeout: 2000 });
  let nodeId = args["node-id"];

  const sortJSON = (vs) => vs.slice().sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : JSON.stringify(a) > JSON.stringify(b) ? 1 : 0));
  io.on("connection", (socket) => {
    socket.on("node-id", (ack) => ack(nodeId));
    socket.on("join", async (room, ack) => {
      socket.join(room);
      if (args.sharded) {
        // The sharded adapter ("dynamic" mode) SSUBSCRIBEs to the room's channel when the
        // room is created, without waiting for Redis to confirm; a publish from another
        // node right after this ack could then reach Redis first and be lost (a race of
        // @socket.io/redis-adapter itself, which made this test flaky). Commands on one
        // connection run in order, so once this second SSUBSCRIBE of the same channel is
        // confirmed, the adapter's is too.
        await sub.sSubscribe(`${args["redis-key"]}#/#${room}#`, () => {}, true);
      }
      ack();
    });
    socket.on("leave", (room, ack) => {
      socket.leave(room);
      ack();
    });
    socket.on("to-room", (room, ...rest) => {
      const ack = rest.pop();
      io.to(room).emit("room-message", ...rest);
      ack();
    });
    socket.on("to-room-but-me", (room, ...rest) => {
      const ack = rest.pop();
      socket.to(room).emit("room-message", ...rest);
      ack();
    });
    socket.on("room-sockets", async (room, ack) => {
      const sockets = await io.in(room).fetchSockets();
      ack(sockets.map((s) => s.id).sort());
    });
    socket.on("room-join", (room, target, ack) => {
      io.in(room).socketsJoin(target);
      ack();
    });
    socket.on("room-leave", (room, target, ack) => {
      io.in(room).socketsLeave(target);
      ack();
    });
    socket.on("room-kick", (room, ack) => {
      ack();
      io.in(room).disconnectSockets();
    });
    socket.on("ask-room", async (room, timeoutMs, ack) => {
      try {
        const answers = await io.to(room).timeout(timeoutMs).emitWithAck("question");
        ack({ ok: true, answers: sortJSON(answers) });
      } catch (e) {
        ack({ ok: false });
      }
    });
    socket.on("count-nodes", async (timeoutMs, ack) => {
      try {
        // socket.io 4.8 has no io.timeout(ms).serverSideEmitWithAck: the adapter's
        // requestsTimeout (5 s) bounds it, and this race the contract's timeout.
        let timer;
        const expired = new Promise((_, reject) => (timer = setTimeout(() => reject(new Error("timeout")), timeoutMs)));
        const counts = await Promise.race([io.serverSideEmitWithAck("local-count"), expired]).finally(() => clearTimeout(timer));
        ack({ ok: true, counts: counts.slice().sort((a, b) => a - b) });
      } catch (e) {
        ack({ ok: false });
      }
    });
    socket.on("server-note", (...rest) => {
      const ack = rest.pop();
      io.serverSideEmit("note", ...rest);
      ack();
    });
  });
  io.on("local-count", (ack) => ack(io.of("/").sockets.size));
  io.on("note", (...args) => io.local.emit("note", ...args));

  httpServer.listen(Number(args.port), "127.0.0.1", () => {
    const port = httpServer.address().port;
    if (!nodeId) nodeId = `127.0.0.1:${port}`;
    // Give the adapter's subscriptions a moment (node-redis subscribes asynchronously).
    setTimeout(() => process.stdout.write(JSON.stringify({ port }) + "\n"), 300);
  });
}

main().catch((e) => {
  process.stderr.write(`${e.stack}\n`);
  process.exit(1);
});
