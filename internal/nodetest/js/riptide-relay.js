"use strict";
// cmd/riptide's default protocol with the real socket.io-client: join, publish to a room,
// leave; and, with --token, refusal of a client without the token.
// Flags: --url http://127.0.0.1:PORT [--token T] [--refusal MESSAGE (default "not
// authorized": the connect_error message a client without the token must get)].
// Prints one JSON line; exit 0 only on success.
const { io } = require("socket.io-client");

const args = {};
for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].slice(2)] = process.argv[i + 1];
const url = args.url;
const auth = args.token ? { token: args.token } : {};
const result = { ok: false };
const timer = setTimeout(() => finish("timeout"), 15000);

function finish(error) {
  clearTimeout(timer);
  if (error) result.error = String(error);
  else result.ok = true;
  console.log(JSON.stringify(result));
  process.exit(result.ok ? 0 : 1);
}

function connect(opts) {
  return new Promise((resolve, reject) => {
    const s = io(url, Object.assign({ reconnection: false, auth }, opts));
    s.once("connect", () => resolve(s));
    s.once("connect_error", reject);
  });
}

(async () => {
  if (args.token) {
    const err = await connect({ auth: {} }).then(() => null, (e) => e);
    if (!err || err.message !== (args.refusal || "not authorized")) throw new Error("missing token accepted: " + (err && err.message));
    result.refused = err.message;
  }
  const [a, b, c] = await Promise.all([connect({ transports: ["websocket"] }), connect({}), connect({ transports: ["polling"] })]);
  await a.emitWithAck("join", "news");
  await b.emitWithAck("join", "news");
  const got = { a: [], b: [], c: [] };
  for (const [name, s] of Object.entries({ a, b, c })) s.on("headline", (...x) => got[name].push(x));
  c.emit("publish", "news", "headline", "riptide", { n: 1 }, Buffer.from([7]));
  await new Promise((r) => setTimeout(r, 300));
  if (got.a.length !== 1 || got.b.length !== 1 || got.c.length !== 0) throw new Error("deliveries " + JSON.stringify(got));
  if (got.a[0][0] !== "riptide" || got.a[0][1].n !== 1 || !Buffer.isBuffer(got.a[0][2]) || got.a[0][2][0] !== 7)
    throw new Error("payload " + JSON.stringify(got.a[0]));
  await a.emitWithAck("leave", "news");
  b.emit("publish", "news", "headline", "again");
  await new Promise((r) => setTimeout(r, 300));
  if (got.a.length !== 1 || got.b.length !== 1) throw new Error("after leave " + JSON.stringify(got));
  result.delivered = { a: got.a.length, b: got.b.length, c: got.c.length };
  [a, b, c].forEach((s) => s.close());
  finish();
})().catch(finish);
