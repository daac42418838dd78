"use strict";
// Rooms: "join" / "leave" with acks, "user-joined" / "user-left" to the other
// members only, "room-message" to the room only (the sender included when it
// is a member, even when it is not), and membership cleanup on disconnect.
//
// Asserts (see lib.js for flags and the result line), with A, B, C, D
// connected and rooms R = lobby-<tag>, R2 = attic-<tag>:
//   - A joins R: ack {room:R, members:1}; nobody gets user-joined.
//   - B joins R: ack members 2; A gets "user-joined" {room:R, user:B} once;
//     B, C, D get nothing.
//   - C joins R: ack members 3; A and B get user-joined for C; C and D nothing.
//   - A room-message {room:R, text}: A, B, C get "room-message" {room:R,
//     user:A, text} once; D (not a member) nothing.
//   - D (outsider) room-message to R: A, B, C get it with user D; D does not.
//   - B leaves R: ack {room:R}; A and C get "user-left" {room:R, user:B}
//     once; B and D nothing. A room-message to R then reaches A and C only.
//   - C joins R2: ack {room:R2, members:1}; C room-message to R2 reaches C only.
//   - B joins R again: ack members 3; A and C get user-joined for B.
//   - C disconnects: A, B, D get user-disconnected; D joins R: ack members 3
//     (A, B, D: the disconnected C was removed from R); A and B get
//     user-joined for D.

const { Ctx } = require("./lib.js");

new Ctx("rooms").run(async (ctx) => {
  ctx.step("connect A, B, C, D");
  const [a, b, c, d] = await ctx.connected(
    ["A", ctx.name("alice")],
    ["B", ctx.name("bob")],
    ["C", ctx.name("carol")],
    ["D", ctx.name("dave")]
  );
  await ctx.settle();
  const R = ctx.name("lobby");
  const R2 = ctx.name("attic");

  ctx.step("A joins an empty room");
  const j1 = await a.ack("join", R);
  ctx.observed.joinAck = j1;
  ctx.equal("A join ack", j1, { room: R, members: 1 });
  await ctx.settle();

  ctx.step("B joins: only A is told");
  ctx.equal("B join ack", await b.ack("join", R), { room: R, members: 2 });
  ctx.expect([a], "user-joined", { room: R, user: b.user });
  await ctx.settle();
  ctx.observed.userJoined = a.received("user-joined")[0];

  ctx.step("C joins: only A and B are told");
  ctx.equal("C join ack", await c.ack("join", R), { room: R, members: 3 });
  ctx.expect([a, b], "user-joined", { room: R, user: c.user });
  await ctx.settle();

  ctx.step("room-message from a member reaches the room only");
  const t1 = `hello room from ${a.user}`;
  a.emit("room-message", { room: R, text: t1 });
  ctx.expect([a, b, c], "room-message", { room: R, user: a.user, text: t1 });
  await ctx.settle();
  ctx.observed.roomMessage = b.received("room-message")[0];

  ctx.step("room-message from an outsider reaches the room, not the outsider");
  const t2 = `knock knock from ${d.user}`;
  d.emit("room-message", { room: R, text: t2 });
  ctx.expect([a, b, c], "room-message", { room: R, user: d.user, text: t2 });
  await ctx.settle();

  ctx.step("B leaves: A and C are told");
  const l1 = await b.ack("leave", R);
  ctx.observed.leaveAck = l1;
  ctx.equal("B leave ack", l1, { room: R });
  ctx.expect([a, c], "user-left", { room: R, user: b.user });
  await ctx.settle();
  ctx.observed.userLeft = a.received("user-left")[0];

  ctx.step("room-message after B left skips B");
  const t3 = `B is gone, ${ctx.tag}`;
  a.emit("room-message", { room: R, text: t3 });
  ctx.expect([a, c], "room-message", { room: R, user: a.user, text: t3 });
  await ctx.settle();

  ctx.step("a second room is separate");
  ctx.equal("C join R2 ack", await c.ack("join", R2), { room: R2, members: 1 });
  const t4 = `alone in the attic, ${ctx.tag}`;
  c.emit("room-message", { room: R2, text: t4 });
  ctx.expect([c], "room-message", { room: R2, user: c.user, text: t4 });
  await ctx.settle();

  ctx.step("B joins R again");
  ctx.equal("B rejoin ack", await b.ack("join", R), { room: R, members: 3 });
  ctx.expect([a, c], "user-joined", { room: R, user: b.user });
  await ctx.settle();

  ctx.step("a disconnected member leaves its rooms");
  ctx.leave(c);
  await ctx.settle();
  ctx.step("D joins after C disconnected");
  ctx.equal("D join ack after C left", await d.ack("join", R), { room: R, members: 3 });
  ctx.expect([a, b], "user-joined", { room: R, user: d.user });
  await ctx.settle();
});
