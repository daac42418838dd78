"use strict";
// tier-steps.js: drives several real socket.io-client sockets through a scripted scenario
// and reports what each step saw, for the policy tests of server/tier and cmd/riptide.
//
// Flags:
//   --scenario FILE   (required) JSON:
//     {url, transport: "polling"|"websocket",
//      clients: {NAME: {auth?, query?, url?, nsp?}},
//                                                   (url: another server than the scenario's;
//                                                   nsp: a namespace appended to the URL)
//      steps: [
//        {c: NAME, connect: true}                   connect; result {connected, error?}
//        {c: NAME, emit: EVENT, args: [...], ack: true|false}
//                                                   (an argument "$id:NAME" is NAME's socket id)
//                                                   emit; with ack the result is {ack: [...]}
//                                                   (or {timeout: true} after 3 s)
//        {c: NAME, expect: EVENT, ms?: 3000, with?}  the next unread EVENT the client got
//                                                   (with: only one whose arguments hold this
//                                                   text, "$id:NAME" allowed):
//                                                   {args: [...]} or {timeout: true}
//        {c: NAME, none: EVENT, ms?: 300}           {got: [...]} if EVENT arrives within ms,
//                                                   else {timeout: true}
//        {c: NAME, disconnect: true}                the client leaves; result {}
//        {c: NAME, expectDisconnect: true, ms?}     waits for the server to drop the
//                                                   client: {reason} or {timeout: true}
//        {sleep: MS}
//        {http: {method?, url, body?, headers?}}     an HTTP request (a backend, an API):
//                                                   {status, body} (body parsed as JSON)
//      ]}
//   --timeout 60000
//
// Result: {ok, results: [one object per step]}. The Go test judges the results.

const fs = require("fs");
const { io } = require("socket.io-client");
const c = require("./lib/common");

const args = c.parseArgs({ timeout: "60000" });
if (!args.scenario) c.fail("missing --scenario");
const sc = JSON.parse(fs.readFileSync(args.scenario, "utf8"));
const results = [];
c.hardTimeout(c.int(args.timeout, "timeout"), () => ({ done: results.length, of: sc.steps.length, results }));

const clients = {};

function client(name) {
  if (clients[name]) return clients[name];
  const def = (sc.clients || {})[name] || {};
  const opts = { transports: [sc.transport], reconnection: false, forceNew: true, autoConnect: false, timeout: 5000 };
  if (def.auth !== undefined) opts.auth = def.auth;
  if (def.query) opts.query = def.query;
  const socket = io((def.url || sc.url) + (def.nsp || ""), opts);
  const cl = { socket, inbox: [], waiters: [], disconnected: null, onDisconnect: null };
  socket.onAny((event, ...a) => {
    cl.inbox.push({ event, args: a });
    for (const w of cl.waiters.slice()) w();
  });
  socket.on("disconnect", (reason) => {
    cl.disconnected = reason;
    if (cl.onDisconnect) cl.onDisconnect(reason);
  });
  clients[name] = cl;
  return cl;
}

// take waits up to ms for the first unread event named event and removes it from the inbox.
function take(cl, event, ms, withText) {
  return new Promise((resolve) => {
    const look = () => {
      const i = cl.inbox.findIndex((m) => m.event === event && (withText === undefined || JSON.stringify(m.args).includes(withText)));
      if (i < 0) return false;
      const m = cl.inbox.splice(i, 1)[0];
      done({ args: m.args });
      return true;
    };
    let timer;
    const w = () => look();
    const done = (r) => {
      clearTimeout(timer);
      cl.waiters = cl.waiters.filter((x) => x !== w);
      resolve(r);
    };
    if (look()) return;
    cl.waiters.push(w);
    timer = setTimeout(() => done({ timeout: true }), ms);
  });
}

// resolve replaces "$id:NAME" with the socket id of client NAME.
function resolve(v) {
  return typeof v === "string" && v.startsWith("$id:") ? client(v.slice(4)).socket.id : v;
}

async function step(s) {
  if (s.sleep) {
    await new Promise((r) => setTimeout(r, s.sleep));
    return {};
  }
  if (s.http) {
    const h = s.http;
    const r = await fetch(h.url, {
      method: h.method || (h.body === undefined ? "GET" : "POST"),
      headers: Object.assign({ "Content-Type": "application/json" }, h.headers || {}),
      body: h.body === undefined ? undefined : JSON.stringify(h.body),
    });
    const text = await r.text();
    let body = text;
    try {
      body = JSON.parse(text);
    } catch (e) {}
    return { status: r.status, body };
  }
  const cl = client(s.c);
  const sock = cl.socket;
  if (s.connect) {
    return new Promise((resolve) => {
      sock.once("connect", () => resolve({ connected: true, id: sock.id }));
      sock.once("connect_error", (err) => resolve({ connected: false, error: { message: err.message, data: err.data } }));
      sock.connect();
    });
  }
  if (s.emit !== undefined) {
    const a = (s.args || []).map(resolve);
    if (!s.ack) {
      sock.emit(s.emit, ...a);
      return {};
    }
    return new Promise((resolve) => {
      sock.timeout(3000).emit(s.emit, ...a, (err, ...reply) => {
        resolve(err ? { timeout: true } : { ack: reply });
      });
    });
  }
  if (s.expect) return take(cl, s.expect, s.ms || 3000, s.with === undefined ? undefined : resolve(s.with));
  if (s.none) {
    const r = await take(cl, s.none, s.ms || 300);
    return r.timeout ? { timeout: true } : { got: r.args };
  }
  if (s.disconnect) {
    sock.disconnect();
    return {};
  }
  if (s.expectDisconnect) {
    if (cl.disconnected) return { reason: cl.disconnected };
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve({ timeout: true }), s.ms || 3000);
      cl.onDisconnect = (reason) => {
        clearTimeout(timer);
        resolve({ reason });
      };
    });
  }
  c.fail("unknown step " + JSON.stringify(s));
}

(async () => {
  for (const s of sc.steps) results.push(await step(s));
  for (const cl of Object.values(clients)) cl.socket.disconnect();
  await new Promise((r) => setTimeout(r, 100)); // let the polling clients' disconnects go out
  c.finish({ ok: true, results });
})().catch((e) => c.fail(e.stack || String(e)));
