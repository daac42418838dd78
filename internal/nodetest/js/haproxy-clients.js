"use strict";
// haproxy-clients.js: socket.io-client 4.8 clients of three riptide nodes behind HAProxy
// (deploy/haproxy.cfg), for cmd/riptide's TestHAProxy. Every client connects to HAProxy
// (--url) with withCredentials: true, so that engine.io-client keeps HAProxy's stickiness
// cookie (SERVERID) for the polls and the upgrade of its connection.
//
// --phase exchange: 3 polling-only, 3 WebSocket-only and 3 default clients (polling, then
//   the upgrade) connect one after the other (leastconn spreads them over the nodes) and
//   join --room. The script asks the test (POST --control/placed) how many sockets each
//   node holds, then every client publishes one message to the room with an ack; every
//   client must get every other client's message exactly once, stay connected, and run on
//   its transport; the polling and default ones must hold a SERVERID cookie naming a node.
//
// --phase roll: --clients clients (a third of each kind; default reconnection settings)
//   connect and join --room, then each publishes {sender, seq} to the room --rate times a
//   second with an ack (timeout --ack-timeout ms) while it is connected. Once every client
//   got a message (so it holds a recovery offset) the script asks the test (POST
//   --control/roll) to restart the nodes one at a time, and waits for its answer (the
//   test's figures, passed through). Traffic goes on for --settle ms, stops, and the
//   script waits for the deliveries and reports what each client got, for the test to
//   check: every acknowledged publish reached every other client exactly once, each
//   sender's messages arrived in order, no client got its own, every client is connected,
//   was disconnected at least once (every node was restarted) and came back recovered
//   (socket.recovered) after each disconnection. It also counts the events whose offset
//   (a Redis stream id) was lower than one the client already had: recovery replays what
//   follows the last offset a client got, so such an inversion can make it skip or repeat
//   events.
//
// Flags: --url --control --phase exchange|roll --room --clients 50 --rate 2 --ack-timeout
// 5000 --settle 2000 --max-seq 400 (a bound per sender) --timeout 120000
// Result: {ok, failures, ...}; roll: {published, acked, unacked, unackedDelivered, lost,
// duplicated, reordered, own, examples, explained: {lost, duplicated, reordered},
// offsetInversions, inversionExamples, back: [ms...],
// clients: [{name, connected, transport, disconnects, recovered, history}], roll: <the
// test's answer>, rollMs}.

const c = require("./lib/common");
const s = require("./lib/sio");
const { io } = require("socket.io-client");

const args = c.parseArgs({
  phase: "exchange",
  room: "haproxy",
  clients: "50",
  rate: "2",
  "ack-timeout": "5000",
  settle: "2000",
  "max-seq": "400",
  timeout: "120000",
});
for (const k of ["url", "control"]) if (!args[k]) c.fail(`missing --${k}`);
const result = { ok: false, phase: args.phase };
const kinds = [
  { kind: "polling", transports: ["polling"] },
  { kind: "websocket", transports: ["websocket"] },
  { kind: "default", transports: ["polling", "websocket"] },
];

async function control(what, body) {
  const res = await fetch(args.control + "/" + what, { method: "POST", body: JSON.stringify(body || {}) });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`control ${what}: ${res.status} ${text}`);
  return JSON.parse(text);
}

// cmpOffset compares two Redis stream ids ("ms-seq").
function cmpOffset(a, b) {
  const [am, as] = String(a).split("-").map(BigInt);
  const [bm, bs] = String(b).split("-").map(BigInt);
  return am !== bm ? (am < bm ? -1 : 1) : as === bs ? 0 : as < bs ? -1 : 1;
}

// serverCookie is the SERVERID cookie engine.io-client keeps for the client's current
// Engine.IO connection (its cookie jar exists with withCredentials: true only).
function serverCookie(sock) {
  const jar = sock.io.engine && sock.io.engine._cookieJar;
  if (!jar) return "no cookie jar";
  const ck = jar._cookies.get("SERVERID");
  return ck ? ck.value : null;
}

function newClient(i, opts) {
  const k = kinds[i % kinds.length];
  const sock = io(args.url, Object.assign({ forceNew: true, withCredentials: true, transports: k.transports }, opts));
  return { name: `${k.kind}-${i}`, kind: k.kind, index: i, sock };
}

async function exchange(res, ck) {
  const clients = [];
  for (let i = 0; i < 9; i++) {
    const cl = newClient(i, { reconnection: false });
    cl.got = [];
    cl.disconnects = [];
    cl.sock.on("hello", (from) => cl.got.push(from));
    cl.sock.on("disconnect", (reason) => cl.disconnects.push(reason));
    await s.connect(cl.sock, 10000, cl.name);
    if (cl.kind === "default") await s.waitUpgrade(cl.sock.io, 10000);
    ck.eq(await s.ack(cl.sock, 5000, "join", args.room), [{ ok: true, room: args.room }], `${cl.name} joins`);
    clients.push(cl);
  }
  res.clients = clients.map((cl) => ({ name: cl.name, id: cl.sock.id, transport: s.transportOf(cl.sock.io), cookie: serverCookie(cl.sock) }));
  res.placed = await control("placed", { clients: res.clients });
  for (const cl of clients) {
    ck.eq(s.transportOf(cl.sock.io), cl.kind === "polling" ? "polling" : "websocket", `${cl.name}'s transport`);
    if (cl.kind !== "websocket") ck.check(/^node[123]$/.test(serverCookie(cl.sock)), `${cl.name}: SERVERID cookie ${serverCookie(cl.sock)}, want node1..3`);
  }
  await Promise.all(clients.map(async (cl) => ck.eq(await s.ack(cl.sock, 5000, "publish", args.room, "hello", cl.name), [{ ok: true }], `${cl.name} publishes`)));
  const others = (cl) => clients.filter((o) => o !== cl).map((o) => o.name).sort();
  await c.until(() => clients.every((cl) => cl.got.length >= clients.length - 1), 10000, () => `messages: ${clients.map((cl) => cl.got.length).join(",")}`).catch(() => {});
  await c.sleep(300); // a duplicate would arrive by now
  for (const cl of clients) {
    ck.eq([...cl.got].sort(), others(cl), `${cl.name} got every other client's message once`);
    ck.eq(cl.disconnects, [], `${cl.name}'s disconnections`);
    cl.sock.close();
  }
  // The closes must reach the nodes before the script exits (a polling client's is a POST).
  res.closed = await control("closed");
}

async function roll(res, ck) {
  const n = c.int(args.clients, "clients");
  const rate = Number(args.rate);
  const ackTimeout = c.int(args["ack-timeout"], "ack-timeout");
  const maxSeq = c.int(args["max-seq"], "max-seq");
  const clients = [];
  let sending = false;
  const offsets = new Map(); // "sender:seq" -> the offset it arrived with
  const inversions = [];
  for (let i = 0; i < n; i++) {
    const cl = newClient(i, {});
    Object.assign(cl, { disconnects: [], maxOffset: null, inversions: 0, seq: 0, acked: [], unacked: [], inFlight: 0, recv: new Map(), own: 0, history: [], downAt: null });
    cl.sock.on("m", (from, seq, offset) => {
      if (from === i) {
        cl.own++;
        return;
      }
      if (!cl.recv.has(from)) cl.recv.set(from, []);
      // With the number of disconnections so far: which connection the event came on.
      cl.recv.get(from).push({ seq, epoch: cl.disconnects.length });
      offsets.set(`${from}:${seq}`, offset);
      // Offsets are Redis stream ids: a client must get them in increasing order, or its
      // recovery (which replays what follows its last offset) can skip or repeat events.
      if (cl.maxOffset && cmpOffset(offset, cl.maxOffset) < 0) {
        cl.inversions++;
        if (inversions.length < 10) inversions.push(`${cl.name} got ${offset} (${from}#${seq}) after ${cl.maxOffset} at ${c.elapsed()} ms`);
      } else cl.maxOffset = offset;
    });
    cl.sock.on("disconnect", (reason, desc) => {
      cl.downAt = Date.now();
      const d = { disconnect: reason, at: c.elapsed(), offset: cl.sock._lastOffset, detail: c.closeInfo(reason, desc) };
      cl.disconnects.push(d);
      cl.history.push(d);
    });
    cl.sock.on("connect", () => {
      if (cl.downAt === null) return; // the first connection
      cl.history.push({ connect: true, recovered: cl.sock.recovered, backMs: Date.now() - cl.downAt, at: c.elapsed(), cookie: serverCookie(cl.sock) });
      cl.downAt = null;
    });
    cl.sock.io.on("reconnect_error", (e) => cl.history.push({ reconnectError: String(e && e.message), at: c.elapsed() }));
    clients.push(cl);
  }
  await Promise.all(clients.map((cl) => s.connect(cl.sock, 15000, cl.name)));
  await Promise.all(clients.map(async (cl) => ck.eq(await s.ack(cl.sock, 5000, "join", args.room), [{ ok: true, room: args.room }], `${cl.name} joins`)));
  c.log(`${n} clients connected and joined`);

  const publish = (cl) => {
    if (!sending || !cl.sock.connected || cl.seq >= maxSeq) return;
    const seq = ++cl.seq;
    cl.inFlight++;
    cl.sock.timeout(ackTimeout).emit("publish", args.room, "m", cl.index, seq, (err, reply) => {
      cl.inFlight--;
      if (!err && reply && reply.ok) cl.acked.push(seq);
      else cl.unacked.push({ seq, error: err ? String(err.message) : JSON.stringify(reply) });
    });
  };
  sending = true;
  const timers = clients.map((cl) => {
    const period = 1000 / rate;
    let timer;
    const start = setTimeout(() => {
      publish(cl);
      timer = setInterval(() => publish(cl), period);
    }, Math.random() * period);
    return () => {
      clearTimeout(start);
      clearInterval(timer);
    };
  });
  // Every client holds an offset (it got a stored event) before the first node goes.
  await c.until(() => clients.every((cl) => cl.recv.size > 0), 15000, "a first message for every client");
  const began = Date.now();
  res.roll = await control("roll");
  res.rollMs = Date.now() - began;
  c.log(`roll done in ${res.rollMs} ms`);
  await c.sleep(c.int(args.settle, "settle"));
  sending = false;
  timers.forEach((stop) => stop());
  await c.until(() => clients.every((cl) => cl.inFlight === 0), ackTimeout + 2000, "the last acks").catch((e) => ck.check(false, e.message));

  // Wait for the deliveries: every client connected with every acknowledged message of the
  // others, then a grace period for duplicates.
  const complete = (cl) => cl.sock.connected && clients.every((o) => o === cl || (cl.recv.get(o.index) || []).length >= o.acked.length);
  await c.until(() => clients.every(complete), 20000, () => `deliveries: ${clients.filter((cl) => !complete(cl)).length} clients incomplete`).catch(() => {});
  await c.sleep(1000);

  let published = 0, acked = 0, lost = 0, duplicated = 0, reordered = 0, own = 0, unackedDelivered = 0;
  // explained counts the failures that offsets out of order account for. A client
  // recovers from the offset of the last event it got before a disconnection (d below):
  //   - lost: an event with an offset below d that it had not got is skipped by the replay;
  //   - duplicated: an event it got before the disconnection, with an offset above d, is
  //     replayed again;
  //   - out of order: an event it had not got, with an offset above d, is replayed after a
  //     later event of the same sender that it got before the disconnection.
  const explained = { lost: 0, duplicated: 0, reordered: 0 };
  const off = (sender, seq) => offsets.get(`${sender.index}:${seq}`);
  // between returns the offsets the client recovered from at the disconnections that
  // ended connections from epoch a up to (not including) epoch b.
  const between = (r, a, b) => r.disconnects.slice(a, b).map((d) => d.offset).filter(Boolean);
  const examples = [];
  const example = (what) => {
    if (examples.length >= 20) return;
    const h = what.history.map((x) => (x.disconnect ? `${x.disconnect} at ${x.at} (offset ${x.offset})` : x.connect ? `back at ${x.at} (recovered ${x.recovered})` : `reconnect error ${x.reconnectError} at ${x.at}`));
    const o = offsets.get(`${clients.findIndex((x) => x.name === what.sender)}:${what.seq}`) || "never delivered";
    examples.push(`${what.what}: ${what.sender} #${what.seq} (offset ${o}) at ${what.receiver}${what.after ? ` after #${what.after}` : ""}; ${what.receiver}: ${h.join(", ") || "never disconnected"}`);
  };
  for (const sender of clients) {
    published += sender.seq;
    acked += sender.acked.length;
    for (const u of sender.unacked) if (clients.some((r) => r !== sender && (r.recv.get(sender.index) || []).some((g) => g.seq === u.seq))) unackedDelivered++;
  }
  for (const r of clients) {
    own += r.own;
    for (const sender of clients) {
      if (sender === r) continue;
      const got = r.recv.get(sender.index) || [];
      const seen = new Map(); // seq -> epoch of its first arrival
      let last = { seq: 0, epoch: 0 };
      for (const { seq, epoch } of got) {
        const o = off(sender, seq);
        if (seen.has(seq)) {
          duplicated++;
          if (between(r, seen.get(seq), epoch).some((d) => cmpOffset(d, o) < 0)) explained.duplicated++;
          example({ what: "duplicate", receiver: r.name, sender: sender.name, seq, history: r.history });
        } else if (seq < last.seq) {
          reordered++;
          if (between(r, last.epoch, epoch).some((d) => cmpOffset(d, o) < 0)) explained.reordered++;
          example({ what: "out of order", receiver: r.name, sender: sender.name, seq, after: last.seq, history: r.history });
        }
        if (!seen.has(seq)) seen.set(seq, epoch);
        if (seq > last.seq) last = { seq, epoch };
      }
      for (const seq of sender.acked) {
        if (!seen.has(seq)) {
          lost++;
          const o = off(sender, seq);
          if (o && between(r, 0, r.disconnects.length).some((d) => cmpOffset(d, o) > 0)) explained.lost++;
          example({ what: "lost", receiver: r.name, sender: sender.name, seq, history: r.history });
        }
      }
    }
  }
  res.explained = explained;
  res.offsetInversions = clients.reduce((a, cl) => a + cl.inversions, 0);
  res.inversionExamples = inversions;
  Object.assign(res, { published, acked, unacked: published - acked, unackedDelivered, lost, duplicated, reordered, own, examples });
  res.back = [];
  res.clients = clients.map((cl) => {
    const reconnections = cl.history.filter((h) => h.connect);
    reconnections.forEach((h) => res.back.push(h.backMs));
    return {
      name: cl.name,
      connected: cl.sock.connected,
      transport: s.transportOf(cl.sock.io),
      disconnects: cl.history.filter((h) => h.disconnect).map((h) => h.disconnect),
      recovered: reconnections.map((h) => h.recovered),
      history: [...cl.history],
    };
  });
  clients.forEach((cl) => cl.sock.close());
}

s.run(c.int(args.timeout, "timeout"), result, async (res, ck) => {
  if (args.phase === "exchange") await exchange(res, ck);
  else if (args.phase === "roll") await roll(res, ck);
  else throw new Error(`unknown --phase ${args.phase}`);
});
