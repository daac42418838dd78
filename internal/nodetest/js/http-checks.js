"use strict";
// http-checks.js: the Engine.IO HTTP surface with Node's plain http module (no
// engine.io-client): handshake, CORS, POST/GET on a session, and every error
// answer. Each check records the request and the full response; "mismatches"
// lists where the response differs from the Node reference (engine.io 6.6 with
// the cors middleware as configured by --cors-origin/--cors-credentials).
//
// Without --expect-reference the script only reports (ok unless a request
// itself failed: refused, reset, timed out); the Go test asserts what it
// wants from "checks". With --expect-reference any mismatch fails the script.
//
// Flags:
//   --url http://127.0.0.1:PORT   (required)
//   --path /engine.io/
//   --origin http://example.com   Origin sent by the CORS checks
//   --cors-origin X               how the server's CORS is configured: absent = no CORS,
//                                 "*", "true" (reflect the request's origin) or an origin
//   --cors-credentials true|false
//   --expect-reference
//   --timeout 30000
//
// Result: {ok, checks:{name:{request:{method,url,headers,body},
//          response:{status, headers:{lower-case name: value}, body, json},
//          expect:{...}, mismatches:[...]}}, order:[names], mismatchCount, errors}

const http = require("http");
const crypto = require("crypto");
const c = require("./lib/common");

const args = c.parseArgs({
  path: "/engine.io/",
  origin: "http://example.com",
  "cors-credentials": "false",
  timeout: "30000",
});
if (!args.url) c.fail("missing --url");
const base = new URL(args.url);
const expectReference = c.bool(args["expect-reference"]);
const corsOrigin = args["cors-origin"];
const corsCredentials = c.bool(args["cors-credentials"]);
const timeout = c.int(args.timeout, "timeout");
const path = args.path.endsWith("/") ? args.path : args.path + "/";

const result = { ok: false, checks: {}, order: [], errors: [] };
c.hardTimeout(timeout, () => result);

function target(query) {
  const q = new URLSearchParams(query).toString();
  return path + (q ? "?" + q : "");
}

// request performs one HTTP request on a fresh connection.
function request({ method = "GET", query = {}, headers = {}, body, upgrade = false, ms = 5000 }) {
  const reqPath = target(query);
  return new Promise((resolve, reject) => {
    const h = Object.assign({}, headers);
    if (upgrade) {
      Object.assign(h, {
        Connection: "Upgrade",
        Upgrade: "websocket",
        "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Key": crypto.randomBytes(16).toString("base64"),
      });
    }
    if (body !== undefined) h["Content-Length"] = Buffer.byteLength(body);
    const req = http.request({ host: base.hostname, port: base.port, method, path: reqPath, headers: h, agent: false });
    const timer = setTimeout(() => {
      req.destroy(new Error(`no response within ${ms} ms`));
    }, ms);
    const done = (v) => {
      clearTimeout(timer);
      resolve(v);
    };
    req.on("error", (e) => {
      clearTimeout(timer);
      reject(new Error(`${method} ${reqPath}: ${e.message}`));
    });
    req.on("upgrade", (res, socket) => {
      socket.destroy();
      done({ status: res.statusCode, headers: res.headers, body: "" });
    });
    req.on("response", (res) => {
      const chunks = [];
      res.on("data", (d) => chunks.push(d));
      res.on("end", () => done({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", (e) => reject(e));
    });
    if (body !== undefined) req.write(body);
    req.end();
  }).then((response) => {
    // Flatten repeated headers (set-cookie) so every value is a string.
    const flat = {};
    for (const [k, v] of Object.entries(response.headers)) flat[k] = Array.isArray(v) ? v.join(", ") : String(v);
    response.headers = flat;
    try {
      response.json = JSON.parse(response.body);
    } catch (e) {
      // not JSON: leave json absent
    }
    return { request: { method, url: reqPath, headers, body }, response };
  });
}

// record stores a check and compares it with the reference expectations:
// expect = {status, json, body, bodyPrefix, headers:{name: value | null (absent)}}.
function record(name, r, expect) {
  const m = [];
  const res = r.response;
  if (expect.status !== undefined && res.status !== expect.status) m.push(`status ${res.status}, want ${expect.status}`);
  if (expect.json !== undefined && JSON.stringify(res.json) !== JSON.stringify(expect.json)) {
    m.push(`body ${JSON.stringify(res.body)}, want JSON ${JSON.stringify(expect.json)}`);
  }
  if (expect.body !== undefined && res.body !== expect.body) m.push(`body ${JSON.stringify(res.body.slice(0, 200))}, want ${JSON.stringify(expect.body)}`);
  if (expect.bodyPrefix !== undefined && !res.body.startsWith(expect.bodyPrefix)) m.push(`body ${JSON.stringify(res.body.slice(0, 200))}, want prefix ${JSON.stringify(expect.bodyPrefix)}`);
  for (const [k, v] of Object.entries(expect.headers || {})) {
    const got = res.headers[k.toLowerCase()];
    if (v === null) {
      if (got !== undefined) m.push(`header ${k}: ${JSON.stringify(got)}, want absent`);
    } else if (got !== v) {
      m.push(`header ${k}: ${JSON.stringify(got)}, want ${JSON.stringify(v)}`);
    }
  }
  result.checks[name] = Object.assign(r, { expect, mismatches: m });
  result.order.push(name);
  if (m.length) c.log(`${name}: ${m.join("; ")}`);
  return r;
}

const errJSON = (code, message) => ({
  status: 400,
  json: { code, message },
  headers: { "content-type": "application/json" },
});

// CORS expectations for a response to a request carrying Origin, following
// the cors package (origin, credentials, methods, reflected allowed headers).
function corsHeaders(preflight) {
  if (corsOrigin === undefined) return { "access-control-allow-origin": null };
  const h = {};
  const specific = corsOrigin !== "*";
  h["access-control-allow-origin"] = corsOrigin === "true" ? args.origin : corsOrigin;
  h["access-control-allow-credentials"] = corsCredentials ? "true" : null;
  if (preflight) {
    h["access-control-allow-methods"] = "GET,HEAD,PUT,PATCH,POST,DELETE";
    h["access-control-allow-headers"] = "content-type";
    h["vary"] = specific ? "Origin, Access-Control-Request-Headers" : "Access-Control-Request-Headers";
    h["content-length"] = "0";
  } else {
    h["vary"] = specific ? "Origin" : null;
  }
  return h;
}

// Without an Origin in the request the cors package still sends a fixed
// origin ("*" or a configured string); a reflecting config ("true") sends none.
function corsHeadersWithoutOrigin() {
  if (corsOrigin === undefined || corsOrigin === "true") return { "access-control-allow-origin": null };
  return { "access-control-allow-origin": corsOrigin };
}

function parseOpen(body) {
  if (!body.startsWith("0")) return null;
  try {
    return JSON.parse(body.slice(1));
  } catch (e) {
    return null;
  }
}

async function main() {
  const EIO = "4";
  const polling = { EIO, transport: "polling" };

  // Handshake.
  const hs = record("handshake", await request({ query: { ...polling, t: "abc" } }), {
    status: 200,
    bodyPrefix: '0{"sid":"',
    headers: { "content-type": "text/plain; charset=UTF-8", "cache-control": "no-store", ...corsHeadersWithoutOrigin() },
  });
  const open = parseOpen(hs.response.body);
  hs.open = open;
  if (!open || typeof open.sid !== "string") throw new Error(`handshake body ${JSON.stringify(hs.response.body)} is not an open packet`);
  const keys = Object.keys(open).join(",");
  if (keys !== "sid,upgrades,pingInterval,pingTimeout,maxPayload") {
    hs.mismatches.push(`open packet keys ${keys}, want sid,upgrades,pingInterval,pingTimeout,maxPayload (in that order)`);
  }
  if (JSON.stringify(open.upgrades) !== '["websocket"]') hs.mismatches.push(`upgrades ${JSON.stringify(open.upgrades)}, want ["websocket"]`);
  const sid = open.sid;
  const withSid = { ...polling, sid };

  // CORS.
  record("handshakeWithOrigin", await request({ query: polling, headers: { Origin: args.origin } }), {
    status: 200,
    bodyPrefix: '0{"sid":"',
    headers: corsHeaders(false),
  });
  const preflightHeaders = { Origin: args.origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type" };
  record(
    "preflight",
    await request({ method: "OPTIONS", query: polling, headers: preflightHeaders }),
    corsOrigin === undefined ? errJSON(2, "Bad handshake method") : { status: 204, body: "", headers: corsHeaders(true) }
  );
  record(
    "preflightWithSid",
    await request({ method: "OPTIONS", query: withSid, headers: preflightHeaders }),
    // Without CORS the reference hands OPTIONS to the polling transport, which answers 500.
    corsOrigin === undefined ? { status: 500, body: "" } : { status: 204, body: "", headers: corsHeaders(true) }
  );

  // Data on the session: POST answers exactly "ok", the next GET carries the echo.
  record("post", await request({ method: "POST", query: withSid, headers: { "Content-Type": "text/plain;charset=UTF-8" }, body: "4hello\x1e4wörld" }), {
    status: 200,
    body: "ok",
    headers: { "content-type": "text/html", "content-length": "2", "cache-control": "no-store" },
  });
  record("pollEcho", await request({ query: withSid }), {
    status: 200,
    body: "4hello\x1e4wörld",
    headers: { "content-type": "text/plain; charset=UTF-8", "cache-control": "no-store" },
  });
  record("postWithOrigin", await request({ method: "POST", query: withSid, headers: { Origin: args.origin, "Content-Type": "text/plain;charset=UTF-8" }, body: "4cors" }), {
    status: 200,
    body: "ok",
    headers: corsHeaders(false),
  });
  record("pollEchoWithOrigin", await request({ query: withSid, headers: { Origin: args.origin } }), {
    status: 200,
    body: "4cors",
    headers: corsHeaders(false),
  });
  record("transportMismatch", await request({ query: { EIO, transport: "websocket", sid } }), errJSON(3, "Bad request"));

  // Two overlapping GETs: the second gets a bare 400, the session closes and
  // the pending one is answered with a close packet; the sid is gone after.
  const first = request({ query: withSid, ms: 8000 });
  await c.sleep(200);
  let second = await request({ query: withSid });
  let firstDone = await first;
  if (firstDone.response.status === 400 && second.response.status === 200) {
    // The machine is so loaded that the second GET reached the server first.
    [firstDone, second] = [second, firstDone];
    firstDone.swapped = second.swapped = true;
  }
  record("overlapSecondGet", second, { status: 400, body: "" });
  record("overlapFirstGet", firstDone, { status: 200, body: "1" });
  record("afterOverlapGet", await request({ query: withSid }), errJSON(1, "Session ID unknown"));

  // A long-poll GET whose connection the client drops closes the session.
  const hs2 = parseOpen((await request({ query: polling })).response.body);
  if (!hs2) throw new Error("second handshake failed");
  const dropped = { ...polling, sid: hs2.sid };
  await new Promise((resolve) => {
    const req = http.request({ host: base.hostname, port: base.port, path: target(dropped), agent: false });
    req.on("error", () => resolve());
    req.on("response", () => resolve()); // not expected: nothing to send yet
    // Drop the connection once the request is on the wire and the server had
    // time to park it.
    req.on("finish", () =>
      setTimeout(() => {
        req.destroy();
        resolve();
      }, 300)
    );
    req.end();
  });
  await c.sleep(100);
  record("droppedPollThenGet", await request({ query: dropped }), errJSON(1, "Session ID unknown"));

  // Error answers.
  const nope = { ...polling, sid: "nope-not-a-session" };
  record("unknownSidGet", await request({ query: nope }), errJSON(1, "Session ID unknown"));
  record("unknownSidPost", await request({ method: "POST", query: nope, body: "4x" }), errJSON(1, "Session ID unknown"));
  record("missingTransport", await request({ query: { EIO } }), errJSON(0, "Transport unknown"));
  record("badTransport", await request({ query: { EIO, transport: "tcp" } }), errJSON(0, "Transport unknown"));
  record("missingEIO", await request({ query: { transport: "polling" } }), errJSON(5, "Unsupported protocol version"));
  record("eio3", await request({ query: { EIO: "3", transport: "polling" } }), errJSON(5, "Unsupported protocol version"));
  record("eio5", await request({ query: { EIO: "5", transport: "polling" } }), errJSON(5, "Unsupported protocol version"));
  record("postHandshake", await request({ method: "POST", query: polling, body: "4x" }), errJSON(2, "Bad handshake method"));
  // Order of checks in the reference: transport, then sid, then method, then EIO.
  record("postHandshakeEIO3", await request({ method: "POST", query: { EIO: "3", transport: "polling" }, body: "4x" }), errJSON(2, "Bad handshake method"));
  record("unknownSidBadTransport", await request({ query: { EIO, transport: "tcp", sid: "nope" } }), errJSON(0, "Transport unknown"));
  record("websocketWithoutUpgrade", await request({ query: { EIO, transport: "websocket" } }), errJSON(3, "Bad request"));
  // A WebSocket upgrade for an unknown sid: the reference writes a raw
  // "HTTP/1.1 400 Bad Request" with a text/html body and closes.
  record("wsUpgradeUnknownSid", await request({ query: { EIO, transport: "websocket", sid: "nope" }, upgrade: true }), {
    status: 400,
    body: "Session ID unknown",
    headers: { "content-type": "text/html" },
  });
  record("wsUpgradeBadTransport", await request({ query: { EIO, transport: "tcp" }, upgrade: true }), {
    status: 400,
    body: "Transport unknown",
  });

  let n = 0;
  for (const name of result.order) n += result.checks[name].mismatches.length;
  result.mismatchCount = n;
  result.ok = !expectReference || n === 0;
  if (!result.ok) {
    result.error = result.order
      .filter((k) => result.checks[k].mismatches.length)
      .map((k) => `${k}: ${result.checks[k].mismatches.join("; ")}`)
      .join(" | ");
  }
  c.finish(result);
}

main().catch((e) => c.fail(e.message, result));
