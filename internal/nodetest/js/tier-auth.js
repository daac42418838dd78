"use strict";
// tier-auth.js: connects the real socket.io-client once per case and reports what the
// client saw, for the JWT authentication and connection limit tests of server/tier and
// cmd/riptide.
//
// Flags:
//   --cases FILE       (required) JSON array of cases:
//                      {name, url, transport: "polling"|"websocket", auth?, headers?, query?,
//                       expiry?: true, connectOnly?: true, hold?: true, holdMs?: MS,
//                       pingEvery?: MS, release?: [NAME...], retry?: MS,
//                       mint?: {secret, sub, expiresInMs}}
//                      auth becomes the client's `auth` option, headers its `extraHeaders`
//                      (sent on polling and on WebSocket alike in Node), query its `query`.
//                      With expiry the case stays connected and waits for the server's
//                      "error" event and the disconnect that follows.
//                      With connectOnly the "connect" event is enough (servers that do
//                      not emit "whoami", such as cmd/riptide's relay).
//                      With hold the case stays connected until every case that does not
//                      hold has ended (expiry cases included) and holdMs have passed since
//                      it connected, or until a later case releases it; then the client
//                      leaves (released: true, heldMs, disconnectReason
//                      "io client disconnect"). A server disconnect ends it earlier.
//                      pingEvery: while connected, emit "ping" with an ack every MS
//                      (pings and pingAcks count them).
//                      release: before this case starts, the named held cases leave.
//                      retry: while the connection is refused, try again every 50 ms for
//                      up to MS after the case started (attempts counts the tries).
//                      mint: just before connecting, sign an HS256 token {sub, exp} with
//                      jose, exp = now + expiresInMs rounded up to a second, and connect
//                      with auth {token} (result: exp, Unix seconds). A short-lived token
//                      minted by the Go test could expire while node starts.
//   --timeout 30000
//
// Cases start in order, each once the one before has connected or been refused; expiry and
// hold cases then go on in the background while the next ones run, so a held connection
// is open when the next case connects.
//
// Result: {ok, results: [{name, transport, connected, whoami,
//          connectError: {message, description, data}, errorEvent, disconnectReason,
//          released, heldMs, heartbeats, pings, pingAcks, attempts, exp, timedOut,
//          startAt, connectedMs, errorMs, disconnectMs}]}, in case order.
// connectError.description is the transport's detail: the HTTP status of a refused polling
// handshake, the ws error message ("Unexpected server response: 503") of a WebSocket one.
// heartbeats counts the Engine.IO pings the client got (and answered). startAt is the
// case's start (Unix ms); the other *Ms times count from it.
// A case's outcome is data, not a failure: the Go test judges it.

const fs = require("fs");
const jose = require("jose");
const { io } = require("socket.io-client");
const c = require("./lib/common");

const args = c.parseArgs({ timeout: "30000" });
if (!args.cases) c.fail("missing --cases");
const cases = JSON.parse(fs.readFileSync(args.cases, "utf8"));
let ended = 0;
c.hardTimeout(c.int(args.timeout, "timeout"), () => ({ done: ended, of: cases.length }));

const failed = (e) => c.fail(e.stack || String(e));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const held = new Map(); // name -> {release(), connectedAt}
const leaving = []; // the Engine.IO sockets of the clients that connected and left

// describe turns a transport error's description into JSON: a number (polling's HTTP
// status), or the message of the ws ErrorEvent.
function describe(d) {
  if (d === undefined || d === null) return null;
  if (typeof d === "number" || typeof d === "string") return d;
  return String(d.message || (d.error && d.error.message) || d);
}

// runCase starts case k. settled resolves once it has connected or been refused; ended
// resolves with its result once it is over.
function runCase(k) {
  const r = { name: k.name, transport: k.transport, connected: false, attempts: 0, heartbeats: 0 };
  const startAt = Date.now();
  r.startAt = startAt;
  const since = () => Date.now() - startAt;
  const stays = k.expiry || k.hold;
  let settle, end;
  const settled = new Promise((res) => (settle = res));
  const done = new Promise((res) => (end = res));

  const attempt = async () => {
    r.attempts++;
    const opts = { transports: [k.transport], reconnection: false, forceNew: true, timeout: 5000 };
    if (k.auth !== undefined) opts.auth = k.auth;
    if (k.mint) {
      r.exp = Math.ceil((Date.now() + k.mint.expiresInMs) / 1000);
      const key = new TextEncoder().encode(k.mint.secret);
      const token = await new jose.SignJWT({ sub: k.mint.sub, exp: r.exp }).setProtectedHeader({ alg: "HS256", typ: "JWT" }).sign(key);
      opts.auth = { token };
    }
    if (k.headers) opts.extraHeaders = k.headers;
    if (k.query) opts.query = k.query;
    const socket = io(k.url, opts);
    let over = false;
    let pinger = null;
    const finish = () => {
      if (over) return;
      over = true;
      clearTimeout(timer);
      clearInterval(pinger);
      held.delete(k.name);
      if (r.connected && socket.io.engine) leaving.push(socket.io.engine);
      socket.disconnect();
      ended++;
      settle();
      end(r);
    };
    // Refusals and acceptances arrive well within this; expiry cases wait longer, and a
    // held case is bounded by --timeout once it has connected.
    const timer = setTimeout(() => {
      r.timedOut = true;
      finish();
    }, k.expiry ? 10000 : 5000);
    socket.io.on("ping", () => r.heartbeats++);
    socket.on("connect_error", (err) => {
      if (k.retry && since() + 50 < k.retry) {
        over = true;
        clearTimeout(timer);
        socket.disconnect();
        setTimeout(() => attempt().catch(failed), 50);
        return;
      }
      r.connectError = {
        message: err.message,
        description: describe(err.description),
        data: err.data === undefined ? null : err.data,
      };
      finish();
    });
    const connected = () => {
      if (r.connected) return;
      r.connected = true;
      r.connectedMs = since();
      if (k.pingEvery) {
        r.pings = 0;
        r.pingAcks = 0;
        pinger = setInterval(() => {
          r.pings++;
          socket.timeout(2000).emit("ping", r.pings, (err) => {
            if (!err) r.pingAcks++;
          });
        }, k.pingEvery);
      }
      if (k.hold) {
        clearTimeout(timer);
        held.set(k.name, {
          connectedAt: Date.now(),
          release: () => {
            r.released = true;
            r.heldMs = since() - r.connectedMs;
            finish();
          },
        });
      }
      if (stays) settle();
      else finish();
    };
    if (k.connectOnly) socket.on("connect", connected);
    socket.on("whoami", (user) => {
      r.whoami = user;
      connected();
    });
    socket.on("error", (e) => {
      r.errorEvent = e;
      r.errorMs = since();
    });
    socket.on("disconnect", (reason) => {
      r.disconnectReason = reason;
      r.disconnectMs = since();
      if (stays) finish();
    });
  };
  attempt().catch(failed);
  return { settled, done };
}

// release makes the held case name leave, once it has been connected for its holdMs.
async function release(name) {
  const h = held.get(name);
  if (!h) return;
  const k = cases.find((x) => x.name === name);
  const until = h.connectedAt + (k.holdMs || 0);
  // A timer may fire a millisecond early; heldMs must not fall short of holdMs.
  while (Date.now() < until) await sleep(until - Date.now());
  h.release();
}

(async () => {
  const running = [];
  for (const k of cases) {
    for (const name of k.release || []) await release(name);
    const run = runCase(k);
    running.push({ k, done: run.done });
    await run.settled;
  }
  await Promise.all(running.filter((x) => !x.k.hold).map((x) => x.done));
  for (const name of [...held.keys()]) await release(name);
  const results = await Promise.all(running.map((x) => x.done));
  // A polling client leaves with a POST of its close packet (after the one of its
  // disconnect packet), which the server answers once the session is gone: wait for those
  // to complete (at most 2 s), so the next test sees the sessions closed. A WebSocket
  // client's close frame is sent at once.
  const until = Date.now() + 2000;
  const pending = (e) => e.transport.name === "polling" && (e.readyState !== "closed" || !e.transport.writable);
  while (leaving.some(pending) && Date.now() < until) await sleep(10);
  await sleep(20);
  c.finish({ ok: true, results });
})().catch(failed);
