"use strict";
// CONTRACT part 3 across a cluster: two socket.io-client sockets on each node, and every
// node in turn the origin, so each operation is checked in every direction between nodes
// (riptide to riptide, riptide to Node.js and back in a mixed cluster).
//
// Usage: node cluster/cluster-scenarios.js --urls http://127.0.0.1:A,http://127.0.0.1:B,...
//        [--transports websocket|polling,websocket] [--timeout 40000]
// stdout, last line: {"ok":true,"nodeIds":[...],"checks":N} or {"ok":false,"error":...}

const c = require("../lib/common");
const { Client, str, expectDelivery, eventually } = require("./lib");

const args = c.parseArgs({ timeout: "40000", transports: "websocket" });
const urls = String(args.urls || "").split(",").filter(Boolean);
if (urls.length < 2) c.fail("--urls needs two nodes or more");
const transports = args.transports.split(",");
let step = "start";
let checks = 0;
c.hardTimeout(Number(args.timeout), () => ({ step }));

async function main() {
  // clients[i] are node i's: labels n<i>a and n<i>b.
  const clients = urls.map((u, i) => [new Client(u, `n${i}a`, transports), new Client(u, `n${i}b`, transports)]);
  const all = clients.flat();
  step = "connect";
  await Promise.all(all.map((cl) => cl.connected()));
  const sorted = (cls) => cls.map((cl) => cl.id).sort();

  step = "node-id";
  const nodeIds = await Promise.all(clients.map(([a]) => a.call("node-id")));
  if (new Set(nodeIds).size !== urls.length) throw new Error(`node ids not distinct: ${str(nodeIds)}`);
  checks++;

  step = "broadcast to everyone";
  await Promise.all(all.map((cl) => cl.call("join", "all")));
  for (let i = 0; i < urls.length; i++) {
    const msg = [`hello-from-${i}`, { n: i, nested: [1.5, "é", null] }, Buffer.from([i, 0, 255])];
    await clients[i][0].call("to-room", "all", ...msg);
    await expectDelivery(all, all, "messages", msg, `to-room all from node ${i}`);
    checks++;
  }

  step = "room broadcast";
  const red = [clients[0][0], clients[1][1], clients[clients.length - 1][0]];
  await Promise.all(red.map((cl) => cl.call("join", "red")));
  for (let i = 0; i < urls.length; i++) {
    const msg = [`red-${i}`];
    await clients[i][1].call("to-room", "red", ...msg);
    await expectDelivery(all, red, "messages", msg, `to-room red from node ${i}`);
    checks++;
  }

  step = "except (socket.to)";
  for (const sender of red) {
    const msg = [`red-but-${sender.label}`, Buffer.alloc(0)];
    await sender.call("to-room-but-me", "red", ...msg);
    await expectDelivery(all, red.filter((cl) => cl !== sender), "messages", msg, `to-room-but-me from ${sender.label}`);
    checks++;
  }

  step = "fetchSockets";
  for (let i = 0; i < urls.length; i++) {
    const ids = await clients[i][0].call("room-sockets", "red");
    if (str(ids) !== str(sorted(red))) throw new Error(`room-sockets red on node ${i}: ${str(ids)}, want ${str(sorted(red))}`);
    const everyone = await clients[i][1].call("room-sockets", "all");
    if (str(everyone) !== str(sorted(all))) throw new Error(`room-sockets all on node ${i}: ${str(everyone)}`);
    checks++;
  }

  step = "broadcast with acks";
  for (let i = 0; i < urls.length; i++) {
    const res = await clients[i][0].call("ask-room", "red", 3000);
    const want = { ok: true, answers: red.map((cl) => "answer-" + cl.label).sort() };
    if (str(res) !== str(want)) throw new Error(`ask-room red from node ${i}: ${str(res)}, want ${str(want)}`);
    checks++;
  }
  const none = await clients[0][0].call("ask-room", "nobody-here", 2000);
  if (str(none) !== str({ ok: true, answers: [] })) throw new Error(`ask-room of an empty room: ${str(none)}`);

  step = "socketsJoin / socketsLeave";
  for (let i = 0; i < urls.length; i++) {
    const target = clients[(i + 1) % urls.length][1];
    const room = `blue-${i}`;
    await clients[i][0].call("room-join", target.id, room);
    await eventually(() => clients[(i + 2) % urls.length][0].call("room-sockets", room), [target.id], `room-join from node ${i}`);
    await clients[i][0].call("to-room", room, `to-${room}`);
    await expectDelivery(all, [target], "messages", [`to-${room}`], `to-room after room-join from node ${i}`);
    await clients[i][1].call("room-leave", target.id, room);
    await eventually(() => clients[i][0].call("room-sockets", room), [], `room-leave from node ${i}`);
    checks++;
  }

  step = "serverSideEmitWithAck";
  for (let i = 0; i < urls.length; i++) {
    const res = await clients[i][0].call("count-nodes", 3000);
    const want = { ok: true, counts: urls.slice(1).map(() => 2) };
    if (str(res) !== str(want)) throw new Error(`count-nodes from node ${i}: ${str(res)}, want ${str(want)}`);
    checks++;
  }

  step = "serverSideEmit";
  for (let i = 0; i < urls.length; i++) {
    const msg = [`note-${i}`, { from: i }];
    await clients[i][0].call("server-note", ...msg);
    const others = clients.filter((_, j) => j !== i).flat();
    await expectDelivery(all, others, "notes", msg, `server-note from node ${i}`);
    checks++;
  }

  step = "disconnectSockets";
  const kicker = clients[1][0];
  await kicker.call("room-kick", "red");
  await c.until(() => red.every((cl) => cl.disconnects.length === 1), 5000, () => `room-kick: ${red.map((cl) => cl.label + ":" + cl.disconnects).join(" ")}`);
  for (const cl of red) {
    if (cl.disconnects[0] !== "io server disconnect") throw new Error(`${cl.label} disconnected with ${cl.disconnects[0]}`);
  }
  const rest = all.filter((cl) => !red.includes(cl));
  await c.sleep(200);
  if (rest.some((cl) => cl.disconnects.length)) throw new Error("room-kick disconnected sockets outside the room");
  checks++;

  all.forEach((cl) => cl.close());
  c.finish({ ok: true, nodeIds, checks });
}

main().catch((e) => c.fail(`${step}: ${e.message}`));
