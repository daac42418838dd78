"use strict";
// eio-heartbeat.js: the server-driven heartbeat of Engine.IO v4.
// Phase 1: the client answers pings; the session must stay open for more than
// --intervals ping intervals, with pings about pingInterval apart, and still
// echo a message at the end. Phase 2: the client stops sending pongs (its
// _sendPacket drops "pong"); the server must close the session about
// pingInterval + pingTimeout after the last pong, before the client's own
// timer (pingInterval + pingTimeout after the last ping) would fire.
//
// Flags:
//   --url http://127.0.0.1:PORT   (required)
//   --path /engine.io/
//   --transports websocket|polling      (default websocket)
//   --ping-interval MS --ping-timeout MS  what the server was started with (required;
//                                       the handshake must announce the same values)
//   --intervals 3                 phase 1 lasts more than this many intervals
//   --early-ms 50                 how much earlier than expected a ping or the close
//                                 may come (timers fire late, not early: a server that
//                                 closes early times from the wrong event)
//   --late-ms N                   how much later (load on the machine delays both
//                                 sides; default max(400, 50% of pingInterval+pingTimeout))
//   --timeout 20000
//
// Result: {ok, sid, transport, handshake, pingInterval, pingTimeout,
//          firstPingAfterOpenMs, pingGapsMs:[..], pingsAnswered, openForMs,
//          lastPongAtMs, unansweredPings, unansweredPingAfterLastPongMs,
//          closeAfterLastPongMs, expectedCloseAfterLastPongMs, earlyMs, lateMs,
//          close:{reason, description, wsCloseCode, ...}, errors}

const c = require("./lib/common");

const args = c.parseArgs({
  path: "/engine.io/",
  transports: "websocket",
  intervals: "3",
  timeout: "20000",
});
if (!args.url) c.fail("missing --url");
if (args["ping-interval"] === undefined || args["ping-timeout"] === undefined) {
  c.fail("missing --ping-interval or --ping-timeout (the server's settings)");
}
const pingInterval = c.int(args["ping-interval"], "ping-interval");
const pingTimeout = c.int(args["ping-timeout"], "ping-timeout");
const intervals = c.int(args.intervals, "intervals");
const expected = pingInterval + pingTimeout;
const early = args["early-ms"] !== undefined ? c.int(args["early-ms"], "early-ms") : 50;
const late = args["late-ms"] !== undefined ? c.int(args["late-ms"], "late-ms") : Math.max(400, Math.round(expected * 0.5));
const within = (got, want) => got >= want - early && got <= want + late;
const timeout = c.int(args.timeout, "timeout");
const transports = args.transports.split(",").filter(Boolean);

const state = {
  phase: "connecting",
  openAt: null,
  pings: [], // ms since start, answered or not
  answering: true,
  pingsAnswered: 0,
  lastPongAt: null,
  unanswered: [],
  droppedPongs: 0,
  close: null,
  closeAt: null,
  errors: [],
};
c.hardTimeout(timeout, () => state);

const { Socket } = c.loadClient();
// Before the handshake is sent: the server's open, and its first ping timer, come after.
const startAt = c.elapsed();
const socket = new Socket(args.url, c.clientOptions(args, { transports, upgrade: false }));

// Drop pongs once phase 2 starts. The client's ping handler calls
// _sendPacket("pong") before emitting "ping", so a pong is either sent in full
// or never queued.
const sendPacket = socket._sendPacket;
if (typeof sendPacket !== "function") c.fail("engine.io-client has no Socket#_sendPacket to patch (version changed?)");
socket._sendPacket = function (type, ...rest) {
  if (type === "pong" && !state.answering) {
    state.droppedPongs++;
    return;
  }
  return sendPacket.call(this, type, ...rest);
};

socket.on("ping", () => {
  const now = c.elapsed();
  state.pings.push(now);
  if (state.answering) {
    state.pingsAnswered++;
    state.lastPongAt = now;
    // Enough answered pings and enough time: stop answering from the next one.
    if (state.pingsAnswered >= intervals && now - state.openAt > intervals * pingInterval) {
      state.phase = "stopPongs";
    }
  } else {
    state.unanswered.push(now);
  }
});
socket.on("close", (reason, desc) => {
  state.closeAt = c.elapsed();
  state.close = c.closeInfo(reason, desc);
  c.log("close:", JSON.stringify(state.close));
});

async function main() {
  await c.waitOpen(socket, 5000);
  state.openAt = c.elapsed();
  state.sid = socket.id;
  const h = { pingInterval: socket._pingInterval, pingTimeout: socket._pingTimeout, maxPayload: socket._maxPayload };
  state.handshake = h;
  if (h.pingInterval !== pingInterval || h.pingTimeout !== pingTimeout) {
    throw new Error(`handshake announces pingInterval ${h.pingInterval} pingTimeout ${h.pingTimeout}, want ${pingInterval} ${pingTimeout}`);
  }

  state.phase = "answering";
  await c.until(() => state.phase === "stopPongs" || state.close, (intervals + 2) * pingInterval + pingTimeout + 2000, () => `phase 1 (${state.pingsAnswered} pings answered)`);
  if (state.close) throw new Error(`session closed while the client answered pings: ${JSON.stringify(state.close)}`);

  // Prove the session is alive on the server, not just on the client: echo.
  const echoed = c.once(socket, "message", 2000, "echo at end of phase 1");
  socket.send("alive?");
  const [msg] = await echoed;
  if (msg !== "alive?") throw new Error(`echo at end of phase 1: got ${c.describe(msg)}`);
  state.openForMs = c.elapsed() - state.openAt;

  state.answering = false;
  state.phase = "silent";
  c.log(`stopped answering pongs; last pong at ${state.lastPongAt} ms`);
  await c.until(() => state.close, expected + pingInterval + 3000, "the server to close the session");

  const closeAfter = state.closeAt - state.lastPongAt;
  const gaps = state.pings.slice(1).map((t, i) => t - state.pings[i]);
  const check = (cond, msg) => cond || state.errors.push(msg);
  check(state.pingsAnswered >= intervals, `only ${state.pingsAnswered} pings in phase 1`);
  check(state.openForMs > intervals * pingInterval, `phase 1 lasted ${state.openForMs} ms, want > ${intervals * pingInterval}`);
  // The server arms its first ping when it sends the open packet; the client sees the open
  // later by however long its delivery took (tens of ms on a loaded machine), so the lower
  // bound counts from before the handshake was sent, the upper one from the open.
  const firstPing = state.pings[0] - state.openAt;
  const firstPingFromStart = state.pings[0] - startAt;
  check(firstPingFromStart >= pingInterval - early && firstPing <= pingInterval + late,
    `first ping ${firstPing} ms after open (${firstPingFromStart} ms after the handshake was sent), want ${pingInterval} (-${early}/+${late})`);
  gaps.forEach((g, i) => {
    // Gaps between answered pings are pingInterval + one pong round trip.
    if (i < state.pingsAnswered - 1) check(within(g, pingInterval), `ping gap #${i} is ${g} ms, want ${pingInterval} (-${early}/+${late})`);
  });
  check(state.close.reason === "transport close", `close reason ${JSON.stringify(state.close.reason)}, want "transport close" (closed by the server; "ping timeout" means the client's own timer fired first)`);
  check(within(closeAfter, expected), `session closed ${closeAfter} ms after the last pong, want ${expected} (-${early}/+${late})`);
  check(state.unanswered.length >= 1, "no ping arrived after the client stopped answering");

  const result = {
    ok: state.errors.length === 0,
    sid: state.sid,
    transport: socket.transport ? socket.transport.name : transports[0],
    handshake: state.handshake,
    pingInterval,
    pingTimeout,
    firstPingAfterOpenMs: firstPing,
    pingGapsMs: gaps,
    pingsAnswered: state.pingsAnswered,
    openForMs: state.openForMs,
    lastPongAtMs: state.lastPongAt,
    unansweredPings: state.unanswered.length,
    unansweredPingAfterLastPongMs: state.unanswered.length ? state.unanswered[0] - state.lastPongAt : null,
    droppedPongs: state.droppedPongs,
    closeAfterLastPongMs: closeAfter,
    expectedCloseAfterLastPongMs: expected,
    earlyMs: early,
    lateMs: late,
    close: state.close,
    errors: state.errors,
  };
  if (!result.ok) result.error = state.errors.join("; ");
  c.finish(result);
}

main().catch((e) => c.fail(e.message, state));
