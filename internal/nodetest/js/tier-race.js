"use strict";
// tier-race.js: many real socket.io-client sockets on the nodes of one riptide cluster, for
// the max_members and member-store tests of cmd/riptide. Every client connects first; then:
//
//   mode "race": for each room, every client emits join(room) at one shared start time
//     (one synchronous loop, so the joins leave within a millisecond on 30 connections);
//     once all are answered, every accepted client joins again (a member's rejoin answers
//     the room's current count and list) and every refused one tries once more.
//   mode "outage": the "fill" clients join the room one after the other, then the probe
//     tries; the script asks the Go test to stop a node (it creates "stop" in --signal-dir
//     and waits for "stopped", which holds what the Go test wants reported), then the probe
//     joins every pollMs until it is accepted or deadlineMs has passed, then rejoins (a
//     member's join answers the current list) until the room holds settleCount members.
//
// Flags:
//   --plan FILE   (required) JSON:
//     {mode: "race"|"outage",
//      clients: [{name, url, transport: "polling"|"websocket", auth?}],
//      rooms: [ROOM...]                                        (race)
//      room, fill: [NAME...], probe: NAME, pollMs, deadlineMs, settleCount} (outage)
//   --signal-dir DIR  (outage)
//   --timeout 60000
//
// A join's outcome: {name, id, at (unix ms of the answer), ok, count, members:
// [{socketId, userId}], code (the refusal's), timeout}.
// Result: race {ok, rounds: [{room, spreadMs, joins, rejoins, retries}]};
//         outage {ok, fill, before, stopped, attempts, settled, notices: {NAME: [{event,
//         user, members}]}}.
// Outcomes are data, not failures: the Go test judges them.

const fs = require("fs");
const path = require("path");
const { io } = require("socket.io-client");
const c = require("./lib/common");

const args = c.parseArgs({ timeout: "60000" });
if (!args.plan) c.fail("missing --plan");
const plan = JSON.parse(fs.readFileSync(args.plan, "utf8"));
let step = "connect";
c.hardTimeout(c.int(args.timeout, "timeout"), () => ({ step }));

const ackMs = 5000;
const clients = new Map(); // name -> {name, socket, notices}

function connect(def) {
  return new Promise((resolve, reject) => {
    const opts = { transports: [def.transport], reconnection: false, forceNew: true, timeout: 10000 };
    if (def.auth !== undefined) opts.auth = def.auth;
    const socket = io(def.url, opts);
    const cl = { name: def.name, socket, notices: [] };
    for (const event of ["user-joined", "user-left"]) {
      socket.on(event, (n) => cl.notices.push({ event, user: n.user, members: n.members }));
    }
    socket.once("connect", () => resolve(cl));
    socket.once("connect_error", (err) => reject(new Error(`${def.name}: connect_error ${err.message}`)));
    clients.set(def.name, cl);
  });
}

// join emits join(room) at once (synchronously) and resolves with its outcome.
function join(cl, room) {
  return new Promise((resolve) => {
    const id = cl.socket.id;
    cl.socket.timeout(ackMs).emit("join", room, (err, ans) => {
      const r = { name: cl.name, id, at: Date.now() };
      if (err) r.timeout = true;
      else if (ans && ans.ok === true) Object.assign(r, { ok: true, count: ans.count, members: ans.members });
      else r.code = ans && ans.error ? ans.error.code : JSON.stringify(ans);
      resolve(r);
    });
  });
}

// shuffled returns a copy of a in random order, so that neither node always goes first.
function shuffled(a) {
  const b = a.slice();
  for (let i = b.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [b[i], b[j]] = [b[j], b[i]];
  }
  return b;
}

async function race() {
  const rounds = [];
  for (const room of plan.rooms) {
    step = "race " + room;
    const order = shuffled([...clients.values()]);
    await c.sleep(100); // a shared start time for all joins of the round
    const first = Date.now();
    const pending = order.map((cl) => join(cl, room));
    const spreadMs = Date.now() - first;
    const joins = await Promise.all(pending);
    step = "rejoin " + room;
    const accepted = joins.filter((j) => j.ok).map((j) => clients.get(j.name));
    const refused = joins.filter((j) => !j.ok).map((j) => clients.get(j.name));
    const rejoins = await Promise.all(accepted.map((cl) => join(cl, room)));
    const retries = await Promise.all(refused.map((cl) => join(cl, room)));
    rounds.push({ room, spreadMs, joins, rejoins, retries });
    c.log(`${room}: ${accepted.length} joined, ${refused.length} refused; emits spread over ${spreadMs} ms`);
  }
  return { rounds };
}

function waitFile(name, ms) {
  const file = path.join(args["signal-dir"], name);
  return c.until(() => fs.existsSync(file) && fs.readFileSync(file, "utf8"), ms, name);
}

async function outage() {
  if (!args["signal-dir"]) c.fail("missing --signal-dir");
  const probe = clients.get(plan.probe);
  step = "fill";
  const fill = [];
  for (const name of plan.fill) fill.push(await join(clients.get(name), plan.room));
  const before = await join(probe, plan.room);
  step = "stop a node";
  fs.writeFileSync(path.join(args["signal-dir"], "stop"), "");
  const stopped = JSON.parse(await waitFile("stopped", 30000));
  step = "probe";
  const attempts = [];
  const deadline = Date.now() + plan.deadlineMs;
  for (;;) {
    const a = await join(probe, plan.room);
    attempts.push(a);
    if (a.ok || Date.now() > deadline) break;
    await c.sleep(plan.pollMs);
  }
  // Once a member, the probe's rejoins answer the room's count and list as they change.
  step = "settle";
  let settled = attempts[attempts.length - 1];
  while (settled.ok && settled.count > plan.settleCount && Date.now() <= deadline) {
    await c.sleep(plan.pollMs);
    settled = await join(probe, plan.room);
  }
  await c.sleep(300); // the last presence notices
  const notices = {};
  for (const cl of clients.values()) notices[cl.name] = cl.notices;
  return { fill, before, stopped, attempts, settled, notices };
}

(async () => {
  await Promise.all(plan.clients.map(connect));
  c.log(`${clients.size} clients connected`);
  // One round trip each first, so that the first round's emits leave as fast as the next
  // rounds' (a polling client's first POST sets up its HTTP agent).
  await Promise.all([...clients.values()].map((cl) => cl.socket.timeout(ackMs).emitWithAck("ping")));
  const result = plan.mode === "race" ? await race() : await outage();
  step = "disconnect";
  for (const cl of clients.values()) cl.socket.disconnect();
  await c.sleep(100); // let the polling clients' disconnects go out
  c.finish(Object.assign({ ok: true }, result));
})().catch((e) => c.fail(e.stack || String(e)));
