"use strict";
// backend-express.js: a Node chat app's server logic (Express; its auth middleware, its
// per-event permission check and message validation, its error handler) moved behind
// riptide: riptide POSTs connections and events to it (backend.url) and it pushes to rooms
// through riptide's server API. Used by cmd/riptide's backend tests.
//
// Flags: --secret S      riptide's backend.secret (requests are signed with it)
//        --jwt-secret J  the HS256 secret of the users' tokens
//        --api URL       riptide's server API base (http://host:port), optional
//        --api-key K
// Prints {"port":N} on its first stdout line. Routes:
//   POST /riptide         riptide's requests (X-Riptide-Kind: connect | event | join | webhook)
//   POST /push            {room, event, args}: push through riptide's server API
//   POST /mode            {mode: "" | "down" | "slow" | "garbage"}: misbehave on /riptide
//   GET  /seen            what the backend received: {events, webhooks}

const crypto = require("crypto");
const express = require("express");
const { jwtVerify } = require("jose");
const c = require("./lib/common");

const args = c.parseArgs({});
const users = { // the app's user store (User.findById in the guide)
  ana: { id: "ana", name: "Ana", permissions: ["admin"] },
  ben: { id: "ben", name: "Ben", permissions: [] },
};
let mode = "";
const seen = { events: [], webhooks: [] };

const app = express();
// The raw body is needed to check the signature.
app.use(express.raw({ type: "application/json", limit: "1mb" }));

// verifySignature is the check the docs show: HMAC-SHA256 over "timestamp.body", a fresh
// timestamp, compared in constant time.
function verifySignature(req) {
  const ts = req.get("X-Riptide-Timestamp") || "";
  const sig = req.get("X-Riptide-Signature") || "";
  if (Math.abs(Date.now() / 1000 - Number(ts)) > 300) return false;
  const want = "v1=" + crypto.createHmac("sha256", args.secret).update(ts + "." + req.body.toString("utf8")).digest("hex");
  return sig.length === want.length && crypto.timingSafeEqual(Buffer.from(sig), Buffer.from(want));
}

// socketAuth: the token from the handshake's auth, verified, and the user looked up.
async function socketAuth(r) {
  const token = r.auth && r.auth.token;
  if (!token) return { error: { code: "AUTH_REQUIRED", message: "authentication token missing" } };
  try {
    const { payload } = await jwtVerify(token, new TextEncoder().encode(args["jwt-secret"]));
    const user = users[payload.id];
    if (!user) return { error: { code: "USER_NOT_FOUND", message: "user does not exist" } };
    return { user: user.id, data: { name: user.name }, permissions: user.permissions, rooms: ["user:" + user.id] };
  } catch (e) {
    return { error: { code: "AUTH_FAILED", message: "authentication failed" } };
  }
}

// onEvent: what the guide's handlers did, answering through the ack and actions.
function onEvent(r) {
  const [data] = r.args;
  switch (r.event) {
    case "message": // validation middleware: a message needs content
      if (!data || !data.content) return { error: { code: "VALIDATION_ERROR", message: "invalid message" } };
      return { ack: [{ received: true }], actions: [{ emit: { event: "reply", args: ["message received"] } }] };
    case "admin-action": { // authorizeSocket("admin")
      const perms = (r.socket.claims && r.socket.claims.permissions) || [];
      if (!perms.includes("admin")) return { error: { code: "FORBIDDEN", message: "insufficient permissions" } };
      return { ack: [{ done: data && data.op }] };
    }
    case "upload": // binary in and out
      return { ack: [{ size: Buffer.from(data.$binary, "base64").length, back: { $binary: data.$binary } }] };
    default:
      return { error: { code: "UNKNOWN_EVENT", message: "unknown event" } };
  }
}

app.post("/riptide", async (req, res) => {
  if (mode === "down") return res.status(503).send("down");
  if (mode === "slow") await c.sleep(3000);
  if (mode === "garbage") return res.type("html").send("<h1>oops</h1>");
  if (!verifySignature(req)) return res.status(401).json({ error: { code: "BAD_SIGNATURE", message: "bad signature" } });
  const body = JSON.parse(req.body.toString("utf8"));
  switch (req.get("X-Riptide-Kind")) {
    case "connect":
      return res.json(await socketAuth(body));
    case "event":
      seen.events.push({ socket: body.socket.id, user: body.socket.user, event: body.event });
      return res.json(onEvent(body));
    case "join":
      return res.json({});
    case "webhook":
      seen.webhooks.push(...body.events);
      return res.json({});
  }
  res.status(400).json({ error: { code: "BAD_KIND", message: "unknown kind" } });
});

// push: the app pushes to a room through riptide's server API.
app.post("/push", async (req, res) => {
  const body = JSON.parse(req.body.toString("utf8") || "{}");
  const r = await fetch(args.api + "/api/emit", {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: "Bearer " + args["api-key"] },
    body: JSON.stringify({ rooms: [body.room], event: body.event, args: body.args || [] }),
  });
  res.status(r.status).json(await r.json());
});

app.post("/mode", (req, res) => {
  mode = JSON.parse(req.body.toString("utf8")).mode || "";
  res.json({ mode });
});
app.get("/seen", (req, res) => res.json(seen));

const server = app.listen(0, "127.0.0.1", () => {
  process.stdout.write(JSON.stringify({ port: server.address().port }) + "\n");
});
process.stdin.on("end", () => process.exit(0)); // the test closes stdin to stop it
process.stdin.resume();
