"use strict";
// eio-echo.js: connect the real engine.io-client to an echo server, check the
// handshake, and check that text (ASCII, multi-byte UTF-8, emoji, empty,
// 60 KB) and binary (Buffer, ArrayBuffer, typed-array view, empty, 100 KiB)
// messages come back intact, in order, exactly once. Two rounds: one right
// after "open" (on the first transport, racing the upgrade if any) and one
// after the upgrade (or simply later, without one).
//
// Flags:
//   --url http://127.0.0.1:PORT   (required)
//   --path /engine.io/
//   --transports polling|websocket|polling,websocket   (default polling,websocket)
//   --upgrade true|false          client upgrade option (default true)
//   --expect-upgrade true|false   default: upgrade && transports has both
//   --timeout 15000               hard deadline, ms
//
// Result: {ok, sid, handshake, initialTransport, finalTransport, upgraded,
//          upgradeAtMs, rounds:[{name, transportAtStart, sent, received, ...}],
//          pollAfterUpgrade:{status, body} (a plain polling GET with the sid after
//          the upgrade; must be 400),
//          totals:{sentText, sentBinary, bytesSent}, close, errors}

const c = require("./lib/common");

const args = c.parseArgs({
  path: "/engine.io/",
  transports: "polling,websocket",
  upgrade: "true",
  timeout: "15000",
});
if (!args.url) c.fail("missing --url");

const transports = args.transports.split(",").filter(Boolean);
const upgrade = c.bool(args.upgrade);
const expectUpgrade =
  args["expect-upgrade"] !== undefined
    ? c.bool(args["expect-upgrade"])
    : upgrade && transports[0] === "polling" && transports.includes("websocket");
const timeout = c.int(args.timeout, "timeout");

// Messages for one round. Text avoids U+001E (the polling payload separator,
// which engine.io-client does not escape) and lone surrogates (not encodable).
function messages(round) {
  const big = Buffer.alloc(100 * 1024);
  for (let i = 0; i < big.length; i++) big[i] = (i * 31 + round * 7) & 0xff;
  const all256 = Buffer.alloc(256);
  for (let i = 0; i < 256; i++) all256[i] = i;
  const ab = new Uint8Array([0, 255, 128, 1, round]).buffer;
  const backing = Buffer.from("xxxxVIEWxxxx");
  const view = new Uint8Array(backing.buffer, backing.byteOffset + 4, 4);
  return [
    `hello ${round}`,
    "",
    "héllo wörld ÿ",
    "日本語のテキスト",
    "emoji 🎉🚀 family 👨‍👩‍👧 flag 🇫🇷",
    "4",
    "2probe",
    "bAQID",
    '{"sid":"x","upgrades":[]}',
    "line1\nline2\r\n\ttab \\ backslash \"quote\"",
    "\u0000nul\u0001\u007f",
    "€".repeat(20000), // 60000 bytes of 3-byte characters
    Buffer.from([1, 2, 3]),
    Buffer.alloc(0),
    ab,
    view,
    all256,
    big,
    `bye ${round}`,
  ];
}

const state = {
  phase: "connecting",
  handshake: null,
  initialTransport: null,
  upgraded: false,
  upgradeAtMs: null,
  upgradeErrors: [],
  rounds: [],
  close: null,
  errors: [],
};
c.hardTimeout(timeout, () => ({ ...state, tracker: tracker && tracker.summary() }));

const { Socket } = c.loadClient();
const socket = new Socket(args.url, c.clientOptions(args, { transports, upgrade }));
const tracker = new c.EchoTracker(socket);

socket.on("handshake", (h) => (state.handshake = h));
socket.on("upgrade", (t) => {
  state.upgraded = true;
  state.upgradeAtMs = c.elapsed();
  c.log("upgraded to", t.name);
});
socket.on("upgradeError", (e) => state.upgradeErrors.push(e.message));
socket.on("error", (e) => c.log("socket error:", e && e.message));
socket.on("close", (reason, desc) => {
  state.close = c.closeInfo(reason, desc);
  if (state.phase !== "closing") c.log("unexpected close:", JSON.stringify(state.close));
});

function check(cond, msg) {
  if (!cond) state.errors.push(msg);
  return cond;
}

function checkHandshake(h) {
  const keys = Object.keys(h).sort().join(",");
  check(keys === "maxPayload,pingInterval,pingTimeout,sid,upgrades", `handshake keys are ${keys}, want maxPayload,pingInterval,pingTimeout,sid,upgrades`);
  check(typeof h.sid === "string" && h.sid.length > 0, `handshake sid ${JSON.stringify(h.sid)} is not a non-empty string`);
  check(Array.isArray(h.upgrades), `handshake upgrades ${JSON.stringify(h.upgrades)} is not an array`);
  for (const k of ["pingInterval", "pingTimeout", "maxPayload"]) {
    check(Number.isInteger(h[k]) && h[k] > 0, `handshake ${k} ${JSON.stringify(h[k])} is not a positive integer`);
  }
  if (transports[0] === "websocket") {
    check(Array.isArray(h.upgrades) && h.upgrades.length === 0, `websocket handshake upgrades ${JSON.stringify(h.upgrades)}, want []`);
  }
  if (expectUpgrade) {
    check(Array.isArray(h.upgrades) && h.upgrades.includes("websocket"), `polling handshake upgrades ${JSON.stringify(h.upgrades)}, want to include "websocket"`);
  }
}

function plainGet(path) {
  const u = new URL(args.url);
  return new Promise((resolve, reject) => {
    const req = require("http").get({ host: u.hostname, port: u.port, path, agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode, body }));
    });
    req.on("error", reject);
    req.setTimeout(3000, () => req.destroy(new Error("polling GET after upgrade: no answer in 3 s")));
  });
}

async function round(name) {
  const msgs = messages(state.rounds.length + 1);
  const r = { name, transportAtStart: socket.transport.name, sent: msgs.length };
  const before = tracker.received;
  for (const m of msgs) tracker.send(m);
  c.log(`round ${name}: sent ${msgs.length} on ${r.transportAtStart}`);
  await tracker.waitAll(8000, 150);
  r.received = tracker.received - before;
  r.transportAtEnd = socket.transport.name;
  state.rounds.push(r);
}

async function main() {
  await c.waitOpen(socket, 5000);
  state.initialTransport = socket.transport.name;
  state.sid = socket.id;
  check(state.initialTransport === transports[0], `initial transport ${state.initialTransport}, want ${transports[0]}`);
  if (!check(state.handshake !== null, "no handshake event before open")) throw new Error(state.errors.join("; "));
  checkHandshake(state.handshake);

  state.phase = "round1";
  await round("afterOpen");
  if (state.close) throw new Error(`session closed during round 1: ${JSON.stringify(state.close)}`);

  if (expectUpgrade && !state.upgraded) {
    state.phase = "waiting for upgrade";
    await c.until(() => state.upgraded || state.upgradeErrors.length > 0 || state.close, 5000, "upgrade event");
    if (!state.upgraded) throw new Error(`no upgrade: errors ${JSON.stringify(state.upgradeErrors)}, close ${JSON.stringify(state.close)}`);
  }

  state.phase = "round2";
  await round(expectUpgrade ? "afterUpgrade" : "second");
  if (state.close) throw new Error(`session closed during round 2: ${JSON.stringify(state.close)}`);

  state.finalTransport = socket.transport.name;
  const wantFinal = expectUpgrade ? "websocket" : transports[0];
  check(state.finalTransport === wantFinal, `final transport ${state.finalTransport}, want ${wantFinal}`);
  if (!expectUpgrade) check(!state.upgraded, "upgrade event fired but no upgrade was expected");
  check(socket.id === state.sid, `sid changed from ${state.sid} to ${socket.id}`);

  // After the upgrade the sid belongs to the WebSocket: a polling GET with it
  // must be refused (reference: 400 {"code":3,"message":"Bad request"}).
  if (state.upgraded) {
    state.pollAfterUpgrade = await plainGet(`${args.path.replace(/\/?$/, "/")}?EIO=4&transport=polling&sid=${encodeURIComponent(state.sid)}`);
    check(state.pollAfterUpgrade.status === 400, `polling GET after upgrade: status ${state.pollAfterUpgrade.status}, want 400`);
  }

  state.phase = "closing";
  socket.close();
  if (!state.close) await c.until(() => state.close, 2000, "close event after socket.close()");
  check(state.close.reason === "forced close", `close reason after socket.close() is ${JSON.stringify(state.close.reason)}, want "forced close"`);
  // Let the client's close packet reach the server before the process exits.
  await c.sleep(50);

  const sum = tracker.summary();
  for (const e of sum.errors) state.errors.push(e);
  check(sum.received === sum.sent, `got ${sum.received} echoes for ${sum.sent} messages`);

  let sentText = 0;
  let sentBinary = 0;
  let bytesSent = 0;
  for (const m of tracker.expected) {
    if (typeof m === "string") {
      sentText++;
      bytesSent += Buffer.byteLength(m);
    } else {
      sentBinary++;
      bytesSent += c.toBuffer(m).length;
    }
  }
  const result = {
    ok: state.errors.length === 0,
    sid: state.sid,
    handshake: state.handshake,
    initialTransport: state.initialTransport,
    finalTransport: state.finalTransport,
    upgraded: state.upgraded,
    upgradeAtMs: state.upgradeAtMs,
    upgradeErrors: state.upgradeErrors,
    pollAfterUpgrade: state.pollAfterUpgrade,
    rounds: state.rounds,
    totals: { sentText, sentBinary, bytesSent, ...sum },
    close: state.close,
    errors: state.errors,
  };
  if (!result.ok) result.error = state.errors.join("; ");
  c.finish(result);
}

main().catch((e) => c.fail(e.message, { ...state, tracker: tracker.summary() }));
