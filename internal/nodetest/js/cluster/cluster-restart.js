"use strict";
// Redis stopped and restarted under a running cluster. The Go test owns Redis; this script
// asks it to stop and start Redis through files in --signal-dir (it creates "stop" and
// waits for "stopped", then "start" and "started").
//
// While Redis is away: a room broadcast still reaches the sockets of the sending node (and
// only those), fetchSockets answers fast with what this node has. Once it is back: the
// nodes resubscribe and broadcasts cross nodes again.
//
// Usage: node cluster/cluster-restart.js --urls A,B --signal-dir DIR
// stdout, last line: {"ok":true,"downFetchMs":N,"recoveredAfterMs":N}

const fs = require("fs");
const path = require("path");
const c = require("../lib/common");
const { Client, str, expectDelivery } = require("./lib");

const args = c.parseArgs({ timeout: "40000" });
const urls = String(args.urls || "").split(",").filter(Boolean);
let step = "start";
c.hardTimeout(Number(args.timeout), () => ({ step }));

async function signal(name, waitFor) {
  fs.writeFileSync(path.join(args["signal-dir"], name), "");
  await c.until(() => fs.existsSync(path.join(args["signal-dir"], waitFor)), 15000, waitFor);
}

async function main() {
  const [a, b] = [new Client(urls[0], "n0", ["websocket"]), new Client(urls[1], "n1", ["websocket"])];
  const a2 = new Client(urls[0], "n0b", ["websocket"]);
  const all = [a, a2, b];
  step = "connect";
  await Promise.all(all.map((cl) => cl.connected()));
  await Promise.all(all.map((cl) => cl.call("join", "r")));
  step = "before";
  await a.call("to-room", "r", "before");
  await expectDelivery(all, all, "messages", ["before"], "before the outage");

  step = "stop redis";
  await signal("stop", "stopped");
  await c.sleep(300); // the nodes notice the lost connection
  step = "local delivery while down";
  await a.call("to-room", "r", "while-down");
  await expectDelivery(all, [a, a2], "messages", ["while-down"], "while Redis is down");
  const begin = Date.now();
  const ids = await a.call("room-sockets", "r");
  const downFetchMs = Date.now() - begin;
  if (str(ids) !== str([a.id, a2.id].sort())) throw new Error(`room-sockets while down: ${str(ids)}`);
  if (downFetchMs > 1000) throw new Error(`room-sockets while down took ${downFetchMs} ms`);

  step = "restart redis";
  await signal("start", "started");
  const restarted = Date.now();
  step = "cross-node again";
  for (let i = 0; ; i++) {
    await a.call("to-room", "r", `after-${i}`);
    await c.sleep(200);
    if (b.messages.some((m) => m[0] === `after-${i}`)) break;
    if (Date.now() - restarted > 15000) throw new Error("no cross-node delivery after the restart");
  }
  const recoveredAfterMs = Date.now() - restarted;
  const after = await b.call("room-sockets", "r");
  if (str(after) !== str(all.map((cl) => cl.id).sort())) throw new Error(`room-sockets after the restart: ${str(after)}`);
  all.forEach((cl) => cl.close());
  c.finish({ ok: true, downFetchMs, recoveredAfterMs });
}

main().catch((e) => c.fail(`${step}: ${e.message}`));
