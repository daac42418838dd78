"use strict";
// sio-limits.js: maxHttpBufferSize = 1,000,000 bytes on the scenario server's
// main path (CONTRACT.md 2.1, "Semantics"), with socket.io-client 4.8 and, for
// exact byte counts on long-polling, Node's http module.
//
// Flags:
//   --url http://127.0.0.1:PORT   (required) the scenario listener
//   --scenario NAME               one of:
//     near-limit        (--transports polling|websocket) a 999,000-byte string, ~900 kB of
//                       multi-byte UTF-8 and a buffer (999,000 bytes on websocket, 700,000
//                       on polling, where base64 grows it by a third) are echoed intact; on
//                       websocket also two 600,000-byte attachments in one event (each
//                       frame is measured on its own).
//     ws-oversize       WebSocket messages over the limit (a 1,000,100-byte string, 1.2 MB
//                       of UTF-8 in 400,000 characters, a 1,000,001-byte attachment) close
//                       that connection (close code 1009 expected from the reference;
//                       any close is accepted, the code is reported) and are not echoed;
//                       bystanders on both transports are unaffected; new clients connect.
//     polling-oversize  the same over long-polling with the client: the POST is refused
//                       (the client reports "transport error"), nothing is echoed,
//                       bystanders unaffected, new clients connect.
//     polling-raw       raw HTTP: a POST body of exactly 1,000,000 bytes is accepted and
//                       echoed; 1,000,001 bytes are refused with 413 (400 or a closed
//                       connection tolerated, reported as overStatus) and none of the
//                       body's packets is processed; reports whether the session
//                       survived (sessionAfter: "open" | "closed").
//   --timeout 30000
//
// Result: {ok, scenario, failures, ...facts (see each function)}

const http = require("http");
const c = require("./lib/common");
const s = require("./lib/sio");

const args = c.parseArgs({ transports: "websocket", scenario: "", timeout: "30000" });
if (!args.url) c.fail("missing --url");
const transports = s.transportsFlag(args.transports);
const timeout = c.int(args.timeout, "timeout");
const base = new URL(args.url);
const LIMIT = 1000000;
const result = { ok: false, scenario: args.scenario, transports: args.transports };

function mgr(t) {
  return s.newManager(args.url, { transports: t || transports, timeout: 10000 });
}

function multiByte(bytes) {
  // "aé日🌊" is 10 bytes of UTF-8 in 5 UTF-16 units.
  return "aé日🌊".repeat(Math.floor(bytes / 10));
}

function describeArg(v) {
  if (typeof v === "string") return { kind: "string", chars: v.length, bytes: Buffer.byteLength(v), sha: s.sha(v) };
  const b = c.toBuffer(v);
  if (b) return { kind: "binary", bytes: b.length, sha: s.sha(b) };
  return { kind: typeof v, value: s.short(v, 80) };
}

function sameArg(a, b) {
  if (typeof a === "string") return typeof b === "string" && a === b;
  const x = c.toBuffer(a);
  const y = c.toBuffer(b);
  return !!x && !!y && x.equals(y);
}

// echoBig emits echo(v) and waits for it back.
async function echoBig(ck, k, v, what) {
  const got = s.nextEvent(k, "echo", 15000);
  const t0 = Date.now();
  k.emit("echo", v);
  const a = await ck.attempt(what, () => got);
  const r = { sent: describeArg(v), ms: Date.now() - t0 };
  if (a) {
    r.got = a.map(describeArg);
    ck.check(a.length === 1 && sameArg(v, a[0]), `${what}: sent ${JSON.stringify(r.sent)}, got ${JSON.stringify(r.got)}`);
  }
  return r;
}

async function nearLimit(ck) {
  const { manager, wire } = mgr();
  const k = manager.socket("/");
  await s.connect(k, 5000);
  if (transports.length === 2) await s.waitUpgrade(manager, 5000);
  const engineId = wire.engineId();
  const out = {};
  result.nearLimit = out;
  out.ascii = await echoBig(ck, k, "x".repeat(999000), "999,000-byte string");
  out.utf8 = await echoBig(ck, k, multiByte(900000), "900,000 bytes of multi-byte UTF-8");
  const binSize = transports.includes("websocket") ? 999000 : 700000;
  const buf = Buffer.alloc(binSize);
  for (let i = 0; i < buf.length; i++) buf[i] = (i * 7 + 3) & 255;
  out.binary = await echoBig(ck, k, buf, `${binSize}-byte buffer`);
  if (transports.includes("websocket")) {
    // Each attachment is its own frame, measured on its own: two 600,000-byte
    // buffers in one event (1.2 MB together) are accepted.
    const a = Buffer.alloc(600000, 0xa1);
    const b = Buffer.alloc(600000, 0xb2);
    const got = s.nextEvent(k, "echo", 15000);
    k.emit("echo", a, { b });
    const r2 = await ck.attempt("two 600,000-byte attachments", () => got);
    out.twoAttachments = r2 ? r2.map((x) => (c.isBinary(x) ? describeArg(x) : { b: describeArg(x.b) })) : null;
    ck.check(r2 && r2.length === 2 && sameArg(a, r2[0]) && r2[1] && sameArg(b, r2[1].b), `two 600,000-byte attachments: ${JSON.stringify(out.twoAttachments)}`);
  }
  const r = await ck.attempt("echo-ack after the big messages", () => s.ack(k, 5000, "echo-ack", "small"));
  if (r) ck.eq(r, ["small"], "echo-ack after the big messages");
  ck.eq(wire.engineId(), engineId, "engine id");
  ck.check(wire.engines.length === 1 && !wire.engines[0].close, `connection closed: ${JSON.stringify(wire.engines[0].close)}`);
  manager._close();
}

// bystanders connects one client per transport and returns a check function.
async function bystanders(ck) {
  const list = [];
  for (const t of [["websocket"], ["polling"]]) {
    const m = mgr(t);
    const k = m.manager.socket("/ns-1");
    await s.connect(k, 5000);
    const r = await s.ack(k, 5000, "echo-ack", "before");
    ck.eq(r, ["before"], `bystander ${t} before`);
    const disconnects = [];
    k.on("disconnect", (reason) => disconnects.push(reason));
    list.push({ t: t[0], m, k, engineId: m.wire.engineId(), disconnects });
  }
  return async () => {
    const out = [];
    for (const b of list) {
      const r = await ck.attempt(`bystander ${b.t} after`, () => s.ack(b.k, 5000, "echo-ack", "after", b.t));
      if (r) ck.eq(r, ["after", b.t], `bystander ${b.t} after`);
      ck.eq(b.disconnects, [], `bystander ${b.t} disconnects`);
      ck.eq(b.m.wire.engineId(), b.engineId, `bystander ${b.t} engine id`);
      out.push({ transport: b.t, disconnects: [...b.disconnects], same: b.m.wire.engineId() === b.engineId });
      b.m.manager._close();
    }
    return out;
  };
}

async function fresh(ck, t) {
  const m = mgr(t);
  const k = m.manager.socket("/");
  const ok = await ck.attempt(`a new ${t} client after the oversized messages`, async () => {
    await s.connect(k, 5000);
    return s.ack(k, 5000, "echo-ack", "fresh");
  });
  if (ok) ck.eq(ok, ["fresh"], `new ${t} client`);
  m.manager._close();
  return !!ok;
}

// oversize sends one oversized message per victim connection and reports how
// each connection ended.
async function oversize(ck, t, victims, expect) {
  const after = await bystanders(ck);
  const out = { victims: [] };
  result.oversize = out;
  for (const v of victims) {
    const { manager, wire } = mgr([t]);
    const k = manager.socket("/");
    await s.connect(k, 5000);
    const echoes = [];
    k.on("echo", (...a) => echoes.push(a));
    const disc = s.nextEvent(k, "disconnect", 5000);
    k.emit("echo", v.value());
    // An echo instead of a disconnect fails at once.
    const echoed = c.until(() => echoes.length > 0, 5000, "").then(
      () => Promise.reject(new Error("the oversized message was echoed")),
      () => new Promise(() => {})
    );
    const d = await ck.attempt(`${v.name}: disconnect`, () => Promise.race([disc, echoed]));
    await c.sleep(100);
    const rec = { name: v.name, bytes: v.bytes, disconnectReason: d && d[0], engineClose: wire.engines[0].close, echoed: echoes.length };
    out.victims.push(rec);
    ck.eq(echoes.length, 0, `${v.name}: echoes of the oversized message`);
    expect(ck, rec);
    manager._close();
  }
  out.bystanders = await after();
  out.freshWebsocket = await fresh(ck, ["websocket"]);
  out.freshPolling = await fresh(ck, ["polling"]);
}

async function wsOversize(ck) {
  await oversize(
    ck,
    "websocket",
    [
      { name: "1,000,100-byte string", bytes: 1000100 + 13, value: () => "x".repeat(1000100) },
      { name: "1.2 MB of UTF-8 in 400,000 characters", bytes: 1200000 + 13, value: () => "日".repeat(400000) },
      { name: "1,000,001-byte attachment", bytes: 1000001, value: () => Buffer.alloc(1000001, 1) },
    ],
    (ck, rec) => {
      ck.check(["transport close", "transport error"].includes(rec.disconnectReason), `${rec.name}: disconnect reason ${rec.disconnectReason}`);
    }
  );
}

async function pollingOversize(ck) {
  await oversize(
    ck,
    "polling",
    [
      { name: "1,000,100-byte string", bytes: 1000100 + 13, value: () => "x".repeat(1000100) },
      { name: "1.2 MB of UTF-8 in 400,000 characters", bytes: 1200000 + 13, value: () => "日".repeat(400000) },
    ],
    (ck, rec) => {
      ck.check(["transport error", "transport close"].includes(rec.disconnectReason), `${rec.name}: disconnect reason ${rec.disconnectReason}`);
      const st = rec.engineClose && rec.engineClose.httpStatus;
      ck.check(st === undefined || st === 413 || st === 400 || st === 0, `${rec.name}: HTTP status ${st}, want 413 (400 or a closed connection tolerated)`);
    }
  );
}

// ---------------------------------------------------------------------------
// Raw long-polling.

// request sends one HTTP request on a fresh connection; resolves with
// {status, body} or {error} when the connection breaks before an answer.
function request(method, path, body) {
  return new Promise((resolve) => {
    const headers = {};
    if (body !== undefined) {
      headers["Content-Type"] = "text/plain;charset=UTF-8";
      headers["Content-Length"] = Buffer.byteLength(body);
    }
    let done = false;
    const finish = (v) => {
      if (!done) {
        done = true;
        resolve(v);
      }
    };
    const req = http.request({ host: base.hostname, port: base.port, method, path, headers, agent: false }, (res) => {
      const chunks = [];
      res.on("data", (d) => chunks.push(d));
      res.on("end", () => finish({ status: res.statusCode, body: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", (e) => finish({ status: res.statusCode, error: e.message }));
    });
    req.setTimeout(10000, () => req.destroy(new Error("no answer within 10000 ms")));
    req.on("error", (e) => finish({ error: e.message }));
    if (body !== undefined) req.write(body);
    req.end();
  });
}

class RawSession {
  async open() {
    const h = await request("GET", "/socket.io/?EIO=4&transport=polling");
    if (h.status !== 200 || !h.body.startsWith("0")) throw new Error(`handshake: ${JSON.stringify(h).slice(0, 300)}`);
    this.sid = JSON.parse(h.body.slice(1)).sid;
    this.path = `/socket.io/?EIO=4&transport=polling&sid=${encodeURIComponent(this.sid)}`;
    this.got = [];
    const p = await this.post("40");
    if (p.status !== 200 || p.body !== "ok") throw new Error(`POST 40: ${JSON.stringify(p)}`);
    await this.pollUntil((list) => list.some((x) => x.startsWith("40")), 5000);
  }

  post(body) {
    return request("POST", this.path, body);
  }

  // pollUntil GETs until pred(all packets so far) holds, answering pings.
  async pollUntil(pred, ms) {
    const deadline = Date.now() + ms;
    while (!pred(this.got)) {
      if (Date.now() > deadline) throw new Error(`timed out polling; got ${this.got.map((x) => x.slice(0, 40))}`);
      const r = await request("GET", this.path);
      if (r.status !== 200) return r;
      for (const p of r.body.split("\x1e")) {
        if (p === "2") await this.post("3");
        else this.got.push(p);
      }
    }
    return { status: 200 };
  }
}

async function pollingRaw(ck) {
  const out = {};
  result.pollingRaw = out;
  const sess = new RawSession();
  await sess.open();

  // Exactly 1,000,000 bytes: accepted.
  const prefix = '42["echo","';
  const exact = prefix + "x".repeat(LIMIT - prefix.length - 2) + '"]';
  ck.eq(Buffer.byteLength(exact), LIMIT, "(sanity) exact body size");
  const r1 = await sess.post(exact);
  out.exactStatus = r1.status;
  out.exactBody = r1.body;
  ck.check(r1.status === 200 && r1.body === "ok", `POST of exactly ${LIMIT} bytes: ${r1.status} ${r1.body || r1.error}`);
  if (r1.status === 200) {
    const pr = await ck.attempt("echo of the exact-limit POST", () => sess.pollUntil((l) => l.some((x) => x.startsWith(prefix + "x")), 5000));
    const e = sess.got.find((x) => x.startsWith(prefix + "x"));
    out.exactEchoed = !!e && e === exact;
    ck.check(out.exactEchoed, `echo of the exact-limit POST: ${e ? e.length + " chars" : "none"} ${pr ? "" : ""}`);
  }

  // 1,000,001 bytes: refused, nothing processed. The first packet is small
  // and complete, so a server that parsed before checking would echo it.
  const first = '42["echo","marker-A"]\x1e';
  const over = first + prefix + "y".repeat(LIMIT + 1 - first.length - prefix.length - 2) + '"]';
  ck.eq(Buffer.byteLength(over), LIMIT + 1, "(sanity) over body size");
  const r2 = await sess.post(over);
  out.overStatus = r2.status === undefined ? 0 : r2.status;
  out.overBody = r2.body;
  out.overError = r2.error;
  ck.check(r2.status === 413 || r2.status === 400 || r2.status === undefined, `POST of ${LIMIT + 1} bytes: ${r2.status} ${r2.body || r2.error}, want 413 (400 or a closed connection tolerated)`);

  // Is the session still there? Either way nothing of the refused body may
  // come out.
  const r3 = await sess.post('42["echo","marker-B"]');
  out.afterPostStatus = r3.status;
  if (r3.status === 200) {
    out.sessionAfter = "open";
    const pr = await ck.attempt("echo after the refused POST", () => sess.pollUntil((l) => l.some((x) => x.includes("marker-B")), 5000));
    void pr;
  } else {
    out.sessionAfter = "closed";
  }
  const leaked = sess.got.filter((x) => x.includes("marker-A") || x.startsWith(prefix + "y"));
  out.leaked = leaked.map((x) => x.slice(0, 60));
  ck.eq(out.leaked, [], "packets of the refused POST that were processed");

  // The server keeps accepting sessions.
  const again = new RawSession();
  const ok = await ck.attempt("a new session after the refused POST", () => again.open());
  out.newSession = ok !== undefined || !!again.sid;
}

const scenarios = { "near-limit": nearLimit, "ws-oversize": wsOversize, "polling-oversize": pollingOversize, "polling-raw": pollingRaw };
const f = scenarios[args.scenario];
if (!f) c.fail(`unknown --scenario ${JSON.stringify(args.scenario)}; one of ${Object.keys(scenarios).join(", ")}`);
s.run(timeout, result, (res, ck) => f(ck));
