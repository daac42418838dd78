"use strict";
// sio-churn.js: waves of short-lived socket.io-client connections, for servers that must
// give back what a connection took (goroutines, timers) once it is gone.
//
// Each client connects (a fresh Manager: one Engine.IO session each), emits "join" with a
// room name and waits for the ack, then disconnects. At most --concurrency are in flight.
//
// Flags:
//   --url http://127.0.0.1:PORT   (required)
//   --n 1000                      clients
//   --concurrency 200
//   --transports polling,websocket
//   --abrupt                      drop the TCP connection instead of disconnecting (the
//                                 server sees a transport error, no close packet)
//   --timeout 60000
//
// Result: {ok, n, joined, errors}

const c = require("./lib/common");
const { io } = require("socket.io-client");

const args = c.parseArgs({ abrupt: "false", n: "1000", concurrency: "200", transports: "polling,websocket", timeout: "60000" });
if (!args.url) c.fail("missing --url");
const n = c.int(args.n, "n");
const concurrency = c.int(args.concurrency, "concurrency");
const transports = args.transports.split(",");
const abrupt = c.bool(args.abrupt);
const result = { ok: false, n, joined: 0, errors: 0 };
c.hardTimeout(c.int(args.timeout, "timeout"), () => result);

function one(i) {
  return new Promise((resolve) => {
    const sock = io(args.url, { forceNew: true, reconnection: false, transports, timeout: 20000 });
    const done = (ok) => {
      if (!ok) result.errors++;
      const ws = abrupt && sock.io.engine && sock.io.engine.transport && sock.io.engine.transport.ws;
      if (ws && ws._socket) {
        sock.io.reconnection(false);
        ws._socket.destroy();
        sock.io.engine.removeAllListeners();
      } else {
        sock.disconnect();
      }
      resolve();
    };
    sock.on("connect_error", () => done(false));
    sock.on("connect", () => {
      sock.timeout(20000).emit("join", `room-${i % 50}`, (err) => {
        if (!err) result.joined++;
        done(!err);
      });
    });
  });
}

(async () => {
  let next = 0;
  const lane = async () => {
    while (next < n) await one(next++);
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  result.ok = result.joined === n;
  if (!result.ok) result.error = `${result.joined} of ${n} joined`;
  c.finish(result);
})();
