"use strict";
// @socket.io/redis-emitter 5.1 (from this Node process, through Redis only) reaching the
// sockets of every node: emit to all, to a room, with except, binary arguments, socketsJoin,
// socketsLeave, disconnectSockets and serverSideEmit.
//
// Usage: node cluster/cluster-emitter.js --urls A,B,... --redis URL [--redis-key KEY]
// stdout, last line: {"ok":true,"checks":N}

const c = require("../lib/common");
const { createClient } = require("redis");
const { Emitter } = require("@socket.io/redis-emitter");
const { Client, str, expectDelivery, eventually } = require("./lib");

const args = c.parseArgs({ timeout: "30000", "redis-key": "socket.io" });
const urls = String(args.urls || "").split(",").filter(Boolean);
let step = "start";
let checks = 0;
c.hardTimeout(Number(args.timeout), () => ({ step }));

async function main() {
  const redis = createClient({ url: args.redis });
  redis.on("error", (e) => c.log("redis:", e.message));
  await redis.connect();
  const emitter = new Emitter(redis, { key: args["redis-key"] });

  const clients = urls.map((u, i) => [new Client(u, `n${i}a`, ["websocket"]), new Client(u, `n${i}b`, ["websocket"])]);
  const all = clients.flat();
  step = "connect";
  await Promise.all(all.map((cl) => cl.connected()));
  const green = [clients[0][0], clients[clients.length - 1][1]];
  await Promise.all(green.map((cl) => cl.call("join", "green")));

  step = "emit to everyone";
  let msg = ["from-emitter", { a: [1, 2.5] }, Buffer.from("bin")];
  emitter.emit("room-message", ...msg);
  await expectDelivery(all, all, "messages", msg, "emitter.emit");
  checks++;

  step = "emit to a room";
  msg = ["to-green", 42];
  emitter.to("green").emit("room-message", ...msg);
  await expectDelivery(all, green, "messages", msg, "emitter.to(green)");
  checks++;

  step = "except";
  msg = ["not-green"];
  emitter.except("green").emit("room-message", ...msg);
  await expectDelivery(all, all.filter((cl) => !green.includes(cl)), "messages", msg, "emitter.except(green)");
  checks++;

  step = "socketsJoin";
  emitter.in("green").socketsJoin("teal");
  await eventually(() => clients[1][0].call("room-sockets", "teal"), green.map((cl) => cl.id).sort(), "emitter socketsJoin");
  emitter.in("green").socketsLeave("teal");
  await eventually(() => clients[1][0].call("room-sockets", "teal"), [], "emitter socketsLeave");
  checks++;

  step = "serverSideEmit";
  msg = ["from-emitter-note", { x: 1 }];
  emitter.serverSideEmit("note", ...msg);
  await expectDelivery(all, all, "notes", msg, "emitter.serverSideEmit");
  checks++;

  step = "disconnectSockets";
  emitter.in("green").disconnectSockets();
  await c.until(() => green.every((cl) => cl.disconnects.length === 1), 5000, "emitter disconnectSockets");
  if (green.some((cl) => cl.disconnects[0] !== "io server disconnect")) throw new Error(str(green.map((cl) => cl.disconnects)));
  await c.sleep(200);
  if (all.some((cl) => !green.includes(cl) && cl.disconnects.length)) throw new Error("disconnectSockets reached sockets outside the room");
  checks++;

  all.forEach((cl) => cl.close());
  await redis.quit();
  c.finish({ ok: true, checks });
}

main().catch((e) => c.fail(`${step}: ${e.message}`));
