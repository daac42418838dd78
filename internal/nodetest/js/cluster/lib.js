"use strict";
// Shared plumbing of the cluster scripts: socket.io-client sockets that record what
// CONTRACT part 3 sends them, and waiting helpers.

const c = require("../lib/common");
const { io } = require("socket.io-client");

class Client {
  constructor(url, label, transports) {
    this.label = label;
    this.url = url;
    this.messages = []; // room-message args
    this.notes = []; // note args
    this.disconnects = [];
    this.socket = io(url, { transports, forceNew: true, reconnection: false, timeout: 5000 });
    this.socket.on("room-message", (...a) => this.messages.push(a));
    this.socket.on("note", (...a) => this.notes.push(a));
    this.socket.on("question", (ack) => ack("answer-" + label));
    this.socket.on("disconnect", (reason) => this.disconnects.push(reason));
  }
  get id() {
    return this.socket.id;
  }
  async connected() {
    if (!this.socket.connected) await c.once(this.socket, "connect", 5000, `${this.label} connect`);
    return this;
  }
  call(event, ...args) {
    return this.socket.timeout(8000).emitWithAck(event, ...args);
  }
  close() {
    this.socket.disconnect();
  }
}

// canon renders args for comparison: Buffers as {$bin: hex}.
function canon(v) {
  if (Buffer.isBuffer(v) || v instanceof ArrayBuffer || ArrayBuffer.isView(v)) return { $bin: Buffer.from(v).toString("hex") };
  if (Array.isArray(v)) return v.map(canon);
  if (v && typeof v === "object") {
    const o = {};
    for (const k of Object.keys(v)) o[k] = canon(v[k]);
    return o;
  }
  return v;
}
const str = (v) => JSON.stringify(canon(v));

// expectDelivery waits until every client in want got msg (args compared canonically), and
// checks, a little later, that no one else did.
async function expectDelivery(all, want, list, msg, what) {
  const m = str(msg);
  const has = (cl) => cl[list].some((a) => str(a) === m);
  await c.until(() => want.every(has), 5000, () => `${what}: ${want.filter((cl) => !has(cl)).map((cl) => cl.label).join(",")} did not get ${m}`);
  await c.sleep(300);
  const extra = all.filter((cl) => !want.includes(cl) && has(cl));
  if (extra.length) throw new Error(`${what}: ${extra.map((cl) => cl.label).join(",")} got ${m} too`);
  for (const cl of want) {
    const n = cl[list].filter((a) => str(a) === m).length;
    if (n !== 1) throw new Error(`${what}: ${cl.label} got ${m} ${n} times`);
  }
}

// eventually calls the async f until it returns want (canonically), at most ms.
async function eventually(f, want, what, ms = 5000) {
  const deadline = Date.now() + ms;
  let last;
  for (;;) {
    last = await f();
    if (str(last) === str(want)) return last;
    if (Date.now() > deadline) throw new Error(`${what}: got ${str(last)}, want ${str(want)}`);
    await c.sleep(50);
  }
}

module.exports = { Client, canon, str, expectDelivery, eventually };
