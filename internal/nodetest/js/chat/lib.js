"use strict";
// Shared plumbing for the chat-*.js scenarios: real socket.io-client 4.8
// clients that record every event they receive, and a bookkeeping of which
// client must receive what, checked exactly (multiset equality) at sync points.
//
// Flags of every scenario:
//   --url http://127.0.0.1:PORT          the chat server (required)
//   --transports polling|websocket|polling,websocket   (default polling,websocket)
//   --timeout MS                          hard deadline for the whole script (default 15000)
//   --wait MS                             how long one step waits for expected events (default 3000)
//   --grace MS                            quiet period after a step, to catch duplicates
//                                         and events that must not arrive (default 150)
//
// Result (last stdout line): {"ok":bool, "scenario", "transports", "tag",
// "steps":[names passed], "observed":{...exact payloads seen}, "clients":{label:
// {user,id,transportAtOpen,transport,received,ignoredForeign}}, "error"?, "state"?}.
//
// Isolation: every user name ends with "-<tag>" (8 hex digits, random per run),
// rooms too, so scenarios may run in parallel against one server. Events whose
// payload names a user or room of ANOTHER run's tag are ignored; everything
// else a client receives must be expected, so a leak (an event reaching a
// socket that must not get it) fails the scenario.

const crypto = require("crypto");
const common = require("../lib/common.js");
const { io } = require("socket.io-client");

const TAGGED = /-([0-9a-f]{8})$/;

// stable renders v as JSON with sorted object keys, so payloads compare
// regardless of key order.
function stable(v) {
  if (v === undefined) return "undefined";
  if (v === null || typeof v !== "object") return JSON.stringify(v);
  if (Array.isArray(v)) return "[" + v.map(stable).join(",") + "]";
  return (
    "{" +
    Object.keys(v)
      .sort()
      .map((k) => JSON.stringify(k) + ":" + stable(v[k]))
      .join(",") +
    "}"
  );
}

class ScenarioError extends Error {}

class Ctx {
  constructor(scenario) {
    this.scenario = scenario;
    this.args = common.parseArgs({ transports: "polling,websocket", timeout: "15000", wait: "3000", grace: "150" });
    if (!this.args.url) common.fail("missing --url");
    this.transports = this.args.transports.split(",").filter(Boolean);
    for (const t of this.transports) {
      if (t !== "polling" && t !== "websocket") common.fail(`unknown transport ${JSON.stringify(t)}`);
    }
    this.waitMs = common.int(this.args.wait, "wait");
    this.graceMs = common.int(this.args.grace, "grace");
    this.tag = crypto.randomBytes(4).toString("hex");
    this.clients = [];
    this.steps = [];
    this.current = "setup";
    this.observed = {};
    common.hardTimeout(common.int(this.args.timeout, "timeout"), () => this.state());
  }

  // name makes a user or room name of this run.
  name(base) {
    return `${base}-${this.tag}`;
  }

  // client creates (and starts connecting) a client. auth: undefined = {token:
  // user}; null = no auth option at all; else the auth object as given.
  client(label, user, auth) {
    const c = new Client(this, label, user, auth);
    this.clients.push(c);
    return c;
  }

  // connected creates clients one after the other, each waiting for its
  // "connect" and "welcome", and expects the welcome and the others'
  // user-connected events.
  async connected(...specs) {
    const out = [];
    for (const [label, user] of specs) {
      const c = this.client(label, user);
      await c.connect();
      this.expect([c], "welcome", { id: c.id, user: c.user });
      this.expect(
        this.clients.filter((o) => o !== c && o.isConnected()),
        "user-connected",
        { id: c.id, user: c.user }
      );
      out.push(c);
    }
    return out;
  }

  // expect records that each of clients must receive [event, ...args] once
  // more.
  expect(clients, event, ...args) {
    for (const c of clients) c.expected.push({ key: stable([event, ...args]), event, args });
  }

  step(name) {
    this.current = name;
    common.log(`step: ${name}`);
  }

  // settle waits until every client received every expected event, then a
  // grace period, then checks that each client received exactly the expected
  // multiset, nothing more. Throws on mismatch.
  async settle() {
    const missing = () => {
      const out = [];
      for (const c of this.clients) {
        const have = c.counts();
        const want = c.wantCounts();
        for (const [k, n] of want) {
          if ((have.get(k) || 0) < n) out.push(`${c.label} waits for ${k} (have ${have.get(k) || 0}, want ${n})`);
        }
      }
      return out;
    };
    try {
      await common.until(() => missing().length === 0, this.waitMs, () => missing().join("; "));
    } catch (e) {
      throw new ScenarioError(`${this.current}: ${e.message}`);
    }
    await common.sleep(this.graceMs);
    const problems = [];
    for (const c of this.clients) {
      const have = c.counts();
      const want = c.wantCounts();
      for (const [k, n] of have) {
        const w = want.get(k) || 0;
        if (n > w) problems.push(`${c.label} (${c.user}) got ${k} ${n} times, want ${w}`);
      }
      for (const [k, n] of want) {
        if ((have.get(k) || 0) < n) problems.push(`${c.label} (${c.user}) got ${k} ${have.get(k) || 0} times, want ${n}`);
      }
    }
    if (problems.length) throw new ScenarioError(`${this.current}: ${problems.join("; ")}`);
    this.steps.push(this.current);
  }

  // equal throws unless got deep-equals want (key order ignored).
  equal(what, got, want) {
    if (stable(got) !== stable(want)) {
      throw new ScenarioError(`${this.current}: ${what}: got ${stable(got)}, want ${stable(want)}`);
    }
  }

  // leave disconnects c from the client side and expects every other
  // connected client to get user-disconnected for it.
  leave(c) {
    c.socket.disconnect();
    this.expect(
      this.clients.filter((o) => o !== c && o.isConnected()),
      "user-disconnected",
      { id: c.id, user: c.user }
    );
  }

  check(cond, msg) {
    if (!cond) throw new ScenarioError(`${this.current}: ${msg}`);
  }

  // checkTransports asserts every still-connected client ended on the
  // expected transport: the only one given, or websocket after an upgrade.
  async checkTransports() {
    const want = this.transports.includes("websocket") ? "websocket" : "polling";
    const live = this.clients.filter((c) => c.isConnected());
    try {
      await common.until(
        () => live.every((c) => c.transport() === want),
        this.waitMs,
        () => `transport ${want} on all clients: ${live.map((c) => `${c.label}=${c.transport()}`).join(",")}`
      );
    } catch (e) {
      throw new ScenarioError(`transports: ${e.message}`);
    }
    const first = this.transports[0];
    for (const c of this.clients) {
      if (c.transportAtOpen !== undefined && c.transportAtOpen !== first) {
        throw new ScenarioError(`transports: ${c.label} opened over ${c.transportAtOpen}, want ${first}`);
      }
    }
  }

  state() {
    return {
      scenario: this.scenario,
      step: this.current,
      steps: this.steps,
      clients: Object.fromEntries(this.clients.map((c) => [c.label, c.state()])),
    };
  }

  // run runs body and finishes the script with its verdict.
  run(body) {
    common.log(`scenario ${this.scenario} url=${this.args.url} transports=${this.transports} tag=${this.tag}`);
    body(this).then(
      async () => {
        this.step("transports");
        try {
          await this.checkTransports();
        } catch (e) {
          return this.fail(e);
        }
        this.steps.push("transports");
        this.close();
        common.finish({
          ok: true,
          scenario: this.scenario,
          transports: this.transports.join(","),
          tag: this.tag,
          steps: this.steps,
          observed: this.observed,
          clients: Object.fromEntries(this.clients.map((c) => [c.label, c.summary()])),
        });
      },
      (e) => this.fail(e)
    );
  }

  fail(e) {
    const msg = e instanceof ScenarioError ? e.message : `${this.current}: ${e && e.stack ? e.stack : e}`;
    const st = this.state();
    this.close();
    common.fail(msg, { scenario: this.scenario, transports: this.transports.join(","), tag: this.tag, observed: this.observed, state: st });
  }

  close() {
    for (const c of this.clients) c.socket.disconnect();
  }
}

class Client {
  constructor(ctx, label, user, auth) {
    this.ctx = ctx;
    this.label = label;
    this.user = user;
    this.id = undefined;
    this.expected = [];
    this.events = [];
    this.ignored = 0;
    this.connectErrors = [];
    this.disconnects = [];
    this.transportAtOpen = undefined;
    const opts = {
      transports: ctx.transports,
      reconnection: false,
      forceNew: true,
      timeout: 5000,
    };
    if (auth === undefined) opts.auth = { token: user };
    else if (auth !== null) opts.auth = auth;
    this.socket = io(ctx.args.url, opts);
    this.socket.onAny((event, ...args) => {
      const p = args[0];
      let foreign = false;
      if (p && typeof p === "object" && !Array.isArray(p)) {
        for (const k of ["user", "room"]) {
          const m = typeof p[k] === "string" && TAGGED.exec(p[k]);
          if (m && m[1] !== ctx.tag) foreign = true;
        }
      }
      if (foreign) {
        this.ignored++;
        return;
      }
      common.log(`${this.label} <- ${event} ${stable(args)}`);
      this.events.push({ key: stable([event, ...args]), event, args });
    });
    // The engine's first transport, seen when the Engine.IO session opens
    // (by "connect", an upgrade may already have happened).
    this.socket.io.on("open", () => {
      this.transportAtOpen = this.transport();
    });
    this.socket.on("connect", () => {
      this.id = this.socket.id;
      common.log(`${this.label} connected id=${this.id} over ${this.transport()}`);
    });
    this.socket.on("connect_error", (err) => {
      common.log(`${this.label} connect_error ${err.message} ${stable(err.data)}`);
      this.connectErrors.push({ message: err.message, data: err.data });
    });
    this.socket.on("disconnect", (reason, desc) => {
      common.log(`${this.label} disconnect ${reason}`);
      this.disconnects.push({ reason, description: desc && desc.description !== undefined ? common.plain(desc.description) : undefined });
    });
  }

  isConnected() {
    return this.socket.connected;
  }

  transport() {
    const e = this.socket.io.engine;
    return e && e.transport ? e.transport.name : undefined;
  }

  // connect waits for "connect" and the "welcome" that follows it.
  async connect() {
    try {
      await common.until(
        () => this.connectErrors.length > 0 || (this.socket.connected && this.events.some((e) => e.event === "welcome")),
        this.ctx.waitMs,
        `${this.label} connect and welcome`
      );
    } catch (e) {
      throw new ScenarioError(`${this.ctx.current}: ${e.message}`);
    }
    if (this.connectErrors.length) {
      throw new ScenarioError(`${this.ctx.current}: ${this.label} (${this.user}) refused: ${stable(this.connectErrors)}`);
    }
    return this;
  }

  // refused waits for a connect_error and returns {message, data}.
  async refused() {
    try {
      await common.until(() => this.connectErrors.length > 0 || this.socket.connected, this.ctx.waitMs, `${this.label} connect_error`);
    } catch (e) {
      throw new ScenarioError(`${this.ctx.current}: ${e.message}`);
    }
    if (this.socket.connected) throw new ScenarioError(`${this.ctx.current}: ${this.label} connected, want connect_error`);
    return this.connectErrors[0];
  }

  emit(event, ...args) {
    common.log(`${this.label} -> ${event} ${stable(args)}`);
    this.socket.emit(event, ...args);
  }

  // ack emits with an acknowledgement and returns the server's first ack argument.
  async ack(event, ...args) {
    common.log(`${this.label} -> ${event} ${stable(args)} (ack)`);
    try {
      return await this.socket.timeout(this.ctx.waitMs).emitWithAck(event, ...args);
    } catch (e) {
      throw new ScenarioError(`${this.ctx.current}: ${this.label} ${event} ack: ${e.message}`);
    }
  }

  // received returns the args of every received event named event.
  received(event) {
    return this.events.filter((e) => e.event === event).map((e) => e.args);
  }

  counts() {
    const m = new Map();
    for (const e of this.events) m.set(e.key, (m.get(e.key) || 0) + 1);
    return m;
  }

  wantCounts() {
    const m = new Map();
    for (const e of this.expected) m.set(e.key, (m.get(e.key) || 0) + 1);
    return m;
  }

  state() {
    return {
      user: this.user,
      id: this.id,
      connected: this.socket.connected,
      transport: this.transport(),
      received: this.events.map((e) => e.key).slice(-40),
      expected: this.expected.map((e) => e.key).slice(-40),
      ignoredForeign: this.ignored,
      connectErrors: this.connectErrors,
      disconnects: this.disconnects,
    };
  }

  summary() {
    return {
      user: this.user,
      id: this.id,
      transportAtOpen: this.transportAtOpen,
      transport: this.transport(),
      received: this.events.length,
      ignoredForeign: this.ignored,
    };
  }
}

module.exports = { Ctx, Client, ScenarioError, stable, common };
