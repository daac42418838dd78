"use strict";
// eio-maxpayload.js: maxHttpBufferSize (the handshake's maxPayload) on both
// transports, with a bystander session that must not notice.
//
//   bystander        websocket client connected first; echoes before and after
//   pollingAtLimit   polling, one text message whose POST body ("4" + text) is
//                    exactly N bytes: echoed
//   pollingOverLimit polling, POST body N+1 bytes: not echoed; the POST fails
//                    (reference: HTTP 413, client closes with "transport error")
//   wsAtLimit        websocket, text frame payload exactly N bytes, and a
//                    binary frame of exactly N bytes: echoed
//   wsOverLimit      websocket, text frame payload N+1 bytes: not echoed; the
//                    server closes (reference: close code 1009)
//   fresh            a new polling+websocket client after all that: echoes
//
// Flags:
//   --url http://127.0.0.1:PORT   (required)
//   --path /engine.io/
//   --max N                       the server's maxHttpBufferSize (required, >= 64)
//   --expect-codes true           also require HTTP 413 (polling) and close code
//                                 1009 (websocket), as the reference does
//   --timeout 20000
//
// Result: {ok, max, handshakeMaxPayload, bystander:{...}, pollingAtLimit:{...},
//          pollingOverLimit:{bodyBytes, echoed, closed, close:{reason, errorMessage,
//          errorDescription (HTTP status for "xhr post error"), httpStatus}},
//          wsAtLimit:{...}, wsOverLimit:{frameBytes, echoed, closed, close:{reason,
//          description, wsCloseCode, wsCloseReason}}, fresh:{...}, errors}

const c = require("./lib/common");

const args = c.parseArgs({ path: "/engine.io/", "expect-codes": "true", timeout: "20000" });
if (!args.url) c.fail("missing --url");
if (args.max === undefined) c.fail("missing --max (the server's maxHttpBufferSize)");
const max = c.int(args.max, "max");
if (max < 64) c.fail("--max must be >= 64");
const expectCodes = c.bool(args["expect-codes"]);
const timeout = c.int(args.timeout, "timeout");

const { Socket } = c.loadClient();
const result = { ok: false, max, errors: [] };
const check = (cond, msg) => cond || result.errors.push(msg);
c.hardTimeout(timeout, () => result);

// connect opens a client and records its close.
async function connect(transports) {
  const s = new Socket(args.url, c.clientOptions(args, { transports, upgrade: transports.length > 1 }));
  s.closeInfo = null;
  s.on("close", (reason, desc) => (s.closeInfo = c.closeInfo(reason, desc)));
  s.on("error", (e) => c.log(`client error (${transports}):`, e && e.message));
  await c.waitOpen(s, 5000, `${transports} client`);
  return s;
}

// echo sends msgs and waits for all echoes.
async function echo(s, msgs, label) {
  const tracker = new c.EchoTracker(s);
  for (const m of msgs) tracker.send(m);
  try {
    await tracker.waitAll(5000, 50);
  } catch (e) {
    tracker.errors.push(e.message);
  }
  tracker.stop();
  const sum = tracker.summary();
  for (const e of sum.errors) result.errors.push(`${label}: ${e}`);
  return { echoed: sum.received === sum.sent && sum.errors.length === 0, sent: sum.sent, received: sum.received };
}

// overLimit sends one oversized message and waits for the session to close.
async function overLimit(s, msg, label) {
  let echoed = false;
  s.on("message", () => (echoed = true));
  s.send(msg);
  try {
    await c.until(() => s.closeInfo, 5000, `${label}: the session to close`);
  } catch (e) {
    result.errors.push(e.message);
  }
  await c.sleep(50);
  check(!echoed, `${label}: the oversized message was echoed`);
  return { echoed, closed: s.closeInfo !== null, close: s.closeInfo };
}

async function main() {
  const text = (bytes) => "x".repeat(bytes);

  const by = await connect(["websocket"]);
  result.bystander = { before: await echo(by, ["bystander before", Buffer.from([9, 9])], "bystander before") };

  // polling, at the limit: body "4" + (max-1) bytes = max bytes.
  const p1 = await connect(["polling"]);
  result.handshakeMaxPayload = p1._maxPayload;
  if (p1._maxPayload !== max) throw new Error(`handshake maxPayload ${p1._maxPayload}, want ${max} (--max must be the server's maxHttpBufferSize)`);
  result.pollingAtLimit = { bodyBytes: max, ...(await echo(p1, [text(max - 1)], "pollingAtLimit")) };
  check(!p1.closeInfo, `pollingAtLimit: session closed: ${JSON.stringify(p1.closeInfo)}`);
  p1.close();

  // polling, over the limit by one byte.
  const p2 = await connect(["polling"]);
  result.pollingOverLimit = { bodyBytes: max + 1, ...(await overLimit(p2, text(max), "pollingOverLimit")) };
  const pc = result.pollingOverLimit.close;
  if (expectCodes && pc) {
    check(pc.reason === "transport error" && pc.errorMessage === "xhr post error" && pc.errorDescription === 413,
      `pollingOverLimit: client saw ${JSON.stringify(pc)}, want transport error / xhr post error / 413`);
  }

  // websocket, at the limit: text frame "4" + (max-1) bytes, binary frame max bytes.
  const w1 = await connect(["websocket"]);
  result.wsAtLimit = { frameBytes: max, ...(await echo(w1, [text(max - 1), Buffer.alloc(max, 7)], "wsAtLimit")) };
  check(!w1.closeInfo, `wsAtLimit: session closed: ${JSON.stringify(w1.closeInfo)}`);
  w1.close();

  // websocket, over the limit by one byte.
  const w2 = await connect(["websocket"]);
  result.wsOverLimit = { frameBytes: max + 1, ...(await overLimit(w2, text(max), "wsOverLimit")) };
  const wc = result.wsOverLimit.close;
  if (expectCodes && wc) {
    check(wc.wsCloseCode === 1009, `wsOverLimit: client saw ${JSON.stringify(wc)}, want close code 1009`);
  }

  result.bystander.after = await echo(by, ["bystander after", Buffer.alloc(0), "🎉"], "bystander after");
  result.bystander.closed = by.closeInfo;
  check(!by.closeInfo, `bystander closed: ${JSON.stringify(by.closeInfo)}`);
  check(result.bystander.before.echoed && result.bystander.after.echoed, "bystander echoes failed");
  by.close();

  const fresh = await connect(["polling", "websocket"]);
  result.fresh = await echo(fresh, ["fresh", Buffer.from([1])], "fresh");
  fresh.close();
  await c.sleep(50);

  check(result.pollingAtLimit.echoed, "pollingAtLimit: not echoed");
  check(result.wsAtLimit.echoed, "wsAtLimit: not echoed");
  check(result.pollingOverLimit.closed, "pollingOverLimit: session not closed");
  check(result.wsOverLimit.closed, "wsOverLimit: session not closed");
  result.ok = result.errors.length === 0;
  if (!result.ok) result.error = result.errors.join("; ");
  c.finish(result);
}

main().catch((e) => c.fail(e.message, result));
