"use strict";
// Shared plumbing for the sio-*.js scripts: socket.io-client managers with a
// wire tap, promise helpers, canonical forms for comparing arguments, the
// expected wire form of a packet (socket.io-parser's own encoder, the one the
// Node server uses), and a Checker that collects failed assertions.
//
// The wire tap records every Engine.IO packet of every engine a Manager opens
// (handshake, incoming "packet", outgoing "packetCreate", upgrade and close),
// so a script can assert on the exact text the server wrote: key order,
// numbers as written, ACK vs BINARY_ACK, the CONNECT reply's fields.

const crypto = require("crypto");
const c = require("./common");
const { Manager } = require("socket.io-client");
// socket.io-parser comes with socket.io-client (pinned by package-lock.json).
const parser = require("socket.io-parser");

const T = parser.PacketType; // CONNECT 0, DISCONNECT 1, EVENT 2, ACK 3, CONNECT_ERROR 4, BINARY_EVENT 5, BINARY_ACK 6

// transportsFlag parses --transports into engine.io-client's list.
function transportsFlag(v) {
  const list = String(v || "polling,websocket")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  for (const t of list) if (t !== "polling" && t !== "websocket") c.fail(`unknown transport ${t}`);
  return list;
}

// ---------------------------------------------------------------------------
// Canonical forms.

// canon maps a value to plain JSON: binary becomes {"$bin": hex}, undefined
// {"$undefined": true}; object key order is kept, so comparing canonStr
// strings compares key order too.
function canon(v) {
  if (v === undefined) return { $undefined: true };
  if (v === null || typeof v !== "object") {
    if (typeof v === "number" && !Number.isFinite(v)) return { $number: String(v) };
    return v;
  }
  const b = c.toBuffer(v);
  if (b) return { $bin: b.toString("hex") };
  if (Array.isArray(v)) return v.map(canon);
  const o = {};
  for (const k of Object.keys(v)) o[k] = canon(v[k]);
  return o;
}

function canonStr(v) {
  return JSON.stringify(canon(v));
}

// short renders a canonical string for a report, cut to n characters.
function short(v, n = 300) {
  const s = typeof v === "string" ? v : canonStr(v);
  return s.length > n ? s.slice(0, n) + `...(${s.length} chars)` : s;
}

function sha(v) {
  return crypto.createHash("sha256").update(v).digest("hex").slice(0, 16);
}

// ---------------------------------------------------------------------------
// Wire form.

// wireOf is what the Node server writes for packet {type, nsp, id, data}:
// socket.io-parser's encoding, {text, attachments: [hex]}. text is the
// Socket.IO packet without the Engine.IO "4" prefix (the engine "packet"
// event's data). type EVENT/ACK turn into BINARY_* when data holds binary.
function wireOf(packet) {
  const enc = new parser.Encoder();
  const p = { type: packet.type, nsp: packet.nsp || "/", data: packet.data };
  if (packet.id !== undefined) p.id = packet.id;
  const parts = enc.encode(p);
  return { text: parts[0], attachments: parts.slice(1).map((b) => c.toBuffer(b).toString("hex")) };
}

function wireStr(w) {
  if (!w) return "none";
  const a = w.attachments.length ? ` + ${w.attachments.length} attachment(s) [${w.attachments.map((h) => h.length / 2).join(",")} bytes]` : "";
  return short(w.text, 400) + a;
}

function sameWire(a, b) {
  return !!a && !!b && a.text === b.text && a.attachments.length === b.attachments.length && a.attachments.every((h, i) => h === b.attachments[i]);
}

// headerInfo parses a Socket.IO packet's header: type, attachment count,
// namespace and ack id.
function headerInfo(text) {
  const m = /^([0-6])(?:(\d+)-)?(\/[^,]*,)?(\d+)?/.exec(text);
  if (!m) return null;
  return {
    type: Number(m[1]),
    attachments: m[2] === undefined ? 0 : Number(m[2]),
    nsp: m[3] ? m[3].slice(0, -1) : "/",
    id: m[4] === undefined ? undefined : Number(m[4]),
  };
}

// Wire taps a Manager: every engine it opens is recorded.
class Wire {
  constructor(manager, label) {
    this.label = label || "";
    this.records = []; // {dir, engine, type, data, transport, t}
    this.engines = []; // {id, handshake, opened, upgradedAt, close}
    this.noops = 0;
    const open = manager.open.bind(manager);
    const self = this;
    manager.open = function (fn) {
      const before = manager.engine;
      const r = open(fn);
      if (manager.engine && manager.engine !== before) self._tap(manager.engine);
      return r;
    };
    this.manager = manager;
  }

  _tap(engine) {
    const info = { index: this.engines.length, id: null, handshake: null, openedAtMs: null, upgradedAtMs: null, close: null };
    this.engines.push(info);
    engine.on("handshake", (h) => {
      info.handshake = h;
      info.id = h.sid;
    });
    engine.on("open", () => (info.openedAtMs = c.elapsed()));
    engine.on("upgrade", (t) => (info.upgradedAtMs = c.elapsed()));
    engine.on("close", (reason, desc) => {
      info.close = Object.assign(c.closeInfo(reason, desc), { atMs: c.elapsed() });
    });
    const rec = (dir) => (p) => {
      if (p.type === "noop" && dir === "in") this.noops++;
      this.records.push({
        dir,
        engine: info.index,
        type: p.type,
        data: p.data,
        transport: engine.transport ? engine.transport.name : "?",
        t: c.elapsed(),
      });
    };
    engine.on("packet", rec("in"));
    engine.on("packetCreate", rec("out"));
  }

  // packets groups the recorded "message" packets of one direction into
  // Socket.IO packets: {text, attachments:[hex], engine, transport, t, info}.
  packets(dir, engineIndex) {
    const out = [];
    let pending = null;
    for (const r of this.records) {
      if (r.dir !== dir || r.type !== "message") continue;
      if (engineIndex !== undefined && r.engine !== engineIndex) continue;
      if (pending && pending.need > 0 && typeof r.data !== "string") {
        pending.p.attachments.push(c.toBuffer(r.data).toString("hex"));
        pending.need--;
        continue;
      }
      const text = typeof r.data === "string" ? r.data : `<binary ${c.describe(r.data)}>`;
      const p = { text, attachments: [], engine: r.engine, transport: r.transport, t: r.t, info: headerInfo(text) };
      out.push(p);
      pending = { p, need: p.info ? p.info.attachments : 0 };
    }
    return out;
  }

  // find returns the incoming packets whose text starts with prefix.
  findIn(prefix, engineIndex) {
    return this.packets("in", engineIndex).filter((p) => p.text.startsWith(prefix));
  }

  engineId() {
    const e = this.manager.engine;
    return e ? e.id : null;
  }

  summary() {
    return { engines: this.engines, noops: this.noops, packetsIn: this.packets("in").length, packetsOut: this.packets("out").length };
  }
}

// ---------------------------------------------------------------------------
// Clients.

// newManager returns a Manager that does not connect until a socket does,
// with the wire tap installed. Defaults: no reconnection, short timeouts.
function newManager(url, opts) {
  const o = Object.assign(
    {
      path: "/socket.io/",
      autoConnect: false,
      reconnection: false,
      timeout: 5000,
      tryAllTransports: false,
    },
    opts || {}
  );
  const m = new Manager(url, o);
  const wire = new Wire(m, o.label);
  return { manager: m, wire };
}

// socketEvents records every event a socket receives (onAny), with its
// arguments canonicalised at arrival.
function recordEvents(socket) {
  const list = [];
  socket.onAny((ev, ...a) => list.push({ ev, args: a, t: c.elapsed() }));
  return list;
}

// connect connects socket and resolves with its id; rejects with
// {message, data} from connect_error, or on timeout.
function connect(socket, ms, what) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`timed out after ${ms} ms waiting for ${what || socket.nsp} to connect`));
    }, ms);
    const onConnect = () => {
      cleanup();
      resolve(socket.id);
    };
    const onError = (err) => {
      cleanup();
      const e = new Error(`connect_error on ${socket.nsp}: ${err && err.message}`);
      e.connectError = { message: err && err.message, data: err && err.data };
      reject(e);
    };
    const cleanup = () => {
      clearTimeout(timer);
      socket.off("connect", onConnect);
      socket.off("connect_error", onError);
    };
    socket.on("connect", onConnect);
    socket.on("connect_error", onError);
    // An active socket whose manager closed (reconnection off) needs connect()
    // too; a socket mid-connect must not get a second CONNECT.
    if (!socket.connected) socket.connect();
  });
}

// connectError connects socket expecting a refusal; resolves with
// {message, data, ms}, rejects if it connects instead.
function connectError(socket, ms) {
  const begin = Date.now();
  return connect(socket, ms).then(
    (id) => {
      throw new Error(`${socket.nsp} connected (id ${id}), want connect_error`);
    },
    (e) => {
      if (!e.connectError) throw e;
      return Object.assign({ ms: Date.now() - begin }, e.connectError);
    }
  );
}

// ack emits ev with args and an ack; resolves with the ack's arguments (an
// array, 0..n), rejects after ms.
function ack(socket, ms, ev, ...args) {
  return new Promise((resolve, reject) => {
    socket.timeout(ms).emit(ev, ...args, (err, ...resp) => {
      if (err) reject(new Error(`no ack for ${JSON.stringify(ev)} on ${socket.nsp} within ${ms} ms`));
      else resolve(resp);
    });
  });
}

// nextEvent resolves with the arguments of the next ev on socket.
function nextEvent(socket, ev, ms) {
  return c.once(socket, ev, ms, `${JSON.stringify(ev)} on ${socket.nsp}`);
}

// waitUpgrade resolves once the manager's engine runs on WebSocket.
function waitUpgrade(manager, ms) {
  return c.until(() => manager.engine && manager.engine.transport && manager.engine.transport.name === "websocket" && !manager.engine.upgrading, ms, "the upgrade to websocket");
}

// transportOf returns the name of the manager's current transport.
function transportOf(manager) {
  return manager.engine && manager.engine.transport ? manager.engine.transport.name : null;
}

// ---------------------------------------------------------------------------
// Assertions.

// Checker collects failed assertions instead of throwing, so one run reports
// everything that differs.
class Checker {
  constructor() {
    this.failures = [];
    this.passed = 0;
  }

  check(cond, msg) {
    if (cond) {
      this.passed++;
      return true;
    }
    c.log("CHECK FAILED:", msg);
    if (this.failures.length < 60) this.failures.push(msg);
    else if (this.failures.length === 60) this.failures.push("... more failures dropped");
    return false;
  }

  // eq compares canonical strings.
  eq(got, want, what) {
    const g = canonStr(got);
    const w = canonStr(want);
    return this.check(g === w, `${what}: got ${short(g)}, want ${short(w)}`);
  }

  // wire compares a received Socket.IO packet with the expected one.
  wire(got, want, what) {
    return this.check(sameWire(got, want), `${what}: wire ${wireStr(got)}, want ${wireStr(want)}`);
  }

  // within checks lo <= v <= hi.
  within(v, lo, hi, what) {
    return this.check(typeof v === "number" && v >= lo && v <= hi, `${what}: ${v}, want ${lo}..${hi}`);
  }

  // attempt runs f and records a thrown error as a failure; returns f's
  // value or undefined.
  async attempt(what, f) {
    try {
      return await f();
    } catch (e) {
      this.check(false, `${what}: ${e && e.message ? e.message : e}`);
      return undefined;
    }
  }
}

// run is a script's main: parses nothing, runs body(result, checker) and
// finishes with ok = no failures. result.failures lists them.
function run(timeoutMs, result, body) {
  const checker = new Checker();
  result.failures = checker.failures;
  c.hardTimeout(timeoutMs, () => result);
  Promise.resolve()
    .then(() => body(result, checker))
    .then(
      () => {
        result.ok = checker.failures.length === 0;
        result.checksPassed = checker.passed;
        if (!result.ok) result.error = `${checker.failures.length} check(s) failed: ${checker.failures[0]}`;
        c.finish(result);
      },
      (e) => {
        result.ok = false;
        result.checksPassed = checker.passed;
        c.fail(e && e.stack ? e.stack : String(e), result);
      }
    );
}

module.exports = {
  T,
  parser,
  transportsFlag,
  canon,
  canonStr,
  short,
  sha,
  wireOf,
  wireStr,
  sameWire,
  headerInfo,
  Wire,
  newManager,
  recordEvents,
  connect,
  connectError,
  ack,
  nextEvent,
  waitUpgrade,
  transportOf,
  Checker,
  run,
};
