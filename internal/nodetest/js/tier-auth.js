"use strict";
// tier-auth.js: connects the real socket.io-client once per case and reports what the
// client saw, for the JWT authentication tests of server/tier.
//
// Flags:
//   --cases FILE       (required) JSON array of cases:
//                      {name, url, transport: "polling"|"websocket", auth?, headers?, query?,
//                       expiry?: true, connectOnly?: true}
//                      auth becomes the client's `auth` option, headers its `extraHeaders`,
//                      query its `query`. With expiry the script stays connected and waits
//                      for the server's "error" event and the disconnect that follows.
//                      With connectOnly the "connect" event is enough (servers that do
//                      not emit "whoami", such as cmd/riptide's relay).
//   --timeout 30000
//
// Result: {ok, results: [{name, transport, connected, whoami, connectError: {message, data},
//          errorEvent, disconnectReason, connectedMs, errorMs, disconnectMs}]}
// A case's outcome is data, not a failure: the Go test judges it.

const fs = require("fs");
const { io } = require("socket.io-client");
const c = require("./lib/common");

const args = c.parseArgs({ timeout: "30000" });
if (!args.cases) c.fail("missing --cases");
const cases = JSON.parse(fs.readFileSync(args.cases, "utf8"));
const results = [];
c.hardTimeout(c.int(args.timeout, "timeout"), () => ({ done: results.length, of: cases.length }));

function runCase(k) {
  return new Promise((resolve) => {
    const r = { name: k.name, transport: k.transport, connected: false };
    const start = Date.now();
    const opts = { transports: [k.transport], reconnection: false, forceNew: true, timeout: 5000 };
    if (k.auth !== undefined) opts.auth = k.auth;
    if (k.headers) opts.extraHeaders = k.headers;
    if (k.query) opts.query = k.query;
    const socket = io(k.url, opts);
    const done = () => {
      clearTimeout(timer);
      socket.disconnect();
      resolve(r);
    };
    // Refusals and acceptances arrive well within this; expiry cases wait longer.
    const timer = setTimeout(() => {
      r.timedOut = true;
      done();
    }, k.expiry ? 10000 : 5000);
    socket.on("connect_error", (err) => {
      r.connectError = { message: err.message, data: err.data === undefined ? null : err.data };
      done();
    });
    if (k.connectOnly) {
      socket.on("connect", () => {
        r.connected = true;
        r.connectedMs = Date.now() - start;
        if (!k.expiry) done();
      });
    }
    socket.on("whoami", (user) => {
      r.whoami = user;
      r.connected = true;
      r.connectedMs = Date.now() - start;
      if (!k.expiry) done();
    });
    socket.on("error", (e) => {
      r.errorEvent = e;
      r.errorMs = Date.now() - start;
    });
    socket.on("disconnect", (reason) => {
      r.disconnectReason = reason;
      r.disconnectMs = Date.now() - start;
      if (k.expiry) done();
    });
  });
}

(async () => {
  // Expiry cases run side by side (each waits seconds); the others one at a time.
  const waits = cases.filter((k) => k.expiry).map(runCase);
  for (const k of cases.filter((k) => !k.expiry)) results.push(await runCase(k));
  results.push(...(await Promise.all(waits)));
  c.finish({ ok: true, results });
})();
