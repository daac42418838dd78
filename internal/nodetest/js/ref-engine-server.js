"use strict";
// The Node reference: an engine.io 6.6 echo server on 127.0.0.1, on a free
// port. Every "message" packet, text or binary, goes back unchanged to the same
// session. Used to prove the client scripts right and for side-by-side
// comparisons with riptide.
//
// Flags (all optional):
//   --path /engine.io/          request path (engine.io default "/engine.io/")
//   --ping-interval 25000       ms
//   --ping-timeout 20000        ms
//   --max-payload 1000000       maxHttpBufferSize, bytes
//   --upgrade-timeout 10000     ms
//   --transports polling,websocket
//   --allow-upgrades true
//   --cors-origin ORIGIN        enables the cors middleware: "*", "true" (reflect) or an origin
//   --cors-credentials false
//
// stdout: first line {"port":N,...} once listening; nothing else.
// stderr: one JSON line per session event ({"event":"connection"|"close"|"upgrade",...})
// so a test log shows how the reference ended each session.

const http = require("http");
const engine = require("engine.io");

const args = {};
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (!a.startsWith("--")) {
    process.stderr.write(`unexpected argument ${a}\n`);
    process.exit(2);
  }
  if (i + 1 < argv.length && !argv[i + 1].startsWith("--")) args[a.slice(2)] = argv[++i];
  else args[a.slice(2)] = "true";
}

function num(name) {
  if (args[name] === undefined) return undefined;
  const n = Number(args[name]);
  if (!Number.isInteger(n)) {
    process.stderr.write(`--${name} must be an integer\n`);
    process.exit(2);
  }
  return n;
}

const opts = {};
if (args.path) opts.path = args.path;
if (num("ping-interval") !== undefined) opts.pingInterval = num("ping-interval");
if (num("ping-timeout") !== undefined) opts.pingTimeout = num("ping-timeout");
if (num("max-payload") !== undefined) opts.maxHttpBufferSize = num("max-payload");
if (num("upgrade-timeout") !== undefined) opts.upgradeTimeout = num("upgrade-timeout");
if (args.transports) opts.transports = args.transports.split(",");
if (args["allow-upgrades"] !== undefined) opts.allowUpgrades = args["allow-upgrades"] === "true";
if (args["cors-origin"] !== undefined) {
  const o = args["cors-origin"];
  opts.cors = {
    origin: o === "true" ? true : o,
    credentials: args["cors-credentials"] === "true",
  };
}

const started = Date.now();
function event(obj) {
  obj.t = Date.now() - started;
  process.stderr.write(JSON.stringify(obj) + "\n");
}

const httpServer = http.createServer((req, res) => {
  // Requests outside the engine path: answer instead of hanging.
  res.writeHead(404, { "Content-Type": "text/plain" });
  res.end("not found");
});
const server = new engine.Server(opts);
server.attach(httpServer, opts);

server.on("connection", (socket) => {
  event({ event: "connection", sid: socket.id, transport: socket.transport.name });
  socket.on("message", (data) => socket.send(data));
  socket.on("upgrade", (transport) => event({ event: "upgrade", sid: socket.id, transport: transport.name }));
  socket.on("close", (reason, desc) => {
    event({
      event: "close",
      sid: socket.id,
      reason,
      description: desc ? String(desc.message || desc) : undefined,
    });
  });
});
server.on("connection_error", (err) => {
  event({ event: "connection_error", code: err.code, message: err.message, url: err.req && err.req.url });
});

httpServer.listen(0, "127.0.0.1", () => {
  const port = httpServer.address().port;
  process.stdout.write(
    JSON.stringify({
      port,
      path: server._computePath(opts),
      pingInterval: server.opts.pingInterval,
      pingTimeout: server.opts.pingTimeout,
      maxPayload: server.opts.maxHttpBufferSize,
      transports: server.opts.transports,
      cors: opts.cors || null,
    }) + "\n"
  );
});

for (const sig of ["SIGTERM", "SIGINT"]) {
  process.on(sig, () => {
    server.close();
    httpServer.close();
    process.exit(0);
  });
}
// Die with the parent: the Go harness (Start) holds our stdin open and sets
// NODETEST_WATCH_STDIN=1, so a killed test binary does not leave us running.
if (process.env.NODETEST_WATCH_STDIN === "1") {
  process.stdin.on("end", () => process.exit(0));
  process.stdin.on("error", () => process.exit(0));
  process.stdin.resume();
}
