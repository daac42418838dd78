"use strict";
// riptide-recovery.js: connection state recovery across two riptide nodes, with the real
// socket.io-client 4.8 (cmd/riptide's TestBinaryRecoveryAcrossNodes).
//
// Client C connects through the test's TCP proxy (--url), which points at node A; client P
// connects to node B directly (--direct). C joins --room and receives one stored event
// from P (so it has an offset). The script then asks the test (POST --control/ready) to
// take C's node away (kill it, or cut C's connection); once C saw its disconnect, P
// publishes --n events to the room, and the script asks the test (POST --control/switch)
// to point the proxy at B. C reconnects by itself and must be recovered: same id and pid,
// socket.recovered true, the --n events exactly once each, in order, each with an offset,
// still in the room (a later event arrives once), counted again in a presence room
// (live:x, which its drop left), and its identity back (it may join user:<sub>, which needs
// the JWT's identity).
//
// Flags: --url --direct --control --token (JWT for both clients) --user (its sub) --room
// --n --transports polling,websocket|websocket --stream-offsets (offsets are Redis stream
// ids) --timeout 30000
// Result: {ok, failures, before:{id,pid,offset}, after:{id,pid,recovered}, replayed:[...], ...}

const c = require("./lib/common");
const s = require("./lib/sio");
const { io } = require("socket.io-client");

const args = c.parseArgs({ n: "10", room: "news", transports: "polling,websocket", timeout: "30000" });
for (const k of ["url", "direct", "control", "token", "user"]) if (!args[k]) c.fail(`missing --${k}`);
const n = c.int(args.n, "n");
const transports = s.transportsFlag(args.transports);
const result = { ok: false, transports };

async function control(what, body) {
  const res = await fetch(args.control + "/" + what, { method: "POST", body: JSON.stringify(body || {}) });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`control ${what}: ${res.status} ${text}`);
  return text;
}

s.run(c.int(args.timeout, "timeout"), result, async (res, ck) => {
  const C = io(args.url, {
    auth: { token: args.token },
    transports,
    reconnectionDelay: 100,
    reconnectionDelayMax: 300,
    randomizationFactor: 0,
  });
  const P = io(args.direct, { auth: { token: args.token }, transports: ["websocket"], reconnection: false });
  const got = [];
  C.on("msg", (...a) => got.push(a));
  const disconnects = [];
  C.on("disconnect", (reason) => disconnects.push(reason));
  await Promise.all([s.connect(C, 5000, "C"), s.connect(P, 5000, "P")]);
  ck.eq(C.recovered, false, "recovered on the first connection");
  ck.eq(await s.ack(C, 5000, "join", args.room), [{ ok: true, room: args.room }], "C joins the room");
  const live = await s.ack(C, 5000, "join", "live:x");
  ck.eq(live.length === 1 && live[0].count, 1, `C joins live:x (presence): ${JSON.stringify(live)}`);

  ck.eq(await s.ack(P, 5000, "publish", args.room, "msg", "before"), [{ ok: true }], "P publishes before");
  await c.until(() => got.length === 1, 5000, "the event before the drop");
  const before = { id: C.id, pid: C._pid, offset: C._lastOffset };
  res.before = before;
  ck.check(typeof before.pid === "string" && before.pid.length > 0, `pid ${before.pid}`);
  ck.check(got[0].length === 2 && got[0][0] === "before" && got[0][1] === before.offset, `first event ${JSON.stringify(got[0])} with offset ${before.offset}`);

  res.dropped = await control("ready", before);
  await c.until(() => disconnects.length > 0, 10000, "C's disconnect");
  res.disconnectReason = disconnects[0];

  // Away: P publishes the events C must get back.
  for (let i = 0; i < n; i++) {
    ck.eq(await s.ack(P, 5000, "publish", args.room, "msg", `m${i}`, { i }), [{ ok: true }], `P publishes m${i}`);
  }
  const reconnected = c.once(C, "connect", 15000, "C's reconnection");
  await control("switch");
  await reconnected;
  res.after = { id: C.id, pid: C._pid, recovered: C.recovered };
  ck.eq(C.recovered, true, "socket.recovered after the reconnection");
  ck.eq(C.id, before.id, "socket id after recovery");
  ck.eq(C._pid, before.pid, "pid after recovery");

  await c.until(() => got.length >= 1 + n, 5000, () => `replayed ${got.length - 1} of ${n}`).catch(() => {});
  await c.sleep(300); // nothing more comes
  const replayed = got.slice(1);
  res.replayed = replayed;
  ck.eq(
    replayed.map((a) => a.slice(0, -1)),
    Array.from({ length: n }, (_, i) => [`m${i}`, { i }]),
    "the missed events: all, in order, once"
  );
  const offsets = replayed.map((a) => a[a.length - 1]);
  const form = c.bool(args["stream-offsets"]) ? /^\d+-\d+$/ : /^[0-9a-z-]+$/;
  ck.check(
    offsets.every((o) => typeof o === "string" && form.test(o)) && new Set([before.offset, ...offsets]).size === n + 1,
    `offsets ${JSON.stringify(offsets)}: want distinct ${form}`
  );

  // Still in the room, and the identity is back.
  ck.eq(await s.ack(P, 5000, "publish", args.room, "msg", "after"), [{ ok: true }], "P publishes after");
  await c.until(() => got.length >= n + 2, 5000, "the event after recovery").catch(() => {});
  await c.sleep(200);
  ck.eq(
    got.slice(n + 1).map((a) => a.slice(0, -1)),
    [["after"]],
    "events after recovery"
  );
  // The member store counts C in live:x again (its drop left it).
  const pj = await s.ack(P, 5000, "join", "live:x");
  const ids = ((pj[0] && pj[0].members) || []).map((m) => m.socketId).sort();
  ck.eq(ids, [C.id, P.id].sort(), `live:x members after recovery (${JSON.stringify(pj)})`);
  const own = `user:${args.user}`;
  ck.eq(await s.ack(C, 5000, "join", own), [{ ok: true, room: own }], "C joins its user room (needs its identity)");
  C.close();
  P.close();
});
