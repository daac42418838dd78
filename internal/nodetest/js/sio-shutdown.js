"use strict";
// sio-shutdown.js: a socket.io-client connects, emits "ready" (acked), then waits for the
// server to close (io.close() in Node). Reports the client's disconnect reason and whether
// the client would reconnect (socket.active), which is what a server shutdown must look
// like to a client: with Node 4.8, "transport close" and active.
//
// Flags:
//   --url http://127.0.0.1:PORT   (required)
//   --transports websocket        or polling
//   --timeout 20000
//
// Result: {ok, reason, active}

const c = require("./lib/common");
const { io } = require("socket.io-client");

const args = c.parseArgs({ transports: "websocket", timeout: "20000" });
if (!args.url) c.fail("missing --url");
const result = { ok: false };
c.hardTimeout(c.int(args.timeout, "timeout"), () => result);

const sock = io(args.url, {
  forceNew: true,
  transports: args.transports.split(","),
  reconnectionDelay: 60000, // report, do not actually come back during the test
});
sock.on("connect_error", (e) => c.fail("connect_error: " + e.message));
sock.on("connect", () => {
  sock.timeout(10000).emit("ready", (err) => {
    if (err) c.fail("ready not acked: " + err.message);
    c.log("ready acked");
  });
});
sock.on("disconnect", (reason) => {
  result.reason = reason;
  result.active = sock.active;
  result.ok = true;
  sock.close();
  c.finish(result);
});
