"use strict";
// Moderation: "admin:kick" refused for a normal user ("error" forbidden + ack
// {ok:false}, the target stays), honoured for an admin (the target is
// disconnected by the server, the others are told).
//
// Asserts (see lib.js for flags and the result line), with A (alice), T
// (tom, the target), W (wendy, a witness) and M (admin-<tag>):
//   - A admin:kick T.id with ack: ack {ok:false}; A gets "error"
//     {message:"forbidden"} once; nobody else gets an error; T stays
//     connected (no disconnect) and can still chat (ack {ok:true}, everyone
//     gets the chat).
//   - M admin:kick T.id with ack: ack {ok:true}; T gets exactly one
//     "disconnect" with reason "io server disconnect" and does not reconnect
//     (socket.active false); its Engine.IO connection ends (the client closes
//     it once its only socket is gone, so whether the server closed it first,
//     as disconnectSockets(true) does, is not observable here); A, W and M get "user-disconnected" {id: T.id,
//     user: T} once; T gets nothing after the kick.
//   - M admin:kick of an unknown id: ack {ok:true}, nobody is disconnected.
//   - A, W and M still chat afterwards (ack {ok:true}).

const { Ctx, common } = require("./lib.js");

new Ctx("kick").run(async (ctx) => {
  ctx.step("connect A, T, W, M");
  const [a, t, w, m] = await ctx.connected(
    ["A", ctx.name("alice")],
    ["T", ctx.name("tom")],
    ["W", ctx.name("wendy")],
    ["M", ctx.name("admin")]
  );
  await ctx.settle();

  ctx.step("a non-admin cannot kick");
  const ack1 = await a.ack("admin:kick", t.id);
  ctx.observed.nonAdminKickAck = ack1;
  ctx.equal("non-admin kick ack", ack1, { ok: false });
  ctx.expect([a], "error", { message: "forbidden" });
  await ctx.settle();
  ctx.observed.nonAdminKickError = a.received("error")[0];
  ctx.check(t.isConnected() && t.disconnects.length === 0, `T was disconnected: ${JSON.stringify(t.disconnects)}`);

  ctx.step("the target still chats");
  const text = `still here, ${t.user}`;
  ctx.equal("T chat ack", await t.ack("chat", text), { ok: true });
  ctx.expect([a, t, w, m], "chat", { user: t.user, text });
  await ctx.settle();

  ctx.step("an admin kicks");
  const engine = t.socket.io.engine;
  const ack2 = await m.ack("admin:kick", t.id);
  ctx.observed.adminKickAck = ack2;
  ctx.equal("admin kick ack", ack2, { ok: true });
  ctx.expect([a, w, m], "user-disconnected", { id: t.id, user: t.user });
  await ctx.settle();
  await common.until(() => t.disconnects.length > 0, ctx.waitMs, "T disconnect").catch(() => {});
  ctx.observed.kickedDisconnects = t.disconnects;
  ctx.equal("T disconnect reasons", t.disconnects.map((d) => d.reason), ["io server disconnect"]);
  ctx.check(!t.isConnected() && !t.socket.active, `T still connected or reconnecting (active=${t.socket.active})`);
  try {
    await common.until(() => engine.readyState === "closed", ctx.waitMs, "T's Engine.IO connection to close");
  } catch (e) {
    ctx.check(false, `${e.message} (readyState ${engine.readyState})`);
  }
  ctx.observed.kickedEngineReadyState = engine.readyState;

  ctx.step("kicking an unknown id is a no-op");
  ctx.equal("admin kick unknown ack", await m.ack("admin:kick", `nobody-${ctx.tag}`), { ok: true });
  await ctx.settle();
  for (const c of [a, w, m]) ctx.check(c.isConnected() && c.disconnects.length === 0, `${c.label} was disconnected`);

  ctx.step("the others still chat");
  for (const c of [a, w, m]) {
    const tx = `after the kick, ${c.user}`;
    ctx.equal(`${c.label} chat ack`, await c.ack("chat", tx), { ok: true });
    ctx.expect([a, w, m], "chat", { user: c.user, text: tx });
  }
  await ctx.settle();
});
