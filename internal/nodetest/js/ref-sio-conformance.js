"use strict";
// The Node reference for riptide's cmd/conformance: socket.io 4.8 / engine.io
// 6.6 servers with exactly the handlers and options of
// /work/shared/conformance/CONTRACT.md, parts 1 and 2. The sio-*.js scenario
// scripts are proven against it before they judge riptide.
//
// Flags:
//   --suite-addr HOST:PORT     part 1, the protocol-suite server (default
//                              127.0.0.1:3000; "" = not started; port 0 = a free port)
//   --scenario-addr HOST:PORT  part 2, the scenario server (default
//                              127.0.0.1:3001; "" = not started)
//
// stdout: one line {"suite":PORT,"scenario":PORT} once every enabled listener
// is listening (a disabled listener's key is absent); nothing else.
// stderr: one JSON line per connection, disconnection and refusal, so a test
// log shows how the reference ended each socket.
//
// Choices the contract leaves open, made like a plain socket.io app would:
// serveClient is off (riptide does not serve the client bundle), and requests
// outside the Socket.IO paths get a 404.

const http = require("http");
const engine = require("engine.io");
const { Server } = require("socket.io");

const args = { "suite-addr": "127.0.0.1:3000", "scenario-addr": "127.0.0.1:3001" };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (!a.startsWith("--")) {
    process.stderr.write(`unexpected argument ${a}\n`);
    process.exit(2);
  }
  const eq = a.indexOf("=");
  if (eq > 0) args[a.slice(2, eq)] = a.slice(eq + 1);
  else if (i + 1 < argv.length && !argv[i + 1].startsWith("--")) args[a.slice(2)] = argv[++i];
  else args[a.slice(2)] = "";
}

const started = Date.now();
function event(obj) {
  obj.t = Date.now() - started;
  process.stderr.write(JSON.stringify(obj) + "\n");
}

function parseAddr(s, flag) {
  const i = s.lastIndexOf(":");
  const port = Number(s.slice(i + 1));
  if (i < 0 || !Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(`--${flag}: want HOST:PORT, got ${JSON.stringify(s)}\n`);
    process.exit(2);
  }
  let host = s.slice(0, i);
  if (host.startsWith("[") && host.endsWith("]")) host = host.slice(1, -1);
  return { host: host || undefined, port };
}

function notFound(req, res) {
  res.writeHead(404, { "Content-Type": "text/plain" });
  res.end("not found");
}

function logSockets(io, server) {
  const watch = (nsp) => {
    nsp.on("connection", (socket) => {
      event({
        server,
        event: "connection",
        nsp: nsp.name,
        id: socket.id,
        engineId: socket.conn.id,
        transport: socket.conn.transport.name,
        recovered: socket.recovered,
      });
      socket.on("disconnect", (reason) => event({ server, event: "disconnect", nsp: nsp.name, id: socket.id, reason }));
    });
  };
  io.on("new_namespace", watch);
  for (const nsp of io._nsps.values()) watch(nsp);
  io.engine.on("connection_error", (err) =>
    event({ server, event: "connection_error", code: err.code, message: err.message, url: err.req && err.req.url })
  );
}

// ---------------------------------------------------------------------------
// Part 1: the protocol-suite server.

function startSuite(addr) {
  const httpServer = http.createServer(notFound);
  const common = {
    pingInterval: 300,
    pingTimeout: 200,
    maxHttpBufferSize: 1e6,
    transports: ["polling", "websocket"],
    cors: { origin: "*" },
  };

  // /engine.io/: a plain Engine.IO echo server.
  const eio = new engine.Server(Object.assign({ path: "/engine.io/" }, common));
  eio.attach(httpServer, { path: "/engine.io/" });
  eio.on("connection", (socket) => {
    socket.on("message", (data) => socket.send(data));
  });

  // /socket.io/: the upstream socket.io-protocol test-suite server.
  const io = new Server(httpServer, Object.assign({ path: "/socket.io/", serveClient: false, connectTimeout: 1000 }, common));
  io.on("connection", (socket) => {
    socket.emit("auth", socket.handshake.auth);
    socket.on("message", (...a) => socket.emit("message-back", ...a));
    socket.on("message-with-ack", (...a) => {
      const ack = a.pop();
      if (typeof ack === "function") ack(...a);
    });
  });
  io.of("/custom").on("connection", (socket) => {
    socket.emit("auth", socket.handshake.auth);
  });
  logSockets(io, "suite");
  return listen(httpServer, addr);
}

// ---------------------------------------------------------------------------
// Part 2: the scenario server.

const ASK_TIMEOUT_MS = 1000;

// standardHandlers are the main server's per-socket handlers (CONTRACT 2.1).
function standardHandlers(socket) {
  socket.on("echo", (...a) => socket.emit("echo", ...a));

  socket.on("echo-ack", (...a) => {
    const ack = a.pop();
    if (typeof ack === "function") ack(...a);
  });

  socket.on("info", (ack) => {
    if (typeof ack !== "function") return;
    ack({
      nsp: socket.nsp.name,
      id: socket.id,
      engineId: socket.conn.id,
      transport: socket.conn.transport.name,
      auth: socket.handshake.auth,
    });
  });

  socket.on("ask", (...a) => {
    const ack = typeof a[a.length - 1] === "function" ? a.pop() : null;
    // An ack arriving after the timeout finds no callback and is dropped by
    // socket.io ("bad ack"): it does not break the connection.
    socket.timeout(ASK_TIMEOUT_MS).emit("question", ...a, (err, ...answers) => {
      if (!ack) return;
      if (err) ack({ ok: false, error: "timeout" });
      else ack({ ok: true, answers });
    });
  });

  socket.on("stream", (count, intervalMs, isVolatile) => {
    count = Math.max(0, Math.floor(Number(count)) || 0);
    intervalMs = Math.max(0, Math.floor(Number(intervalMs)) || 0);
    const item = (i) => (isVolatile ? socket.volatile : socket).emit("stream-item", i);
    if (intervalMs === 0) {
      for (let i = 0; i < count; i++) item(i);
      socket.emit("stream-end", count);
      return;
    }
    let i = 0;
    const timer = setInterval(() => {
      if (i < count) {
        item(i++);
        return;
      }
      clearInterval(timer);
      socket.emit("stream-end", count);
    }, intervalMs);
    socket.once("disconnect", () => clearInterval(timer));
  });

  // kick: a DISCONNECT for this namespace only.
  socket.on("kick", () => socket.disconnect());

  // drop: close the Engine.IO connection without Socket.IO DISCONNECT packets
  // (a WebSocket close, or the "1" close packet on long-polling).
  socket.on("drop", () => socket.conn.close());
}

function mainServer(httpServer) {
  const io = new Server(httpServer, {
    path: "/socket.io/",
    serveClient: false,
    pingInterval: 1000,
    pingTimeout: 2000,
    maxHttpBufferSize: 1e6,
    transports: ["polling", "websocket"],
    allowUpgrades: true,
    cors: { origin: "http://allowed.example", credentials: true },
  });
  // Namespace "/" emits nothing on connection.
  io.on("connection", standardHandlers);
  for (let i = 0; i < 20; i++) {
    const name = `/ns-${i}`;
    io.of(name).on("connection", (socket) => {
      socket.emit("hello", name);
      standardHandlers(socket);
    });
  }
  const priv = io.of("/private");
  priv.use((socket, next) => {
    const auth = socket.handshake.auth;
    if (auth && auth.token === "secret") return next();
    const err = new Error("not authorized");
    err.data = { code: 401, reason: "bad token" };
    next(err);
  });
  priv.on("connection", (socket) => {
    socket.emit("hello", "/private");
    standardHandlers(socket);
  });
  // Any other namespace is refused by socket.io itself with
  // CONNECT_ERROR {"message":"Invalid namespace"}.
  logSockets(io, "main");
  return io;
}

function recoveryServer(httpServer) {
  const io = new Server(httpServer, {
    path: "/recovery/",
    serveClient: false,
    pingInterval: 1000,
    pingTimeout: 2000,
    maxHttpBufferSize: 1e6,
    transports: ["polling", "websocket"],
    connectionStateRecovery: { maxDisconnectionDuration: 2000 },
  });
  io.on("connection", (socket) => {
    socket.on("join", (room, ack) => {
      socket.join(room);
      if (typeof ack === "function") ack();
    });
    socket.on("to-room", (room, ...a) => {
      const ack = typeof a[a.length - 1] === "function" ? a.pop() : null;
      io.to(room).emit("room-message", ...a);
      if (ack) ack();
    });
    socket.on("remember", (value, ack) => {
      socket.data.remembered = value;
      if (typeof ack === "function") ack();
    });
    socket.on("info", (ack) => {
      if (typeof ack !== "function") return;
      const remembered = socket.data.remembered;
      ack({
        id: socket.id,
        recovered: socket.recovered,
        rooms: [...socket.rooms].filter((r) => r !== socket.id).sort(),
        remembered: remembered === undefined ? null : remembered,
      });
    });
  });
  logSockets(io, "recovery");
  return io;
}

function startScenario(addr) {
  const httpServer = http.createServer(notFound);
  mainServer(httpServer);
  recoveryServer(httpServer);
  return listen(httpServer, addr);
}

function listen(httpServer, addr) {
  return new Promise((resolve, reject) => {
    httpServer.once("error", reject);
    httpServer.listen(addr.port, addr.host, () => resolve(httpServer.address().port));
  });
}

async function main() {
  const hello = {};
  if (args["suite-addr"] !== "") hello.suite = await startSuite(parseAddr(args["suite-addr"], "suite-addr"));
  if (args["scenario-addr"] !== "") hello.scenario = await startScenario(parseAddr(args["scenario-addr"], "scenario-addr"));
  if (hello.suite === undefined && hello.scenario === undefined) {
    process.stderr.write("nothing to serve: both --suite-addr and --scenario-addr are empty\n");
    process.exit(2);
  }
  process.stdout.write(JSON.stringify(hello) + "\n");
}

main().catch((e) => {
  process.stderr.write(`listen: ${e && e.stack ? e.stack : e}\n`);
  process.exit(1);
});

for (const sig of ["SIGTERM", "SIGINT"]) process.on(sig, () => process.exit(0));
// Die with the parent: the Go harness holds our stdin open and sets
// NODETEST_WATCH_STDIN=1, so a killed test binary does not leave us running.
if (process.env.NODETEST_WATCH_STDIN === "1") {
  process.stdin.on("end", () => process.exit(0));
  process.stdin.on("error", () => process.exit(0));
  process.stdin.resume();
}
