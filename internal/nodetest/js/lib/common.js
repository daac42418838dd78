"use strict";
// Shared plumbing for the interop scripts: argv flags, the one-JSON-line result
// contract, a hard deadline, and small helpers around engine.io-client.
//
// Contract with the Go harness (../nodetest.go): the LAST line on stdout is one
// JSON object, {"ok":true,...} or {"ok":false,"error":"...",...}; the exit code
// is 0 only when ok is true. Progress goes to stderr so a failing Go test can
// show its tail.

const started = Date.now();

// parseArgs reads "--key value" and "--flag" (a bare flag means "true").
// Keys keep their dashes: --ping-interval -> args["ping-interval"].
function parseArgs(defaults) {
  const args = Object.assign({}, defaults);
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith("--")) {
      fail(`unexpected argument ${JSON.stringify(a)}`);
    }
    const eq = a.indexOf("=");
    if (eq > 0) {
      args[a.slice(2, eq)] = a.slice(eq + 1);
    } else if (i + 1 < argv.length && !argv[i + 1].startsWith("--")) {
      args[a.slice(2)] = argv[++i];
    } else {
      args[a.slice(2)] = "true";
    }
  }
  return args;
}

function bool(v) {
  return v === true || v === "true" || v === "1" || v === "yes";
}

function int(v, name) {
  const n = Number(v);
  if (!Number.isFinite(n) || Math.floor(n) !== n) {
    fail(`flag --${name} must be an integer, got ${JSON.stringify(v)}`);
  }
  return n;
}

function elapsed() {
  return Date.now() - started;
}

function log(...parts) {
  process.stderr.write(`[${String(elapsed()).padStart(6)}ms] ${parts.join(" ")}\n`);
}

let finished = false;

// finish prints the result line and exits: 0 when result.ok, 1 otherwise.
function finish(result) {
  if (finished) return;
  finished = true;
  result.elapsedMs = elapsed();
  let line;
  try {
    line = JSON.stringify(result);
  } catch (e) {
    line = JSON.stringify({ ok: false, error: "result not serialisable: " + e.message });
  }
  // A newline first, so the result is its own line even if something wrote a
  // partial line to stdout before.
  process.stdout.write("\n" + line + "\n", () => process.exit(result.ok ? 0 : 1));
  // If stdout never drains (closed pipe), do not hang.
  setTimeout(() => process.exit(result.ok ? 0 : 1), 2000).unref();
}

// fail ends the script with {"ok":false,"error":msg, ...extra}.
function fail(msg, extra) {
  log("FAIL:", msg);
  finish(Object.assign({ ok: false, error: String(msg) }, extra || {}));
}

// hardTimeout ends the script with a failure after ms, reporting state() so the
// Go test shows how far the scenario got.
function hardTimeout(ms, state) {
  setTimeout(() => {
    let s = {};
    try {
      s = state ? state() : {};
    } catch (e) {
      s = { stateError: e.message };
    }
    fail(`hard timeout after ${ms} ms`, { state: s });
  }, ms);
}

process.on("uncaughtException", (e) => fail("uncaught exception: " + (e && e.stack ? e.stack : e)));
process.on("unhandledRejection", (e) => fail("unhandled rejection: " + (e && e.stack ? e.stack : e)));

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// once resolves with the event's arguments (an array), or rejects after ms.
function once(emitter, event, ms, what) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.off(event, on);
      reject(new Error(`timed out after ${ms} ms waiting for ${what || event}`));
    }, ms);
    const on = (...args) => {
      clearTimeout(timer);
      resolve(args);
    };
    emitter.once(event, on);
  });
}

// waitOpen resolves on the socket's "open"; it rejects at once if the socket
// closes first (refused, handshake error) with what the client saw.
function waitOpen(socket, ms, what) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`timed out after ${ms} ms waiting for ${what || "open"}`));
    }, ms);
    const onOpen = () => {
      cleanup();
      resolve();
    };
    const onClose = (reason, desc) => {
      cleanup();
      reject(new Error(`${what || "connection"} closed before open: ${JSON.stringify(closeInfo(reason, desc))}`));
    };
    const cleanup = () => {
      clearTimeout(timer);
      socket.off("open", onOpen);
      socket.off("close", onClose);
    };
    socket.once("open", onOpen);
    socket.once("close", onClose);
  });
}

// until polls cond every 5 ms; rejects with what() after ms.
function until(cond, ms, what) {
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + ms;
    const tick = () => {
      let v;
      try {
        v = cond();
      } catch (e) {
        return reject(e);
      }
      if (v) return resolve(v);
      if (Date.now() > deadline) {
        return reject(new Error(`timed out after ${ms} ms waiting for ${typeof what === "function" ? what() : what}`));
      }
      setTimeout(tick, 5);
    };
    tick();
  });
}

// describe renders a message value for error text: strings quoted and cut,
// binary as type, length and leading hex.
function describe(v) {
  if (v === undefined) return "undefined";
  if (v === null) return "null";
  if (typeof v === "string") {
    const s = v.length > 60 ? v.slice(0, 60) + `...(${v.length} chars)` : v;
    return `text ${JSON.stringify(s)} (${Buffer.byteLength(v)} bytes)`;
  }
  const b = toBuffer(v);
  if (b) {
    const kind = Buffer.isBuffer(v) ? "Buffer" : v instanceof ArrayBuffer ? "ArrayBuffer" : v.constructor.name;
    return `${kind}(${b.length}) ${b.subarray(0, 16).toString("hex")}${b.length > 16 ? "..." : ""}`;
  }
  return `${typeof v} ${String(v).slice(0, 60)}`;
}

function toBuffer(v) {
  if (Buffer.isBuffer(v)) return v;
  if (v instanceof ArrayBuffer) return Buffer.from(v);
  if (ArrayBuffer.isView(v)) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  return null;
}

function isBinary(v) {
  return toBuffer(v) !== null;
}

// sameMessage compares a sent message with its echo. An empty text message
// travels as the bare packet "4", which engine.io-client hands to listeners as
// undefined; the reference server does the same, so undefined matches "".
function sameMessage(sent, got) {
  if (typeof sent === "string") {
    if (got === undefined) return sent === "";
    return typeof got === "string" && got === sent;
  }
  const a = toBuffer(sent);
  const b = toBuffer(got);
  return a !== null && b !== null && a.equals(b);
}

// closeInfo flattens engine.io-client's ("close", reason, description) into
// JSON: description is an Error (transport error), {description, context}
// (transport close; context is the WebSocket CloseEvent or the XHR), or absent.
function closeInfo(reason, desc) {
  const info = { reason };
  if (!desc) return info;
  if (desc instanceof Error) {
    info.errorMessage = desc.message;
    if (desc.type) info.errorType = desc.type;
    if (desc.description !== undefined) info.errorDescription = plain(desc.description);
    if (desc.context && typeof desc.context.status === "number") info.httpStatus = desc.context.status;
    if (desc.code !== undefined) info.errorCode = desc.code;
    return info;
  }
  if (desc.description !== undefined) info.description = plain(desc.description);
  const ctx = desc.context;
  if (ctx && typeof ctx === "object") {
    if (typeof ctx.code === "number") info.wsCloseCode = ctx.code;
    if (typeof ctx.reason === "string") info.wsCloseReason = ctx.reason;
    if (typeof ctx.wasClean === "boolean") info.wsWasClean = ctx.wasClean;
    if (typeof ctx.status === "number") info.httpStatus = ctx.status;
  }
  return info;
}

// plain keeps numbers/strings/booleans and renders anything else briefly.
function plain(v) {
  if (v === null || ["number", "string", "boolean"].includes(typeof v)) return v;
  if (v instanceof Error) return v.message;
  if (v && typeof v === "object") {
    if (typeof v.message === "string") return v.message;
    if (v.constructor && v.constructor.name) return `[${v.constructor.name}]`;
  }
  return String(v);
}

// clientOptions builds engine.io-client options from the common flags.
function clientOptions(args, extra) {
  const opts = {
    path: args.path,
    // Fail fast instead of retrying: these are tests.
    tryAllTransports: false,
  };
  return Object.assign(opts, extra || {});
}

// EchoTracker checks that every message sent through send() comes back
// intact, in order and exactly once. Mismatches are collected (not thrown) so a
// report can show all of them; the first few are kept verbatim.
class EchoTracker {
  constructor(socket) {
    this.socket = socket;
    this.expected = [];
    this.received = 0;
    this.errors = [];
    this.byTransport = {};
    this.receivedText = 0;
    this.receivedBinary = 0;
    this.emptyTextAsUndefined = 0;
    this._listener = (data) => this._onMessage(data);
    socket.on("message", this._listener);
  }

  // stop detaches the tracker from the socket.
  stop() {
    this.socket.off("message", this._listener);
  }

  send(msg) {
    this.expected.push(msg);
    this.socket.send(msg);
  }

  _onMessage(data) {
    const i = this.received++;
    const t = this.socket.transport ? this.socket.transport.name : "?";
    this.byTransport[t] = (this.byTransport[t] || 0) + 1;
    if (data === undefined) this.emptyTextAsUndefined++;
    if (isBinary(data)) this.receivedBinary++;
    else this.receivedText++;
    if (i >= this.expected.length) {
      this._error(`unexpected extra message #${i} (only ${this.expected.length} sent): ${describe(data)}`);
      return;
    }
    const want = this.expected[i];
    if (isBinary(data) && !Buffer.isBuffer(data)) {
      this._error(`echo #${i}: binary arrived as ${data.constructor.name}, want Buffer (binaryType nodebuffer)`);
    }
    if (!sameMessage(want, data)) {
      let hint = "";
      const idx = this.expected.findIndex((m, j) => j !== i && sameMessage(m, data));
      if (idx >= 0) hint = ` (matches message #${idx}: reordered or duplicated)`;
      this._error(`echo #${i} differs: sent ${describe(want)}, got ${describe(data)}${hint}`);
    }
  }

  _error(msg) {
    log("echo error:", msg);
    if (this.errors.length < 20) this.errors.push(msg);
    else if (this.errors.length === 20) this.errors.push("... more errors dropped");
  }

  // waitAll waits until as many echoes as sends arrived, then a grace period
  // to catch duplicates.
  async waitAll(ms, graceMs) {
    await until(
      () => this.received >= this.expected.length || this.errors.length > 0 || this.socket.readyState === "closed",
      ms,
      () => `echoes: got ${this.received} of ${this.expected.length}`
    );
    if (this.received < this.expected.length && this.socket.readyState === "closed") {
      this._error(`session closed after ${this.received} of ${this.expected.length} echoes`);
    }
    if (graceMs) await sleep(graceMs);
  }

  summary() {
    return {
      sent: this.expected.length,
      received: this.received,
      receivedText: this.receivedText,
      receivedBinary: this.receivedBinary,
      receivedByTransport: this.byTransport,
      emptyTextAsUndefined: this.emptyTextAsUndefined,
      errors: this.errors,
    };
  }
}

function loadClient() {
  return require("engine.io-client");
}

module.exports = {
  parseArgs,
  bool,
  int,
  elapsed,
  log,
  finish,
  fail,
  hardTimeout,
  sleep,
  once,
  waitOpen,
  until,
  describe,
  toBuffer,
  isBinary,
  sameMessage,
  closeInfo,
  plain,
  clientOptions,
  loadClient,
  EchoTracker,
};
