"use strict";
// selftest.js: exercises the Go harness's contract (nodetest_test.go), not a
// server. --mode ok|fail|crash|hang|nojson|notok|server|server-exit|server-bad
const mode = process.argv[3] || "ok";

switch (mode) {
  case "ok":
    console.error("some progress on stderr");
    console.log("noise before the result");
    console.log(JSON.stringify({ ok: true, answer: 42 }));
    break;
  case "fail":
    console.error("about to fail");
    console.log(JSON.stringify({ ok: false, error: "echo #3 differs" }));
    process.exitCode = 1;
    break;
  case "crash":
    throw new Error("boom from selftest");
  case "hang":
    console.error("hanging");
    setInterval(() => {}, 1000);
    break;
  case "nojson":
    console.log("not json at all");
    break;
  case "notok":
    console.log(JSON.stringify({ ok: false, error: "but exit code 0" }));
    break;
  case "server":
    console.log(JSON.stringify({ port: 4242 }));
    console.error("server log line");
    setInterval(() => {}, 1000);
    break;
  case "server-exit":
    console.error("dying before listening");
    process.exit(3);
    break;
  case "server-bad":
    console.log("hello");
    setInterval(() => {}, 1000);
    break;
  default:
    console.error("unknown mode " + mode);
    process.exit(2);
}
