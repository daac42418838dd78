"use strict";
// adminui-clients.js: keeps real socket.io-client sockets connected while a Go test drives
// the Socket.IO Admin UI in a browser, and writes down how each one disconnects.
//
// Flags:
//   --url URL          the server (namespace "/")
//   --clients SPEC     NAME:ROOM[,NAME:ROOM...]: one client per entry (default transports:
//                      polling, then the upgrade), joining ROOM with the app's "join" event
//   --out FILE         one JSON line appended per disconnect: {"name","reason"}
//   --timeout 150000
//
// Prints {"ids": {NAME: socket id}} once every client is connected and in its room, then
// stays until killed (or, under the Go harness, until its stdin closes).

const fs = require("fs");
const { io } = require("socket.io-client");
const c = require("./lib/common");

const args = c.parseArgs({ timeout: "150000" });
for (const k of ["url", "clients", "out"]) if (!args[k]) c.fail(`missing --${k}`);
c.hardTimeout(c.int(args.timeout, "timeout"), () => ({}));
if (process.env.NODETEST_WATCH_STDIN === "1") {
  process.stdin.on("end", () => process.exit(0));
  process.stdin.on("error", () => process.exit(0));
  process.stdin.resume();
}

function start(name, room) {
  return new Promise((resolve, reject) => {
    const socket = io(args.url, { reconnection: false, forceNew: true, timeout: 10000 });
    socket.on("disconnect", (reason) => {
      c.log(name, "disconnected:", reason);
      fs.appendFileSync(args.out, JSON.stringify({ name, reason }) + "\n");
    });
    socket.once("connect_error", (err) => reject(new Error(`${name}: ${err.message}`)));
    socket.once("connect", () => {
      socket.timeout(10000).emit("join", room, (err) => (err ? reject(new Error(`${name}: join timed out`)) : resolve([name, socket.id])));
    });
  });
}

Promise.all(args.clients.split(",").map((s) => start(...s.split(":"))))
  .then((pairs) => process.stdout.write(JSON.stringify({ ids: Object.fromEntries(pairs) }) + "\n"))
  .catch((e) => c.fail(e.message));
