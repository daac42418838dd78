"use strict";
// Presence and plain HTTP: GET /healthz, "welcome" to the new socket only,
// "user-connected" to the sockets already there only, "user-disconnected" to
// the ones that stay when a client leaves.
//
// Asserts (see lib.js for flags and the result line):
//   - GET /healthz answers 200 with body "ok" (observed.healthz has the status,
//     body and content-type).
//   - A, B, C connect one after the other (names alice/bob/carol-<tag>): each
//     gets exactly one "welcome" {id: its socket.id, user: its name}; A gets
//     "user-connected" {id,user} for B and C, B only for C, C none; nobody gets
//     a welcome or user-connected about itself.
//   - C disconnects: A and B get "user-disconnected" {id: C.id, user: C} exactly once.
//   - D (dave) connects after that: A and B get user-connected for D, not for C again.
//   - Nothing else about this run's users reaches anyone.

const { Ctx } = require("./lib.js");

new Ctx("presence").run(async (ctx) => {
  ctx.step("healthz");
  const res = await fetch(new URL("/healthz", ctx.args.url));
  const body = await res.text();
  ctx.observed.healthz = { status: res.status, body, contentType: res.headers.get("content-type") };
  ctx.equal("GET /healthz status", res.status, 200);
  ctx.equal("GET /healthz body", body, "ok");
  ctx.steps.push("healthz");

  ctx.step("connect A, B, C");
  const [a, b, c] = await ctx.connected(["A", ctx.name("alice")], ["B", ctx.name("bob")], ["C", ctx.name("carol")]);
  await ctx.settle();
  ctx.observed.welcome = a.received("welcome")[0];
  ctx.observed.userConnected = a.received("user-connected")[0];
  ctx.check(a.id !== b.id && b.id !== c.id && a.id !== c.id, `socket ids not distinct: ${a.id} ${b.id} ${c.id}`);

  ctx.step("C leaves");
  ctx.leave(c);
  await ctx.settle();
  ctx.observed.userDisconnected = a.received("user-disconnected")[0];
  ctx.equal("C disconnect reasons", c.disconnects.map((d) => d.reason), ["io client disconnect"]);

  ctx.step("D connects after C left");
  const [d] = await ctx.connected(["D", ctx.name("dave")]);
  await ctx.settle();
  ctx.check(d.id !== c.id, "D reuses C's socket id");
});
