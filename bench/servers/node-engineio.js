// Reference server for riptide's bench tool: a plain Node engine.io 6.6 server
// with default options (pingInterval 25 s, pingTimeout 20 s, no
// perMessageDeflate) attached to an http.Server at path /socket.io/.
//
// Usage: node node-engineio.js [--port N] [--host H]
// Prints {"port":N} on stdout once listening. Exits on SIGTERM/SIGINT.
"use strict";

const path = require("path");
const http = require("http");

// The Node modules live with the interop tests; resolve them from this
// script's location so no second package.json is needed.
const modules = path.resolve(__dirname, "../../internal/nodetest/js/node_modules");
const engine = require(path.join(modules, "engine.io"));

function arg(name, def) {
  const i = process.argv.indexOf(name);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : def;
}

const host = arg("--host", "127.0.0.1");
const port = Number(arg("--port", "0"));

const httpServer = http.createServer((req, res) => {
  res.writeHead(404);
  res.end();
});
// Only the path differs from the defaults: engine.io serves /engine.io/ unless told otherwise.
const eio = engine.attach(httpServer, { path: "/socket.io" });
// No "connection" handler: the idle workload measures what engine.io itself
// keeps per session, without any application listeners.
void eio;

httpServer.listen(port, host, () => {
  process.stdout.write(JSON.stringify({ port: httpServer.address().port }) + "\n");
});

function shutdown() {
  process.exit(0);
}
process.on("SIGTERM", shutdown);
process.on("SIGINT", shutdown);
