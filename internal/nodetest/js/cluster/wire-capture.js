"use strict";
// What @socket.io/redis-adapter 8.3 publishes for a fixed list of operations, captured
// from Redis, so rooms/redis can compare its own messages byte for byte. Random ids are
// pinned: uids and request ids are "RRRRRR" (classic, uid2) or "aaaa..." (sharded,
// 8 bytes 0xaa in hex).
//
// Usage: node cluster/wire-capture.js --redis URL [--sharded]
// stdout, last line: {"ok":true,"messages":[{"channel":C,"hex":H}...]}

// Pin the ids before the adapter loads.
const uid2Path = require.resolve("uid2", { paths: [require.resolve("@socket.io/redis-adapter")] });
require.cache[uid2Path] = { id: uid2Path, filename: uid2Path, loaded: true, exports: (n) => "R".repeat(n) };
const crypto = require("crypto");
const realRandomBytes = crypto.randomBytes;
crypto.randomBytes = (n, cb) => (n === 8 && !cb ? Buffer.alloc(8, 0xaa) : realRandomBytes(n, cb));

const c = require("../lib/common");
const { Server } = require("socket.io");
const { createClient } = require("redis");
const { createAdapter, createShardedAdapter } = require("@socket.io/redis-adapter");

const args = c.parseArgs({ timeout: "20000" });
const sharded = c.bool(args.sharded);
c.hardTimeout(Number(args.timeout));

async function main() {
  const pub = createClient({ url: args.redis });
  const sub = pub.duplicate();
  const cap = pub.duplicate();
  await Promise.all([pub.connect(), sub.connect(), cap.connect()]);
  const messages = [];
  const record = (msg, channel) => messages.push({ channel: channel.toString(), hex: msg.toString("hex") });
  if (sharded) {
    for (const ch of ["socket.io#/#", "socket.io#/#room1#"]) await cap.sSubscribe(ch, record, true);
  } else {
    await cap.pSubscribe("*", record, true);
  }
  const io = new Server({
    adapter: sharded ? createShardedAdapter(pub, sub) : createAdapter(pub, sub, { requestsTimeout: 300 }),
  });
  await c.sleep(200);
  // A second subscriber, so requests that need answers are published (serverCount > 1).
  const other = pub.duplicate();
  await other.connect();
  if (sharded) await other.sSubscribe("socket.io#/#", () => {});
  else await other.subscribe("socket.io-request#/#", () => {});
  await c.sleep(100);

  const quiet = (p) => Promise.resolve(p).catch(() => {});
  io.emit("ev", 1, "s", { b: 1, a: [true, null, 1.5] });
  io.to("room1").emit("ev", Buffer.from([1, 2, 3]), { nested: Buffer.alloc(0) });
  io.to(["room1", "room2"]).except("room3").emit("two");
  io.volatile.emit("vol");
  io.in("room1").socketsJoin("room2");
  io.in("room1").socketsLeave(["room2", "room3"]);
  io.in("room1").disconnectSockets(true);
  io.serverSideEmit("hello", "world", 1);
  await quiet(io.timeout(200).emitWithAck("q", 1));
  await quiet(io.in("room1").fetchSockets());
  await c.sleep(300);
  await Promise.all([pub, sub, cap, other].map((cl) => cl.disconnect()));
  c.finish({ ok: true, messages });
}

main().catch((e) => c.fail(e.stack));
