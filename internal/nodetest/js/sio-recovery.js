"use strict";
// sio-recovery.js: CONTRACT.md part 2.2, the recovery server (path
// /recovery/, connection state recovery on, maxDisconnectionDuration 2000 ms)
// with the real socket.io-client 4.8. Client A joins rooms, remembers a value
// and receives one stored event; its transport is dropped; client B emits to
// A's rooms (and its id room) while A is away; then A reconnects.
//
// Flags:
//   --url http://127.0.0.1:PORT      (required) the scenario listener
//   --transports polling|websocket   (default websocket)
//   --scenario NAME                  one of:
//     recover       reconnect ~300 ms after the drop: same id and pid, recovered true on
//                   both sides, rooms and remembered data back, the missed room-message
//                   events (rooms and the id room, not other rooms) replayed in order
//                   exactly once, each with its offset; later events still arrive.
//     expired       reconnect 2600 ms after the drop: new id and pid, recovered false,
//                   no rooms, remembered null, nothing replayed.
//     namespace-disconnect  socket.disconnect() then connect(): not recovered.
//     unknown-offset        the drop happens before A received any stored event
//                   (the client has no offset to send): not recovered.
//   --drop close|destroy             how A's transport goes: close = engine.close() (a
//                                    WebSocket close, or a "1" POST on polling);
//                                    destroy = the TCP socket is destroyed (websocket only)
//   --timeout 20000
//
// Result: {ok, scenario, failures, handshake, before:{id, pid, connectReply, info},
// after:{id, pid, connectReply, connectSent, info, recovered}, received:[{args,
// offset, engine}], replayWire:"after-connect"|"before-connect"|..., ...}

const c = require("./lib/common");
const s = require("./lib/sio");

const args = c.parseArgs({ transports: "websocket", scenario: "", drop: "close", timeout: "20000" });
if (!args.url) c.fail("missing --url");
const transports = s.transportsFlag(args.transports);
const timeout = c.int(args.timeout, "timeout");
const result = { ok: false, scenario: args.scenario, transports: args.transports, drop: args.drop };
if (args.drop === "destroy" && transports.includes("polling")) c.fail("--drop destroy needs --transports websocket");

const tag = Math.random().toString(36).slice(2, 8);
const room = (n) => `${n}-${tag}`;

function mgr(label) {
  return s.newManager(args.url, { path: "/recovery/", transports, label });
}

// connectReply returns the CONNECT reply text on engine index i.
function connectReply(wire, i) {
  const r = wire.packets("in", i).filter((p) => p.info && p.info.type === s.T.CONNECT);
  return r.length ? r[r.length - 1].text : null;
}

function parseReply(text) {
  try {
    return JSON.parse(text.slice(1));
  } catch (e) {
    return null;
  }
}

async function dropTransport(manager) {
  const e = manager.engine;
  if (args.drop === "destroy") {
    const ws = e.transport && e.transport.ws;
    const sock = ws && ws._socket;
    if (!sock) throw new Error("no WebSocket TCP socket to destroy");
    sock.destroy();
  } else {
    e.close();
  }
}

async function setup(ck, { withStoredEvent }) {
  const A = mgr("A");
  const B = mgr("B");
  const a = A.manager.socket("/");
  const b = B.manager.socket("/");
  const received = [];
  a.on("room-message", (...x) => received.push({ args: x, engine: A.wire.engines.length - 1, t: c.elapsed() }));
  await Promise.all([s.connect(a, 5000), s.connect(b, 5000)]);
  if (transports.length === 2) await Promise.all([s.waitUpgrade(A.manager, 5000), s.waitUpgrade(B.manager, 5000)]);

  const before = { id: a.id, pid: a._pid, connectReply: connectReply(A.wire, 0), recovered: a.recovered };
  result.before = before;
  const h = A.wire.engines[0].handshake;
  result.handshake = h;
  ck.eq(h && [h.pingInterval, h.pingTimeout, h.maxPayload], [1000, 2000, 1000000], "handshake pingInterval, pingTimeout, maxPayload");
  const reply = parseReply(before.connectReply || "");
  ck.check(reply && Object.keys(reply).join(",") === "sid,pid", `CONNECT reply ${before.connectReply}, want {"sid":…,"pid":…}`);
  if (reply) {
    ck.eq(reply.sid, a.id, "CONNECT reply sid");
    ck.check(typeof reply.pid === "string" && reply.pid.length > 0, `CONNECT reply pid ${reply.pid}`);
  }
  ck.eq(a.recovered, false, "client-side recovered on the first connection");
  const info0 = await s.ack(a, 5000, "info");
  before.firstInfo = info0[0];
  ck.eq(info0, [{ id: a.id, recovered: false, rooms: [], remembered: null }], "info on the first connection");

  // join / remember ack with no arguments (acks are not stored: no offset).
  const joinId = a.ids;
  const j = await s.ack(a, 5000, "join", room("r1"));
  ck.eq(j, [], "join ack args");
  const jw = A.wire.packets("in", 0).filter((p) => p.info && p.info.type === s.T.ACK && p.info.id === joinId);
  ck.eq(
    jw.map((p) => p.text),
    [`3${joinId}[]`],
    "join ack on the wire"
  );
  await s.ack(a, 5000, "join", room("r2"));
  const remembered = { v: [1, "x", null], s: "日本", n: 1.5 };
  ck.eq(await s.ack(a, 5000, "remember", remembered), [], "remember ack args");
  await s.ack(b, 5000, "join", room("r3"));

  if (withStoredEvent) {
    ck.eq(await s.ack(b, 5000, "to-room", room("r1"), "before", 1), [], "to-room ack args");
    await c.until(() => received.length >= 1, 5000, "room-message before the drop");
    const first = received[0];
    ck.check(first.args.length === 3 && typeof first.args[2] === "string" && first.args[2].length > 0, `room-message args ${s.short(first.args)}: want ["before", 1, <offset>]`);
    ck.eq(first.args.slice(0, 2), ["before", 1], "room-message before the drop");
    before.offset = first.args[2];
    const w = A.wire.packets("in", 0).filter((p) => p.text.includes('"room-message"'));
    ck.eq(
      w.map((p) => p.text),
      [`2["room-message","before",1,${JSON.stringify(before.offset)}]`],
      "stored event on the wire (trailing offset)"
    );
    ck.eq(a._lastOffset, before.offset, "the client's last offset");
  }
  const info1 = await s.ack(a, 5000, "info");
  before.info = info1[0];
  ck.eq(info1, [{ id: a.id, recovered: false, rooms: [room("r1"), room("r2")].sort(), remembered }], "info before the drop");
  return { A, B, a, b, received, before, remembered };
}

// missWhileAway has B emit while A is away: to A's rooms, to A's id room,
// and to a room A is not in.
async function missWhileAway(b, oldId) {
  const sent = [
    [room("r1"), "m1"],
    [room("r2"), "m2", { k: [1, 2] }],
    [room("r3"), "not-for-a"],
    [room("r1"), "m3"],
    [oldId, "direct"],
    [room("r1"), "m4", Buffer.from([1, 2, 3])],
  ];
  for (const x of sent) await s.ack(b, 5000, "to-room", ...x);
  return sent;
}

async function reconnect(ck, a, A, ms) {
  const dropAt = Date.now();
  const disc = s.nextEvent(a, "disconnect", 5000);
  await dropTransport(A.manager);
  const d = await disc;
  result.disconnectReason = d[0];
  return dropAt;
}

// recover: reconnect quickly; everything comes back.
async function recover(ck) {
  const { A, B, a, b, received, before, remembered } = await setup(ck, { withStoredEvent: true });
  const dropAt = await reconnect(ck, a, A);
  await c.sleep(100);
  const sent = await missWhileAway(b, before.id);
  await c.sleep(100);
  ck.check(Date.now() - dropAt < 1500, `reconnecting ${Date.now() - dropAt} ms after the drop: too late for the test`);
  const nBefore = received.length;
  await s.connect(a, 5000);
  const after = { id: a.id, pid: a._pid, recovered: a.recovered, msAfterDrop: Date.now() - dropAt };
  result.after = after;
  const ei = A.wire.engines.length - 1;
  after.connectSent = A.wire
    .packets("out", ei)
    .filter((p) => p.info && p.info.type === s.T.CONNECT)
    .map((p) => p.text);
  after.connectReply = connectReply(A.wire, ei);
  ck.eq(after.connectSent, [`0{"pid":${JSON.stringify(before.pid)},"offset":${JSON.stringify(before.offset)}}`], "the client's CONNECT after the drop");
  ck.eq(after.connectReply, `0{"sid":${JSON.stringify(before.id)},"pid":${JSON.stringify(before.pid)}}`, "CONNECT reply after the drop (same sid and pid)");
  ck.eq(a.id, before.id, "socket id after recovery");
  ck.eq(a.recovered, true, "client-side recovered");

  // The missed events, in order, once each, each with a fresh offset.
  await c.until(() => received.length - nBefore >= 5, 3000, () => `replayed events: ${received.length - nBefore} of 5`).catch(() => {});
  await c.sleep(150);
  const replayed = received.slice(nBefore);
  const want = sent.filter((x) => x[0] !== room("r3")).map((x) => x.slice(1));
  result.replayed = replayed.map((x) => s.canon(x.args));
  ck.eq(
    replayed.map((x) => x.args.slice(0, -1)),
    want,
    "replayed events (order, once each, not other rooms)"
  );
  const offsets = replayed.map((x) => x.args[x.args.length - 1]);
  ck.check(
    offsets.every((o) => typeof o === "string" && o.length > 0) && new Set([before.offset, ...offsets]).size === offsets.length + 1,
    `replayed offsets ${JSON.stringify(offsets)} (before the drop ${before.offset}): want distinct strings`
  );
  ck.check(
    replayed.every((x) => x.engine === ei),
    "replayed events arrived on the new connection"
  );
  // On the wire: the CONNECT reply and the replayed events, adjacent.
  const seq = A.wire.packets("in", ei).filter((p) => p.info && (p.info.type === s.T.CONNECT || p.text.includes('"room-message"')));
  const kinds = seq.map((p) => (p.info.type === s.T.CONNECT ? "C" : "E")).join("");
  result.replayWireOrder = kinds;
  result.replayWire = kinds === "CEEEEE" ? "after-connect" : kinds === "EEEEEC" ? "before-connect" : kinds;
  ck.check(kinds === "CEEEEE" || kinds === "EEEEEC", `CONNECT reply and replayed events on the wire: ${kinds} (C = CONNECT, E = event)`);
  const replayWire = seq.filter((p) => p.info.type !== s.T.CONNECT);
  replayWire.forEach((p, i) => {
    const data = ["room-message", ...want[i], offsets[i]];
    ck.wire(p, s.wireOf({ type: s.T.EVENT, nsp: "/", data }), `replayed event #${i}`);
  });

  const info = await s.ack(a, 5000, "info");
  after.info = info[0];
  ck.eq(info, [{ id: before.id, recovered: true, rooms: [room("r1"), room("r2")].sort(), remembered }], "info after recovery");

  // Life goes on: a new event arrives once, with a new offset.
  await s.ack(b, 5000, "to-room", room("r1"), "after");
  await c.until(() => received.length >= nBefore + replayed.length + 1, 3000, "room-message after recovery");
  await c.sleep(100);
  const last = received.slice(nBefore + replayed.length);
  ck.eq(
    last.map((x) => x.args.slice(0, -1)),
    [["after"]],
    "events after recovery"
  );
  result.received = received.map((x) => ({ args: s.canon(x.args), engine: x.engine }));
  A.manager._close();
  B.manager._close();
}

// notRecovered checks a fresh session after a failed recovery.
async function notRecovered(ck, A, a, before, received, nBefore, what) {
  const after = { id: a.id, pid: a._pid, recovered: a.recovered };
  result.after = after;
  const ei = A.wire.engines.length - 1;
  after.connectReply = connectReply(A.wire, ei);
  after.connectSent = A.wire
    .packets("out", ei)
    .filter((p) => p.info && p.info.type === s.T.CONNECT)
    .map((p) => p.text);
  const reply = parseReply(after.connectReply || "");
  ck.check(reply && Object.keys(reply).join(",") === "sid,pid", `${what}: CONNECT reply ${after.connectReply}`);
  ck.check(a.id && a.id !== before.id, `${what}: socket id ${a.id}, want a new one (was ${before.id})`);
  ck.check(reply && reply.pid !== before.pid, `${what}: pid ${reply && reply.pid}, want a new one (was ${before.pid})`);
  ck.eq(a.recovered, false, `${what}: client-side recovered`);
  const info = await s.ack(a, 5000, "info");
  after.info = info[0];
  ck.eq(info, [{ id: a.id, recovered: false, rooms: [], remembered: null }], `${what}: info`);
  await c.sleep(200);
  ck.eq(
    received.slice(nBefore).map((x) => x.args),
    [],
    `${what}: events received after reconnecting`
  );
}

// expired: reconnect after maxDisconnectionDuration.
async function expired(ck) {
  const { A, B, a, b, received, before } = await setup(ck, { withStoredEvent: true });
  const dropAt = await reconnect(ck, a, A);
  await c.sleep(100);
  await missWhileAway(b, before.id);
  await c.sleep(2600 - (Date.now() - dropAt));
  const nBefore = received.length;
  await s.connect(a, 5000);
  result.msAfterDrop = Date.now() - dropAt;
  const ei = A.wire.engines.length - 1;
  const sentConnect = A.wire.packets("out", ei).filter((p) => p.info && p.info.type === s.T.CONNECT);
  ck.eq(
    sentConnect.map((p) => p.text),
    [`0{"pid":${JSON.stringify(before.pid)},"offset":${JSON.stringify(before.offset)}}`],
    "the client's CONNECT (it still tries)"
  );
  await notRecovered(ck, A, a, before, received, nBefore, "after 2600 ms");
  // The old rooms are gone: B's events to r1 no longer reach A.
  await s.ack(b, 5000, "to-room", room("r1"), "after");
  await c.sleep(200);
  ck.eq(
    received.slice(nBefore).map((x) => x.args),
    [],
    "events to the old room after a failed recovery"
  );
  A.manager._close();
  B.manager._close();
}

// namespace-disconnect: a client namespace disconnect is never recovered.
async function namespaceDisconnect(ck) {
  const { A, B, a, b, received, before } = await setup(ck, { withStoredEvent: true });
  a.disconnect();
  await c.sleep(100);
  await missWhileAway(b, before.id);
  const nBefore = received.length;
  await s.connect(a, 5000);
  await notRecovered(ck, A, a, before, received, nBefore, "after socket.disconnect()");
  A.manager._close();
  B.manager._close();
}

// unknown-offset: no stored event reached the client, so its CONNECT has no
// offset; the reference does not recover.
async function unknownOffset(ck) {
  const { A, B, a, b, received, before } = await setup(ck, { withStoredEvent: false });
  await reconnect(ck, a, A);
  await c.sleep(100);
  await missWhileAway(b, before.id);
  const nBefore = received.length;
  await s.connect(a, 5000);
  const ei = A.wire.engines.length - 1;
  ck.eq(
    A.wire
      .packets("out", ei)
      .filter((p) => p.info && p.info.type === s.T.CONNECT)
      .map((p) => p.text),
    [`0{"pid":${JSON.stringify(before.pid)}}`],
    "the client's CONNECT without an offset"
  );
  await notRecovered(ck, A, a, before, received, nBefore, "without an offset");
  A.manager._close();
  B.manager._close();
}

const scenarios = { recover, expired, "namespace-disconnect": namespaceDisconnect, "unknown-offset": unknownOffset };
const f = scenarios[args.scenario];
if (!f) c.fail(`unknown --scenario ${JSON.stringify(args.scenario)}; one of ${Object.keys(scenarios).join(", ")}`);
s.run(timeout, result, (res, ck) => f(ck));
