"use strict";
// eio-upgrade-traffic.js: a polling -> websocket upgrade while both directions
// carry traffic. One message every --interval-ms from "open" (before the probe)
// until well after the "upgrade" event; every 10th message is binary. Every
// echo must arrive exactly once and in order, and "upgrade" must fire with
// messages sent both before and after it.
//
// Flags:
//   --url http://127.0.0.1:PORT   (required)
//   --path /engine.io/
//   --count 300                   minimum number of messages
//   --interval-ms 2
//   --after-upgrade 50            keep sending until this many went after "upgrade"
//   --probe-after 100             start the websocket probe only once this many
//                                 messages were sent (engine.io-client probes right
//                                 after "open"; on loopback the upgrade would then be
//                                 done after 2-3 messages). 0 = the library's timing.
//   --timeout 15000
//
// Result: {ok, sid, upgraded, finalTransport, sent, received,
//          sentBeforeUpgrading, sentWhileUpgrading, sentAfterUpgrade,
//          probeAtMs, upgradingAtMs, upgradeAtMs, lastEchoAtMs, receivedByTransport,
//          noopPackets, errors}

const c = require("./lib/common");

const args = c.parseArgs({
  path: "/engine.io/",
  count: "300",
  "interval-ms": "2",
  "after-upgrade": "50",
  "probe-after": "100",
  timeout: "15000",
});
if (!args.url) c.fail("missing --url");
const count = c.int(args.count, "count");
const intervalMs = c.int(args["interval-ms"], "interval-ms");
const afterUpgrade = c.int(args["after-upgrade"], "after-upgrade");
const timeout = c.int(args.timeout, "timeout");
const probeAfter = c.int(args["probe-after"], "probe-after");
const maxCount = count * 10;

const state = {
  phase: "connecting",
  sent: 0,
  upgradingAtMs: null,
  upgradeAtMs: null,
  sentBeforeUpgrading: null,
  sentAtUpgrade: null,
  upgradeErrors: [],
  noopPackets: 0,
  close: null,
  errors: [],
};
c.hardTimeout(timeout, () => ({ ...state, tracker: tracker.summary() }));

const { Socket } = c.loadClient();
const socket = new Socket(args.url, c.clientOptions(args, { transports: ["polling", "websocket"], upgrade: true }));
const tracker = new c.EchoTracker(socket);

// Delay the probe: onOpen() calls this._probe(name) for each upgrade; the
// probe itself (and the whole upgrade) stays the library's own code.
if (probeAfter > 0) {
  const probe = socket._probe;
  if (typeof probe !== "function") c.fail("engine.io-client has no Socket#_probe to delay (version changed?)");
  socket._probe = function (name) {
    c.log(`delaying the ${name} probe until ${probeAfter} messages are sent`);
    c.until(() => state.sent >= probeAfter || state.close, timeout, "messages before the probe").then(() => {
      state.probeAtMs = c.elapsed();
      if (socket.readyState === "open") probe.call(socket, name);
    }, () => {});
  };
}

socket.on("upgrading", () => {
  state.upgradingAtMs = c.elapsed();
  state.sentBeforeUpgrading = state.sent;
  c.log(`upgrading after ${state.sent} messages`);
});
socket.on("upgrade", () => {
  state.upgradeAtMs = c.elapsed();
  state.sentAtUpgrade = state.sent;
  c.log(`upgraded after ${state.sent} messages`);
});
socket.on("upgradeError", (e) => state.upgradeErrors.push(e.message));
socket.on("packet", (p) => {
  if (p.type === "noop") state.noopPackets++;
});
socket.on("close", (reason, desc) => {
  state.close = c.closeInfo(reason, desc);
  if (state.phase !== "closing") c.log("unexpected close:", JSON.stringify(state.close));
});

function message(i) {
  if (i % 10 === 9) {
    const b = Buffer.alloc(8 + (i % 50));
    b.writeUInt32BE(i, 0);
    b.fill(i & 0xff, 4);
    return b;
  }
  return `m${i} ${"é".repeat(i % 20)}🚀`;
}

function done() {
  return (state.sent >= Math.max(count, probeAfter) && state.upgradeAtMs !== null && state.sent - state.sentAtUpgrade >= afterUpgrade) || state.sent >= maxCount;
}

async function main() {
  // Start sending in the "open" handler itself: engine.io-client starts the
  // websocket probe right after emitting "open", so the first messages are
  // queued on polling before the probe exists.
  const sending = new Promise((resolve) => {
    socket.once("open", () => {
      state.phase = "sending";
      state.sid = socket.id;
      tracker.send(message(state.sent++));
      const timer = setInterval(() => {
        if (state.close || done()) {
          clearInterval(timer);
          resolve();
          return;
        }
        tracker.send(message(state.sent++));
      }, intervalMs);
    });
  });
  await c.waitOpen(socket, 5000);
  await sending;
  if (state.close) throw new Error(`session closed while sending: ${JSON.stringify(state.close)}`);

  state.phase = "draining";
  await tracker.waitAll(8000, 200);
  state.lastEchoAtMs = c.elapsed();

  const check = (cond, msg) => cond || state.errors.push(msg);
  check(state.upgradeAtMs !== null, `no upgrade event (upgradeErrors ${JSON.stringify(state.upgradeErrors)})`);
  check(socket.transport.name === "websocket", `final transport ${socket.transport.name}, want websocket`);
  check(state.sentBeforeUpgrading > 0, `no message sent before the upgrade started (sentBeforeUpgrading ${state.sentBeforeUpgrading})`);
  check(state.sentAtUpgrade !== null && state.sent - state.sentAtUpgrade >= afterUpgrade, `only ${state.sent - state.sentAtUpgrade} messages sent after the upgrade`);
  check(!state.close, `unexpected close ${JSON.stringify(state.close)}`);
  check(socket.id === state.sid, `sid changed from ${state.sid} to ${socket.id}`);
  const sum = tracker.summary();
  for (const e of sum.errors) state.errors.push(e);
  check(sum.received === sum.sent, `got ${sum.received} echoes for ${sum.sent} messages`);

  state.phase = "closing";
  socket.close();
  await c.sleep(50);

  const result = {
    ok: state.errors.length === 0,
    sid: state.sid,
    upgraded: state.upgradeAtMs !== null,
    finalTransport: socket.transport.name,
    sent: sum.sent,
    received: sum.received,
    sentBeforeUpgrading: state.sentBeforeUpgrading,
    sentWhileUpgrading: state.sentAtUpgrade === null ? null : state.sentAtUpgrade - state.sentBeforeUpgrading,
    sentAfterUpgrade: state.sentAtUpgrade === null ? null : state.sent - state.sentAtUpgrade,
    probeAtMs: state.probeAtMs === undefined ? null : state.probeAtMs,
    upgradingAtMs: state.upgradingAtMs,
    upgradeAtMs: state.upgradeAtMs,
    lastEchoAtMs: state.lastEchoAtMs,
    receivedByTransport: sum.receivedByTransport,
    receivedBinary: sum.receivedBinary,
    noopPackets: state.noopPackets,
    upgradeErrors: state.upgradeErrors,
    errors: state.errors,
  };
  if (!result.ok) result.error = state.errors.join("; ");
  c.finish(result);
}

main().catch((e) => c.fail(e.message, { ...state, tracker: tracker.summary() }));
