"use strict";
// adminui-browser.js: the real Socket.IO Admin UI (the static build of @socket.io/admin-ui)
// in a real headless Chromium, driven with puppeteer-core, against a server. Clients
// (socket.io-client, default transports) connect and join rooms; the script logs the UI in
// through its connection form, checks that the dashboard, the socket list and the room list
// show them, clicks the disconnect button of one of them, and reports what that client saw.
//
// Flags:
//   --ui URL           where the UI's static files are served (http://127.0.0.1:PORT/)
//   --server URL       the server the UI and the clients connect to
//   --username U --password P
//   --server-id ID     the serverId the dashboard must list
//   --clients SPEC     NAME:ROOM[,NAME:ROOM...]
//   --disconnect NAME  the client whose disconnect button the script clicks
//   --chromium PATH    the browser executable
//   --screenshots DIR  where admin-ui.png (the dashboard), admin-ui-sockets.png and
//                      admin-ui-rooms.png are written (failure.png when it fails)
//   --timeout 150000
//
// The first client connects before the UI logs in, the others after.
// Every wait is on a DOM condition or an event, bounded (--wait-ms, default 30000): no fixed
// sleeps. The browser reaches 127.0.0.1 only: the UI's web font and icon stylesheets
// (Google Fonts, jsDelivr) are answered from the local @mdi/font package or refused, and
// --host-resolver-rules resolves no other host.
//
// Result: {ok, ids: {NAME: id}, disconnectReason, steps: [...]}.

const fs = require("fs");
const path = require("path");
const puppeteer = require("puppeteer-core");
const { io } = require("socket.io-client");
const c = require("./lib/common");

const args = c.parseArgs({ timeout: "150000", "wait-ms": "30000" });
for (const k of ["ui", "server", "username", "password", "server-id", "clients", "disconnect", "chromium", "screenshots"]) {
  if (!args[k]) c.fail(`missing --${k}`);
}
const waitMs = c.int(args["wait-ms"], "wait-ms");
const steps = [];
const step = (s) => {
  steps.push(s);
  c.log(s);
};
let browser, page;
c.hardTimeout(c.int(args.timeout, "timeout"), () => ({ steps }));

const mdiDir = path.dirname(require.resolve("@mdi/font/package.json"));
const mdiPrefix = "https://cdn.jsdelivr.net/npm/@mdi/font@latest/";
const types = { ".css": "text/css", ".woff2": "font/woff2", ".woff": "font/woff", ".ttf": "font/ttf" };

// startClient connects one client and joins its room; it resolves with the client.
function startClient(name, room) {
  return new Promise((resolve, reject) => {
    const socket = io(args.server, { reconnection: false, forceNew: true, timeout: 10000 });
    const cl = { name, socket, disconnected: new Promise((r) => socket.on("disconnect", r)) };
    socket.once("connect_error", (err) => reject(new Error(`${name}: ${err.message}`)));
    socket.once("connect", () => {
      socket.timeout(10000).emit("join", room, (err) => (err ? reject(new Error(`${name}: join timed out`)) : resolve(cl)));
    });
  });
}

// untilText waits until every string is (or, with absent, none is) in the page's text.
async function untilText(page, what, strings, absent) {
  try {
    await page.waitForFunction(
      (strings, absent) => strings.every((s) => document.body.innerText.includes(s) !== absent),
      { timeout: waitMs, polling: 100 },
      strings,
      !!absent
    );
  } catch (e) {
    const text = await page.evaluate(() => document.body.innerText).catch(() => "?");
    throw new Error(`${what}: ${e.message}; the page says:\n${text.slice(0, 2000)}`);
  }
  step(what);
}

async function show(page, hash) {
  await page.evaluate((h) => {
    location.hash = h;
  }, hash);
}

// shot waits for the page transitions (Vue's *-enter-active and *-leave-active classes) to
// end, then saves a screenshot.
async function shot(page, name) {
  await page.waitForFunction(() => !document.querySelector('[class*="-enter-active"], [class*="-leave-active"]'), {
    timeout: waitMs,
    polling: 50,
  });
  await page.screenshot({ path: path.join(args.screenshots, name) });
}

(async () => {
  // The first client connects before the UI (the UI learns of it from all_sockets), the
  // others after it logged in (from the feed: socket_connected, room_joined).
  const specs = args.clients.split(",").map((s) => s.split(":"));
  const rooms = specs.map((s) => s[1]);
  const clients = [await startClient(...specs[0])];
  step("first client connected: " + clients[0].socket.id);

  browser = await puppeteer.launch({
    executablePath: args.chromium,
    headless: true,
    defaultViewport: { width: 1280, height: 800 },
    args: ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"],
  });
  page = await browser.newPage();
  page.on("console", (m) => c.log("console:", m.type(), m.text()));
  page.on("pageerror", (e) => c.log("page error:", e.message));
  await page.setRequestInterception(true);
  page.on("request", (req) => {
    const url = req.url();
    if (url.startsWith("http://127.0.0.1")) return req.continue();
    if (url.startsWith(mdiPrefix)) {
      const file = path.join(mdiDir, new URL(url).pathname.slice(new URL(mdiPrefix).pathname.length));
      if (file.startsWith(mdiDir + path.sep) && fs.existsSync(file)) {
        return req.respond({
          status: 200,
          contentType: types[path.extname(file)] || "application/octet-stream",
          headers: { "Access-Control-Allow-Origin": "*" }, // fonts are fetched with CORS
          body: fs.readFileSync(file),
        });
      }
    }
    return req.abort("blockedbyclient");
  });

  await page.goto(args.ui, { waitUntil: "domcontentloaded", timeout: waitMs });
  // Vuetify text fields: <label>Server URL</label><input>, inside the connection dialog.
  const field = (label) => `::-p-xpath(//div[contains(@class,"v-dialog")]//label[normalize-space()="${label}"]/following-sibling::input)`;
  const urlInput = field("Server URL");
  await page.waitForSelector(urlInput, { visible: true, timeout: waitMs });
  step("connection form shown");
  await page.type(urlInput, args.server);
  await page.type(field("Username"), args.username);
  await page.type(field("Password"), args.password);
  await page.click('.v-dialog button[type="submit"]');
  await page.waitForSelector(urlInput, { hidden: true, timeout: waitMs });
  step("connected: the form closed");
  clients.push(...(await Promise.all(specs.slice(1).map((s) => startClient(...s)))));
  const ids = Object.fromEntries(clients.map((cl) => [cl.name, cl.socket.id]));
  step("all clients connected: " + JSON.stringify(ids));
  const victim = clients.find((cl) => cl.name === args.disconnect);
  if (!victim) throw new Error(`no client ${args.disconnect}`);

  // The dashboard: the namespaces (from the server's statistics) and the clients' transports.
  await untilText(page, "dashboard shows the namespaces and clients", ["Namespaces", "/admin", "WebSocket", "HEALTHY"]);
  await shot(page, "admin-ui.png");

  await show(page, "#/servers");
  await untilText(page, "servers page lists this server", [args["server-id"]]);

  await show(page, "#/sockets");
  await untilText(page, "sockets page lists every client", Object.values(ids));
  await shot(page, "admin-ui-sockets.png");

  await show(page, "#/rooms");
  await untilText(page, "rooms page lists every room", rooms);
  await shot(page, "admin-ui-rooms.png");

  // The disconnect button of the victim's row on the sockets page.
  await show(page, "#/sockets");
  await untilText(page, "back on the sockets page", Object.values(ids));
  const button = `::-p-xpath(//tr[td[normalize-space()="${victim.socket.id}"]]//button)`;
  await page.waitForSelector(button, { visible: true, timeout: waitMs });
  await page.click(button);
  step("clicked the disconnect button of " + victim.name);
  const reason = await Promise.race([
    victim.disconnected,
    new Promise((_, reject) => setTimeout(() => reject(new Error(`${victim.name} was not disconnected within ${waitMs} ms`)), waitMs)),
  ]);
  step(`${victim.name} saw "${reason}"`);
  await untilText(page, "the disconnected socket left the list", [victim.socket.id], true);
  const others = clients.filter((cl) => cl !== victim);
  if (others.some((cl) => !cl.socket.connected)) throw new Error("another client was disconnected too");

  await browser.close();
  browser = null;
  for (const cl of clients) cl.socket.disconnect();
  c.finish({ ok: true, ids, disconnectReason: reason, steps });
})().catch(async (e) => {
  if (page) await page.screenshot({ path: path.join(args.screenshots, "failure.png") }).catch(() => {});
  if (browser) await browser.close().catch(() => {});
  c.fail(e.stack || String(e), { steps });
});
