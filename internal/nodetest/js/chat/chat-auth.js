"use strict";
// The connection middleware: auth.token is the user name; a missing or empty
// token and the name "banned" are refused with a connect_error; names starting
// with "admin" connect like anyone else.
//
// Asserts (see lib.js for flags and the result line):
//   - A (alice-<tag>) connects and gets its welcome.
//   - no auth option at all: connect_error with message "missing token" and
//     no data (err.data undefined); the client does not connect.
//   - auth {} and auth {token:""}: the same.
//   - auth {token:"banned"}: connect_error "forbidden" with data
//     {reason:"banned"}.
//   - the refused clients stay disconnected (no retry: socket.active false)
//     and receive no events; A gets no user-connected / user-disconnected for
//     any of them.
//   - admin-<tag> connects: welcome {id, user:"admin-<tag>"}; A gets
//     user-connected for it.

const { Ctx, stable } = require("./lib.js");

new Ctx("auth").run(async (ctx) => {
  ctx.step("a user connects");
  const [a] = await ctx.connected(["A", ctx.name("alice")]);
  await ctx.settle();

  const cases = [
    ["no auth option", "NoAuth", null, { message: "missing token" }],
    ["empty auth", "EmptyAuth", {}, { message: "missing token" }],
    ["empty token", "EmptyToken", { token: "" }, { message: "missing token" }],
    ["banned", "Banned", { token: "banned" }, { message: "forbidden", data: { reason: "banned" } }],
  ];
  ctx.observed.connectErrors = {};
  for (const [what, label, auth, want] of cases) {
    ctx.step(`refused: ${what}`);
    const c = ctx.client(label, auth && auth.token !== undefined ? auth.token : undefined, auth);
    const err = await c.refused();
    ctx.observed.connectErrors[label] = { message: err.message, data: err.data === undefined ? "(undefined)" : err.data };
    ctx.equal(`${what}: connect_error message`, err.message, want.message);
    if (want.data === undefined) {
      ctx.check(err.data === undefined, `${what}: connect_error data is ${stable(err.data)}, want undefined`);
    } else {
      ctx.equal(`${what}: connect_error data`, err.data, want.data);
    }
    await ctx.settle();
    ctx.check(!c.isConnected() && !c.socket.active, `${what}: client is connected or retrying (active=${c.socket.active})`);
    ctx.check(c.disconnects.length === 0, `${what}: got disconnect ${stable(c.disconnects)}`);
  }

  ctx.step("an admin connects like anyone");
  const [adm] = await ctx.connected(["Admin", ctx.name("admin")]);
  await ctx.settle();
  ctx.observed.adminWelcome = adm.received("welcome")[0];
  ctx.check(a.isConnected(), "A was disconnected");
});
