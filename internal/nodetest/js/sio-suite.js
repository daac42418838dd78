"use strict";
// sio-suite.js: CONTRACT.md part 1, the protocol-suite server's Socket.IO
// path (/socket.io/), with the real socket.io-client 4.8 and engine.io-client
// 6.6: what the public socket.io-protocol test suite expects, seen through the
// real client.
//
// Checks: the handshake (pingInterval 300, pingTimeout 200, maxPayload
// 1000000, upgrades); "/" emits auth with the CONNECT payload ({} without one)
// and the CONNECT reply is exactly {"sid":…} (recovery off); message ->
// message-back and message-with-ack -> ack with the same args (binary too, no
// extra offset argument); /custom emits auth; any other namespace gets
// CONNECT_ERROR {"message":"Invalid namespace"}; connected sockets outlive
// the connect timeout; a raw Engine.IO session that never sends CONNECT is
// closed after ~1000 ms.
//
// Flags:
//   --url http://127.0.0.1:PORT   (required) the suite listener
//   --transports polling|websocket (default polling)
//   --timeout 20000
//
// Result: {ok, failures, handshake, auth:{none, given, custom}, connectReply,
// messageBack, ackArgs, refused:{message,data}, connectTimeout:{openToCloseMs,
// close}, alive}

const c = require("./lib/common");
const s = require("./lib/sio");

const args = c.parseArgs({ transports: "polling", timeout: "20000" });
if (!args.url) c.fail("missing --url");
const transports = s.transportsFlag(args.transports);
const timeout = c.int(args.timeout, "timeout");
const result = { ok: false, transports: args.transports };

function mgr() {
  return s.newManager(args.url, { path: "/socket.io/", transports });
}

// rawSession opens an Engine.IO session on /socket.io/ that never sends
// CONNECT and resolves with how long it lived.
function rawSession() {
  const { Socket } = c.loadClient();
  const e = new Socket(args.url, { path: "/socket.io/", transports, upgrade: false, tryAllTransports: false });
  return new Promise((resolve, reject) => {
    let openedAt = null;
    const messages = [];
    e.on("open", () => (openedAt = Date.now()));
    e.on("message", (d) => messages.push(String(d)));
    e.on("close", (reason, desc) => {
      if (openedAt === null) return reject(new Error(`raw session closed before open: ${JSON.stringify(c.closeInfo(reason, desc))}`));
      resolve({ openToCloseMs: Date.now() - openedAt, close: c.closeInfo(reason, desc), messages });
    });
    setTimeout(() => {
      e.close();
      reject(new Error("raw session still open after 5000 ms"));
    }, 5000);
  });
}

s.run(timeout, result, async (res, ck) => {
  const raw = rawSession(); // runs alongside everything else

  // "/" without auth.
  const m1 = mgr();
  const root = m1.manager.socket("/");
  const auth1 = s.nextEvent(root, "auth", 5000);
  await s.connect(root, 5000);
  const a1 = await ck.attempt("auth on / without a payload", () => auth1);
  result.auth = { none: a1 && s.canon(a1) };
  if (a1) ck.eq(a1, [{}], "auth without a CONNECT payload");
  const h = m1.wire.engines[0].handshake;
  result.handshake = h;
  ck.eq(
    h && [h.pingInterval, h.pingTimeout, h.maxPayload],
    [300, 200, 1000000],
    "handshake pingInterval, pingTimeout, maxPayload"
  );
  ck.eq(h && h.upgrades, transports[0] === "polling" ? ["websocket"] : [], "handshake upgrades");
  const reply = m1.wire.packets("in").filter((p) => p.info && p.info.type === s.T.CONNECT);
  result.connectReply = reply.map((p) => p.text);
  ck.eq(result.connectReply, [`0{"sid":${JSON.stringify(root.id)}}`], "CONNECT reply (exactly {sid})");
  ck.eq(
    m1.wire.packets("in").filter((p) => p.info && p.info.type === s.T.EVENT).map((p) => p.text),
    ['2["auth",{}]'],
    "auth event on the wire"
  );

  // message -> message-back, any args, binary too, no offset.
  const cases = [[], [1, "two", { three: [3, 3.5], z: null }], [Buffer.from([1, 2, 3]), { b: Buffer.alloc(0) }, "日本 🌊"]];
  result.messageBack = [];
  for (const a of cases) {
    const got = s.nextEvent(root, "message-back", 5000);
    root.emit("message", ...a);
    const r = await ck.attempt("message-back", () => got);
    if (!r) continue;
    result.messageBack.push(s.canon(r));
    ck.eq(r, a, "message-back args");
    const last = m1.wire.packets("in").filter((p) => p.info && (p.info.type === s.T.EVENT || p.info.type === s.T.BINARY_EVENT));
    ck.wire(last[last.length - 1], s.wireOf({ type: s.T.EVENT, nsp: "/", data: ["message-back", ...a] }), "message-back");
  }
  result.ackArgs = [];
  for (const a of cases) {
    const id = root.ids;
    const r = await ck.attempt("message-with-ack", () => s.ack(root, 5000, "message-with-ack", ...a));
    if (!r) continue;
    result.ackArgs.push(s.canon(r));
    ck.eq(r, a, "message-with-ack ack args");
    const acks = m1.wire.packets("in").filter((p) => p.info && (p.info.type === s.T.ACK || p.info.type === s.T.BINARY_ACK) && p.info.id === id);
    ck.wire(acks[0], s.wireOf({ type: s.T.ACK, nsp: "/", id, data: a }), "message-with-ack ack");
  }

  // "/" with an auth payload, /custom, and a refused namespace.
  const m2 = mgr();
  const given = { token: "123", nested: { a: [1, 2], "é": true } };
  const root2 = m2.manager.socket("/", { auth: given });
  const custom = m2.manager.socket("/custom", { auth: { custom: 1 } });
  const auth2 = s.nextEvent(root2, "auth", 5000);
  const auth3 = s.nextEvent(custom, "auth", 5000);
  await Promise.all([s.connect(root2, 5000), s.connect(custom, 5000)]);
  const a2 = await ck.attempt("auth on / with a payload", () => auth2);
  const a3 = await ck.attempt("auth on /custom", () => auth3);
  result.auth.given = a2 && s.canon(a2);
  result.auth.custom = a3 && s.canon(a3);
  if (a2) ck.eq(a2, [given], "auth with a CONNECT payload");
  if (a3) ck.eq(a3, [{ custom: 1 }], "auth on /custom");
  const customReply = m2.wire.packets("in").filter((p) => p.info && p.info.type === s.T.CONNECT && p.info.nsp === "/custom");
  ck.eq(
    customReply.map((p) => p.text),
    [`0/custom,{"sid":${JSON.stringify(custom.id)}}`],
    "/custom CONNECT reply"
  );
  const random = m2.manager.socket("/random");
  const e = await ck.attempt("/random refused", () => s.connectError(random, 5000));
  result.refused = e;
  if (e) {
    ck.eq(e.message, "Invalid namespace", "/random connect_error message");
    ck.eq(e.data, undefined, "/random connect_error data");
  }
  ck.eq(
    m2.wire.findIn("4/random,").map((p) => p.text),
    ['4/random,{"message":"Invalid namespace"}'],
    "/random CONNECT_ERROR on the wire"
  );

  // The raw session is closed by the connect timeout.
  const rs = await ck.attempt("raw Engine.IO session without CONNECT", () => raw);
  if (rs) {
    result.connectTimeout = rs;
    ck.within(rs.openToCloseMs, 800, 2000, "raw session closed after (ms)");
    ck.eq(rs.close.reason, "transport close", "raw session close reason");
    ck.eq(rs.messages, [], "messages on the raw session");
  }

  // Connected sockets outlive the connect timeout.
  await c.sleep(Math.max(0, 1300 - c.elapsed()));
  // (/custom has no handlers: only its connected state is checked.)
  for (const k of [root, root2]) {
    const r = await ck.attempt(`message-with-ack on ${k.nsp} after 1.3 s`, () => s.ack(k, 3000, "message-with-ack", "alive"));
    if (r) ck.eq(r, ["alive"], `${k.nsp} alive after the connect timeout`);
  }
  result.alive = root.connected && root2.connected && custom.connected;
  ck.check(result.alive, "sockets connected after the connect timeout");
  m1.manager._close();
  m2.manager._close();
});
