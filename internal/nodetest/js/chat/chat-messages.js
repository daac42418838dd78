"use strict";
// Messaging: "chat" to everyone with an ack, "whisper" to everyone but the
// sender, "question"/"answer" to the asker only, and the per-packet middleware
// that rejects invalid chat messages with an "error" event to the sender only.
//
// Asserts (see lib.js for flags and the result line), with clients A, B, C:
//   - A chat "hello everyone" with ack: ack is {ok:true}; A, B and C each get
//     "chat" {user:A, text} exactly once.
//   - B chat without ack: everyone gets it once (no ack argument is fine).
//   - A sends 5 chats in a row: B gets them in order.
//   - A whisper: B and C get "whisper" {user:A, text} once; A gets nothing.
//   - B question "what time is it? é": B gets "answer" "WHAT TIME IS IT? É"
//     once; A and C get no answer.
//   - C sends invalid chats: "" (empty), 42 (number), 201 x "x", and no
//     argument at all: C gets "error" {message:"invalid message"} once per
//     packet (4 in total), A and B get no error, nobody gets a chat from C.
//   - C chat with exactly 200 "y" and ack: accepted (boundary), ack {ok:true},
//     everyone gets it; C's earlier rejections did not break its session.

const { Ctx } = require("./lib.js");

new Ctx("messages").run(async (ctx) => {
  ctx.step("connect A, B, C");
  const [a, b, c] = await ctx.connected(["A", ctx.name("alice")], ["B", ctx.name("bob")], ["C", ctx.name("carol")]);
  const all = [a, b, c];
  await ctx.settle();

  ctx.step("chat with ack reaches everyone");
  const text1 = `hello everyone from ${a.user}`;
  const ack1 = await a.ack("chat", text1);
  ctx.observed.chatAck = ack1;
  ctx.equal("chat ack", ack1, { ok: true });
  ctx.expect(all, "chat", { user: a.user, text: text1 });
  await ctx.settle();
  ctx.observed.chat = b.received("chat")[0];

  ctx.step("chat without ack reaches everyone");
  const text2 = `no ack needed, ${b.user}`;
  b.emit("chat", text2);
  ctx.expect(all, "chat", { user: b.user, text: text2 });
  await ctx.settle();

  ctx.step("chat burst keeps order");
  const burst = [1, 2, 3, 4, 5].map((i) => `burst ${i} ${ctx.tag}`);
  for (const t of burst) a.emit("chat", t);
  for (const t of burst) ctx.expect(all, "chat", { user: a.user, text: t });
  await ctx.settle();
  const order = b.received("chat").map((x) => x[0].text).filter((t) => burst.includes(t));
  ctx.equal("burst order at B", order, burst);

  ctx.step("whisper reaches all but the sender");
  const text3 = `psst from ${a.user}`;
  a.emit("whisper", text3);
  ctx.expect([b, c], "whisper", { user: a.user, text: text3 });
  await ctx.settle();
  ctx.observed.whisper = b.received("whisper")[0];

  ctx.step("answer reaches the asker only");
  b.emit("question", "what time is it? é");
  ctx.expect([b], "answer", "WHAT TIME IS IT? É");
  await ctx.settle();
  ctx.observed.answer = b.received("answer")[0];

  ctx.step("invalid chats are rejected to the sender only");
  c.emit("chat", "");
  c.emit("chat", 42);
  c.emit("chat", "x".repeat(201));
  c.emit("chat");
  for (let i = 0; i < 4; i++) ctx.expect([c], "error", { message: "invalid message" });
  await ctx.settle();
  ctx.observed.invalidChatError = c.received("error")[0];
  ctx.check(c.isConnected(), "C was disconnected after invalid chats");

  ctx.step("chat of exactly 200 characters is accepted");
  const text4 = "y".repeat(200);
  const ack4 = await c.ack("chat", text4);
  ctx.equal("chat ack (200 chars)", ack4, { ok: true });
  ctx.expect(all, "chat", { user: c.user, text: text4 });
  await ctx.settle();
});
