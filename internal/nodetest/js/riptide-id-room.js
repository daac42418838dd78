"use strict";
// A socket's own id room is its direct line: cmd/riptide refuses a client that joins or
// publishes to a room named like a socket id (ROOM_FORBIDDEN), so another client can
// neither read nor forge its direct messages, while a backend still reaches it: with
// --redis, @socket.io/redis-emitter's to(a.id) and except(a.id) reach a alone.
// Flags: --url http://127.0.0.1:PORT [--redis redis://HOST:PORT] [--redis-key socket.io].
// Prints one JSON line; exit 0 only on success.
const c = require("./lib/common");
const { io } = require("socket.io-client");

const args = c.parseArgs({ "redis-key": "socket.io" });
const got = { a: [], b: [], c: [] };
let step = "connect";
c.hardTimeout(20000, () => ({ step, got }));

function connect(name) {
  return new Promise((resolve, reject) => {
    const s = io(args.url, { reconnection: false, transports: ["websocket"] });
    s.onAny((event, tag) => got[name].push(event + ":" + tag));
    s.once("connect", () => resolve(s));
    s.once("connect_error", reject);
  });
}

// fenced waits until a and b got the fence tagged tag (sent after the message under test,
// to a room all three are in, so each connection has its messages by then), then checks
// how many "direct" messages tagged tag each client got.
async function fenced(tag, want) {
  await c.until(() => ["a", "b"].every((n) => got[n].includes("fence:" + tag)), 5000, () => `fence ${tag}: ${JSON.stringify(got)}`);
  const counts = {};
  for (const n of ["a", "b", "c"]) counts[n] = got[n].filter((m) => m === "direct:" + tag).length;
  if (JSON.stringify(counts) !== JSON.stringify(want)) throw new Error(`${tag}: got ${JSON.stringify(counts)}, want ${JSON.stringify(want)}`);
}

async function main() {
  const [a, b, cl] = await Promise.all([connect("a"), connect("b"), connect("c")]);
  await Promise.all([a, b, cl].map((s) => s.emitWithAck("join", "everyone")));
  step = "b joins a room named a.id";
  const refusal = await b.emitWithAck("join", a.id);
  if (!refusal.error || refusal.error.code !== "ROOM_FORBIDDEN") throw new Error(`join a.id answered ${JSON.stringify(refusal)}`);

  let emitter;
  if (args.redis) {
    const { createClient } = require("redis");
    const { Emitter } = require("@socket.io/redis-emitter");
    const redis = createClient({ url: args.redis });
    redis.on("error", (e) => c.log("redis:", e.message));
    await redis.connect();
    emitter = new Emitter(redis, { key: args["redis-key"] });

    step = "emitter to(a.id)";
    emitter.to(a.id).emit("direct", "emitter-1");
    emitter.to("everyone").emit("fence", "emitter-1");
    await fenced("emitter-1", { a: 1, b: 0, c: 0 });

    step = "emitter except(a.id)";
    emitter.to("everyone").except(a.id).emit("direct", "emitter-2");
    emitter.to("everyone").emit("fence", "emitter-2");
    await fenced("emitter-2", { a: 0, b: 1, c: 1 });
    await redis.quit();
  }

  step = "c publishes to a.id";
  const pub = await cl.emitWithAck("publish", a.id, "direct", "relay-1");
  if (!pub.error || pub.error.code !== "ROOM_FORBIDDEN") throw new Error(`publish to a.id answered ${JSON.stringify(pub)}`);
  cl.emit("publish", "everyone", "fence", "relay-1"); // the relay skips the sender, c
  await fenced("relay-1", { a: 0, b: 0, c: 0 });

  [a, b, cl].forEach((s) => s.close());
  c.finish({ ok: true, emitter: Boolean(emitter) });
}

main().catch((e) => c.fail(`${step}: ${e.message}`, { got }));
