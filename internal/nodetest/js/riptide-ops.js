"use strict";
// Traffic with known counts for cmd/riptide's metrics test, with the real socket.io-client:
// a WebSocket-only client "a" and a polling-only client "b" join room "r"; "a" publishes
// "news" to it ("b" gets it); a default client "c" connects and upgrades to WebSocket. Then
// one JSON line {"connected":true} while all three stay connected, so the test can scrape
// the gauges; once the file --done exists, all three disconnect (socket.disconnect()) and
// the script ends when their last requests are done (no process.exit: it would cut the
// polling client's DISCONNECT and close POSTs short).
// Flags: --url http://127.0.0.1:PORT --done FILE
const fs = require("fs");
const { io } = require("socket.io-client");

const args = {};
for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].slice(2)] = process.argv[i + 1];
setTimeout(() => fail("timeout"), 30000).unref();

function fail(err) {
  console.error(String(err && err.stack || err));
  process.exit(1);
}

function connect(opts) {
  return new Promise((resolve, reject) => {
    const s = io(args.url, Object.assign({ reconnection: false }, opts));
    s.once("connect", () => resolve(s));
    s.once("connect_error", reject);
  });
}

(async () => {
  const a = await connect({ transports: ["websocket"] });
  const b = await connect({ transports: ["polling"] });
  const c = await connect({});
  const upgraded = new Promise((resolve) => {
    if (c.io.engine.transport.name === "websocket") resolve();
    else c.io.engine.once("upgrade", resolve);
  });
  await a.emitWithAck("join", "r");
  await b.emitWithAck("join", "r");
  const news = new Promise((resolve) => b.once("news", resolve));
  a.emit("publish", "r", "news", "hi");
  if ((await news) !== "hi") fail("news payload");
  await upgraded;
  console.log(JSON.stringify({ connected: true }));
  while (!fs.existsSync(args.done)) await new Promise((r) => setTimeout(r, 20));
  for (const s of [a, b, c]) s.disconnect();
  console.log(JSON.stringify({ ok: true }));
})().catch(fail);
