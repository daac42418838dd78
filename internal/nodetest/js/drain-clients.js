"use strict";
// drain-clients.js: what socket.io-client sees of a riptide node draining on SIGTERM.
//
// A WebSocket client, a polling client and --extra more WebSocket clients connect to
// cmd/riptide. The first two emit "ping" with an ack, and the script sends SIGTERM to the
// server (--pid) right after, before the acks can have come back. Then, in order:
//   1. during drain.delay (--during-after ms after SIGTERM, so the server has surely
//      started draining) a new client (polling first, then upgrading) still connects;
//   2. once the first client was closed by the drain (the waves start after the delay), a
//      polling handshake must get HTTP 503 {"code":"SERVER_DRAINING",...};
//   3. every client is disconnected by the server with a transport-level close ("transport
//      close" or "transport error", never "io server disconnect"), while socket.active says
//      it would reconnect by itself (the reconnection delay is long, so it does not come back
//      during the test).
// The acks must arrive before their socket's disconnect.
//
// Flags:
//   --url http://127.0.0.1:PORT   (required)
//   --pid N                       (required) the riptide process to send SIGTERM to
//   --extra 4                     more WebSocket clients, so the waves take a while
//   --during-after 500            when the client of step 1 connects; well inside the delay
//   --timeout 30000
//
// Result: {ok, acks, during, refused: {status, body}, clients: [{name, reason, active, atMs}]}

const http = require("http");
const c = require("./lib/common");
const { io } = require("socket.io-client");

const args = c.parseArgs({ extra: "4", "during-after": "500", timeout: "30000" });
if (!args.url) c.fail("missing --url");
const pid = c.int(args.pid, "pid");
const result = { ok: false, acks: {}, clients: [] };
c.hardTimeout(c.int(args.timeout, "timeout"), () => result);

let sigterm = 0; // when SIGTERM was sent (ms since start)
const disconnected = []; // resolved per client

function client(name, transports) {
  const sock = io(args.url, {
    forceNew: true,
    transports,
    reconnectionDelay: 60000, // report, do not actually come back during the test
    reconnectionDelayMax: 60000,
  });
  const info = { name };
  const connected = new Promise((resolve, reject) => {
    sock.once("connect", () => resolve(sock));
    sock.once("connect_error", (e) => reject(new Error(`${name}: connect_error ${e.message}`)));
  });
  disconnected.push(
    new Promise((resolve) => {
      sock.once("disconnect", (reason, desc) => {
        info.reason = reason;
        info.active = sock.active;
        info.atMs = c.elapsed() - sigterm;
        info.detail = c.closeInfo(reason, desc);
        result.clients.push(info);
        c.log(`${name} disconnected: ${reason} (active ${sock.active}) ${info.atMs} ms after SIGTERM`);
        sock.close();
        resolve(info);
      });
    })
  );
  return { sock, connected, info };
}

function handshake() {
  return new Promise((resolve, reject) => {
    const u = new URL("/socket.io/?EIO=4&transport=polling", args.url);
    http
      .get(u, (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (d) => (body += d));
        res.on("end", () => resolve({ status: res.statusCode, body }));
      })
      .on("error", reject);
  });
}

(async () => {
  const ws = client("websocket", ["websocket"]);
  const polling = client("polling", ["polling"]);
  const extras = [];
  for (let i = 0; i < c.int(args.extra, "extra"); i++) extras.push(client(`extra-${i}`, ["websocket"]));
  await Promise.all([ws, polling, ...extras].map((x) => x.connected));
  c.log("all connected");

  // Acks requested just before SIGTERM: each must arrive before its socket is closed.
  const acks = [ws, polling].map(({ sock, info }) =>
    sock
      .timeout(10000)
      .emitWithAck("ping", info.name)
      .then((reply) => {
        if (info.reason) throw new Error(`${info.name}: ack after the disconnect`);
        result.acks[info.name] = reply;
      })
  );
  process.kill(pid, "SIGTERM");
  sigterm = c.elapsed();
  c.log("SIGTERM sent");

  await c.sleep(c.int(args["during-after"], "during-after"));
  const during = client("during-delay", ["polling", "websocket"]);
  await during.connected;
  result.during = { atMs: c.elapsed() - sigterm, transport: during.sock.io.engine.transport.name };
  c.log(`connected during the delay, ${result.during.atMs} ms after SIGTERM`);
  await Promise.all(acks);

  // The waves begin once handshakes are refused: after the first close, a handshake must
  // be refused.
  await Promise.race(disconnected);
  result.refused = await handshake();
  c.log(`handshake after the delay: ${result.refused.status} ${result.refused.body}`);

  await Promise.all(disconnected);
  result.ok = true;
  c.finish(result);
})().catch((e) => c.fail(e && e.stack ? e.stack : e, { state: result }));
