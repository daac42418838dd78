"use strict";
// The Go API's less common calls, driven by the real socket.io-client against the server in
// internal/nodetest/api_test.go. Flags: --url http://127.0.0.1:PORT --transports polling|websocket
// Prints one JSON line; exit 0 only when every check passed.
const { io } = require("socket.io-client");

const args = {};
for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].slice(2)] = process.argv[i + 1];
const url = args.url;
const transports = args.transports.split(",");
const result = { ok: false, checks: [] };
const timer = setTimeout(() => done(new Error("timeout")), 20000);

function done(err) {
  clearTimeout(timer);
  if (err) result.error = String(err.stack || err);
  else result.ok = true;
  console.log(JSON.stringify(result));
  process.exit(result.ok ? 0 : 1);
}
function check(name, cond, detail) {
  result.checks.push(name);
  if (!cond) throw new Error(`${name}: ${JSON.stringify(detail)}`);
}
function connect(nsp = "/", opts = {}) {
  return new Promise((resolve, reject) => {
    const s = io(url + nsp, Object.assign({ transports, reconnection: false, forceNew: true }, opts));
    s.once("connect", () => resolve(s));
    s.once("connect_error", reject);
  });
}
const wait = (ms) => new Promise((r) => setTimeout(r, ms));
function next(s, ev, ms = 3000) {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error("no " + ev)), ms);
    s.once(ev, (...a) => { clearTimeout(t); resolve(a); });
  });
}

(async () => {
  // Dynamic namespaces: /dyn-<n> exist on demand, share the parent's handlers, and a
  // broadcast through the parent reaches all of them; other names are refused.
  const d1 = await connect("/dyn-1");
  const d2 = await connect("/dyn-2");
  const who = await d1.emitWithAck("whoami");
  check("dynamic handler", who === "/dyn-1", who);
  const pa = next(d1, "parent-news"), pb = next(d2, "parent-news");
  d1.emit("parent-broadcast", "n1");
  check("parent broadcast", (await pa)[0] === "n1" && (await pb)[0] === "n1");
  const refused = await connect("/other").then(() => null, (e) => e.message);
  check("non-matching namespace refused", refused === "Invalid namespace", refused);

  // Catch-all listeners and OnAnyOutgoing: the server reports what it saw.
  const a = await connect();
  a.emit("x1", 1);
  a.emit("x2", { k: "v" });
  const seen = await a.emitWithAck("seen");
  check("onAny saw events in order (prepended first)", JSON.stringify(seen) === JSON.stringify(["first:x1", "any:x1", "first:x2", "any:x2", "first:seen", "any:seen"]), seen);
  await a.emitWithAck("greet");
  const out = await a.emitWithAck("outgoing");
  check("onAnyOutgoing", JSON.stringify(out) === JSON.stringify(["greeting"]), out);

  // Broadcast acks: every socket answers, the server collects them.
  const b = await connect();
  const c = await connect();
  for (const [name, s] of [["a", a], ["b", b], ["c", c]]) s.on("survey", (q, cb) => cb(name + ":" + q));
  const answers = await a.emitWithAck("run-survey");
  check("broadcast acks from all", JSON.stringify(answers) === JSON.stringify(["a:q?", "b:q?", "c:q?"]), answers);
  // A socket that never answers: the timeout returns the answers that did come.
  c.off("survey");
  const partial = await a.emitWithAck("run-survey");
  check("broadcast ack timeout keeps partial answers", JSON.stringify(partial) === JSON.stringify({ error: "server: operation has timed out", answers: ["a:q?", "b:q?"] }), partial);

  // socketsJoin / socketsLeave / fetchSockets driven from the server.
  await a.emitWithAck("join", "base");
  await b.emitWithAck("join", "base");
  const joined = await a.emitWithAck("sockets-join", "base", "extra");
  check("socketsJoin", joined.length === 2 && joined.includes(a.id) && joined.includes(b.id), joined);
  const gotExtra = next(b, "in-extra");
  a.emit("to", "extra", "in-extra");
  check("socketsJoin room receives", (await gotExtra)[0] === "extra");
  const left = await a.emitWithAck("sockets-leave", "extra", "extra");
  check("socketsLeave", left.length === 0, left);

  // Per-packet middleware rejecting one event, the error reaching the client as an event.
  const errP = next(a, "rejected");
  a.emit("forbidden", 1);
  check("per-packet middleware error", (await errP)[0] === "forbidden event");

  // Disconnect(true) closes the whole connection; disconnecting still sees the rooms.
  const x = await connect();
  await x.emitWithAck("join", "r1");
  const reason = next(x, "disconnect");
  x.emit("close-me");
  check("disconnect(true) reason", (await reason)[0] === "io server disconnect");
  await wait(100);
  const log = await a.emitWithAck("closing-log");
  check("disconnecting saw rooms", JSON.stringify(log) === JSON.stringify(["r1", "server namespace disconnect"]), log);

  result.transport = a.io.engine.transport.name;
  [a, b, c, d1, d2].forEach((s) => s.close());
  done();
})().catch(done);
