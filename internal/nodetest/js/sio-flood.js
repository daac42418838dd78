"use strict";
// sio-flood.js: one socket.io-client emits --n events ("e", i) as fast as it can, then
// "done" with an ack, for servers that must bound what a slow handler lets pile up: the
// server is expected to stop reading, and the client simply finishes later.
//
// Flags:
//   --url http://127.0.0.1:PORT   (required)
//   --n 2000
//   --size 100                    bytes of padding per event
//   --transports websocket        or polling
//   --timeout 60000
//
// Result: {ok, n, acked}

const c = require("./lib/common");
const { io } = require("socket.io-client");

const args = c.parseArgs({ n: "2000", size: "100", transports: "websocket", timeout: "60000" });
if (!args.url) c.fail("missing --url");
const n = c.int(args.n, "n");
const pad = "x".repeat(c.int(args.size, "size"));
const result = { ok: false, n, acked: false };
c.hardTimeout(c.int(args.timeout, "timeout"), () => result);

const sock = io(args.url, { forceNew: true, reconnection: false, transports: args.transports.split(",") });
sock.on("connect_error", (e) => c.fail("connect_error: " + e.message));
sock.on("disconnect", (r) => {
  if (!result.acked) c.fail("disconnected: " + r, result);
});
sock.on("connect", () => {
  for (let i = 0; i < n; i++) sock.emit("e", i, pad);
  c.log(`emitted ${n} events`);
  sock.timeout(c.int(args.timeout, "timeout")).emit("done", (err) => {
    if (err) c.fail("done not acked: " + err.message, result);
    result.acked = true;
    result.ok = true;
    sock.disconnect();
    c.finish(result);
  });
});
