"use strict";
// sio-cors.js: CORS on the scenario server's main path (CONTRACT.md 2.1):
// exactly the origin http://allowed.example, with credentials, on
// long-polling requests. Node's http module, one fresh connection per request.
//
// Checks:
//   preflights (OPTIONS, with and without sid, for GET and POST) from the allowed
//   origin: 200 or 204, Access-Control-Allow-Origin: http://allowed.example,
//   Access-Control-Allow-Credentials: true, Allow-Methods listing the requested method,
//   Allow-Headers naming content-type; GET/POST from the allowed origin: the same
//   Allow-Origin and Allow-Credentials; a preflight does not disturb the session (the
//   CONNECT reply still arrives on the next GET); from another origin: no
//   Access-Control-Allow-Origin, or one that is neither that origin nor "*".
//
// Flags:
//   --url http://127.0.0.1:PORT   (required) the scenario listener
//   --timeout 20000
//
// Result: {ok, failures, checks:{name:{request:{method, path, headers},
// response:{status, headers, body}}}, order:[names]}

const http = require("http");
const c = require("./lib/common");
const s = require("./lib/sio");

const args = c.parseArgs({ timeout: "20000" });
if (!args.url) c.fail("missing --url");
const timeout = c.int(args.timeout, "timeout");
const base = new URL(args.url);
const ALLOWED = "http://allowed.example";
const OTHER = "http://other.example";
const result = { ok: false, checks: {}, order: [] };

function request(method, path, headers, body) {
  return new Promise((resolve, reject) => {
    const h = Object.assign({}, headers);
    if (body !== undefined) h["Content-Length"] = Buffer.byteLength(body);
    const req = http.request({ host: base.hostname, port: base.port, method, path, headers: h, agent: false }, (res) => {
      const chunks = [];
      res.on("data", (d) => chunks.push(d));
      res.on("end", () => {
        const flat = {};
        for (const [k, v] of Object.entries(res.headers)) flat[k] = Array.isArray(v) ? v.join(", ") : String(v);
        resolve({ status: res.statusCode, headers: flat, body: Buffer.concat(chunks).toString("utf8") });
      });
    });
    req.setTimeout(5000, () => req.destroy(new Error(`${method} ${path}: no answer within 5000 ms`)));
    req.on("error", reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

async function record(name, method, path, headers, body) {
  const response = await request(method, path, headers, body);
  result.checks[name] = { request: { method, path, headers }, response: Object.assign({}, response, { body: response.body.slice(0, 300) }) };
  result.order.push(name);
  return response;
}

function list(v) {
  return String(v || "")
    .split(",")
    .map((x) => x.trim().toLowerCase())
    .filter(Boolean);
}

function allowedPreflight(ck, name, r, method) {
  ck.check(r.status === 200 || r.status === 204, `${name}: status ${r.status}, want 200 or 204`);
  allowedHeaders(ck, name, r);
  ck.check(list(r.headers["access-control-allow-methods"]).includes(method.toLowerCase()), `${name}: Access-Control-Allow-Methods ${r.headers["access-control-allow-methods"]} lacks ${method}`);
  ck.check(list(r.headers["access-control-allow-headers"]).includes("content-type"), `${name}: Access-Control-Allow-Headers ${r.headers["access-control-allow-headers"]} lacks content-type`);
}

function allowedHeaders(ck, name, r) {
  ck.eq(r.headers["access-control-allow-origin"], ALLOWED, `${name}: Access-Control-Allow-Origin`);
  ck.eq(r.headers["access-control-allow-credentials"], "true", `${name}: Access-Control-Allow-Credentials`);
}

function otherOrigin(ck, name, r) {
  const v = r.headers["access-control-allow-origin"];
  ck.check(v === undefined || (v !== OTHER && v !== "*"), `${name}: Access-Control-Allow-Origin ${JSON.stringify(v)} for origin ${OTHER}: want absent or neither ${OTHER} nor *`);
}

s.run(timeout, result, async (res, ck) => {
  const hs = "/socket.io/?EIO=4&transport=polling";
  const pre = (origin, method) => ({
    Origin: origin,
    "Access-Control-Request-Method": method,
    "Access-Control-Request-Headers": "content-type",
  });

  for (const m of ["GET", "POST"]) {
    const r = await record(`preflight${m}`, "OPTIONS", hs, pre(ALLOWED, m));
    allowedPreflight(ck, `preflight ${m}`, r, m);
  }

  const h = await record("handshake", "GET", hs, { Origin: ALLOWED });
  ck.eq(h.status, 200, "handshake status");
  allowedHeaders(ck, "handshake", h);
  let sid = null;
  try {
    sid = JSON.parse(h.body.slice(1)).sid;
  } catch (e) {
    ck.check(false, `handshake body ${h.body.slice(0, 200)}`);
  }
  const sp = `${hs}&sid=${encodeURIComponent(sid)}`;

  const ps = await record("preflightWithSid", "OPTIONS", sp, pre(ALLOWED, "POST"));
  allowedPreflight(ck, "preflight with sid", ps, "POST");
  const post = await record("post", "POST", sp, { Origin: ALLOWED, "Content-Type": "text/plain;charset=UTF-8" }, "40");
  ck.check(post.status === 200 && post.body === "ok", `POST 40: ${post.status} ${post.body}`);
  allowedHeaders(ck, "POST", post);
  const psg = await record("preflightWithSidGet", "OPTIONS", sp, pre(ALLOWED, "GET"));
  allowedPreflight(ck, "preflight with sid (GET)", psg, "GET");
  const get = await record("get", "GET", sp, { Origin: ALLOWED });
  ck.eq(get.status, 200, "GET status");
  ck.check(/(^|\x1e)40\{"sid":"[^"]+"\}/.test(get.body), `GET after the preflights: ${get.body.slice(0, 200)}, want the CONNECT reply (the session undisturbed)`);
  allowedHeaders(ck, "GET", get);

  // Another origin.
  for (const m of ["GET", "POST"]) {
    const r = await record(`otherPreflight${m}`, "OPTIONS", hs, pre(OTHER, m));
    otherOrigin(ck, `preflight ${m} from another origin`, r);
  }
  const oh = await record("otherHandshake", "GET", hs, { Origin: OTHER });
  otherOrigin(ck, "handshake from another origin", oh);
  const op = await record("otherPost", "POST", sp, { Origin: OTHER, "Content-Type": "text/plain;charset=UTF-8" }, '42["echo","from another origin"]');
  otherOrigin(ck, "POST from another origin", op);
  const og = await record("otherGet", "GET", sp, { Origin: OTHER });
  otherOrigin(ck, "GET from another origin", og);

  // No Origin at all: reported only.
  await record("noOriginHandshake", "GET", hs, {});
});
