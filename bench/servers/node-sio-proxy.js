// Peer server for riptide's bench tool: node-sio.js (Node socket.io 4.8,
// default options, the same protocol) whose "ping" is handed to an
// application backend over HTTP, the way a Node app calls its backend, so
// that it does what riptide-proxy does with policy.events
// [{"name": "ping", "action": "proxy"}]:
//
//   "ping" (..., ack)   POST {"socket": {"id", "namespace"}, "event": "ping",
//                       "args": [...], "ack": true} to --backend with
//                       X-Riptide-Kind: event; ack(...reply.ack)
//
// Requests go through an http.Agent with keepAlive (connections pooled and
// reused, at most 256 kept idle: riptide's own bound), each bounded by 5 s
// (riptide's backend.timeout). A failed request acks the error riptide would
// send, {error: {code: "BACKEND_UNAVAILABLE", ...}}. Unlike riptide, Node
// does not hold a socket's next event until the backend has answered; the
// bench's clients have one event in flight each, so it makes no difference
// here.
//
// Usage: node node-sio-proxy.js --backend http://127.0.0.1:P/ [--port N] [--host H]
"use strict";

const http = require("http");
const { arg, protocol, serve } = require("./node-sio.js");

const backend = new URL(arg("--backend", ""));
const agent = new http.Agent({ keepAlive: true, maxFreeSockets: 256 });
const unavailable = { error: { code: "BACKEND_UNAVAILABLE", message: "backend unavailable" } };

// post sends body and calls done(err, reply) once, with the decoded JSON reply.
function post(body, callback) {
  let called = false;
  const done = (err, reply) => {
    if (!called) (called = true), callback(err, reply);
  };
  const req = http.request(
    {
      agent, hostname: backend.hostname, port: backend.port, path: backend.pathname, method: "POST",
      headers: {
        "Content-Type": "application/json",
        "Content-Length": Buffer.byteLength(body),
        "X-Riptide-Kind": "event",
      },
    },
    (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => {
        if (res.statusCode !== 200) return done(new Error("HTTP " + res.statusCode));
        try {
          done(null, JSON.parse(Buffer.concat(chunks)));
        } catch (err) {
          done(err);
        }
      });
    },
  );
  req.setTimeout(5000, () => req.destroy(new Error("timeout")));
  req.on("error", done);
  req.end(body);
}

serve((socket) =>
  protocol(socket, (...args) => {
    const ack = typeof args[args.length - 1] === "function" ? args.pop() : null;
    const body = JSON.stringify({
      socket: { id: socket.id, namespace: socket.nsp.name }, event: "ping", args, ack: ack !== null,
    });
    post(body, (err, reply) => {
      if (!ack) return;
      if (err) return ack(unavailable);
      ack(...(Array.isArray(reply.ack) ? reply.ack : [reply.ack]));
    });
  }),
);
