// The chat page: a Socket.IO client of riptide configured by deploy/riptide.chat.yaml.
//
//   join-room {roomId, userData}  -> room-joined {roomId, users}; user-joined to the others
//   room-message {roomId, message} -> room-message {roomId, message, sender, senderUser} to the others
//   user-typing / user-stop-typing {roomId} -> the same, with sender, to the others
//   leave-room {roomId}            -> room-left; user-left {room, user, users} to the others
//   refusals                       -> "error" {code, message}, or the ack's {error} when acked
//
// ?transport=polling (or websocket) pins the transport. In the console, `chat` holds the page's
// state, timings and actions: chat.send("chat:elsewhere", "hi") shows riptide refusing a
// room not joined (ROOM_NOT_MEMBER).
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const params = new URLSearchParams(location.search);
  const transports = {polling: ["polling"], websocket: ["websocket"]}[params.get("transport")] ||
    ["polling", "websocket"];

  const config = {
    typingEvery: 2000, // ms between user-typing notices while typing
    typingIdle: 3000,  // ms without a key before user-stop-typing
    typingShown: 6000, // ms a typing notice lasts without news (a lost stop)
  };
  const MAX_MESSAGES = 500; // kept per room
  const MAX_ERRORS = 5;     // shown at once

  const state = {
    name: "",
    socket: null,
    rooms: new Map(), // roomId -> {id, joined, members, messages, typers, unread}
    current: "",
    lastError: "",
  };

  // --- the server's token endpoint -------------------------------------------------------

  async function fetchToken(name) {
    const res = await fetch("token", {
      method: "POST",
      headers: {"Content-Type": "application/json"},
      body: JSON.stringify({name}),
    });
    const body = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error(body.error || `token request failed (HTTP ${res.status})`);
    return body;
  }

  // --- connection --------------------------------------------------------------------------

  async function signIn(name) {
    const first = await fetchToken(name); // checks the name and says where riptide is
    state.name = name;
    let token = first.token;
    const url = `${location.protocol}//${location.hostname}:${first.tierPort}`;
    const socket = io(url, {
      transports,
      // Called for every connection attempt: a reconnection gets a fresh token, so an
      // expired one never locks the page out.
      auth: (cb) => {
        if (token) {
          cb({token});
          token = "";
          return;
        }
        fetchToken(name).then((r) => cb({token: r.token}), (err) => {
          showError({code: "TOKEN", message: err.message});
          cb({});
        });
      },
    });
    state.socket = socket;
    socket.on("connect", onConnect);
    socket.on("disconnect", onDisconnect);
    socket.on("connect_error", onConnectError);
    socket.io.on("reconnect_attempt", (n) => setStatus("reconnecting", `Reconnecting (attempt ${n})…`));
    socket.on("room-joined", onRoomJoined);
    socket.on("room-left", (m) => dropRoom(m.roomId));
    socket.on("user-joined", (m) => onPresence(m, "joined"));
    socket.on("user-left", (m) => onPresence(m, "left"));
    socket.on("room-message", onMessage);
    socket.on("user-typing", (m) => onTyping(m, true));
    socket.on("user-stop-typing", (m) => onTyping(m, false));
    socket.on("error", (e) => showError(e));

    $("me-name").textContent = name;
    $("me").hidden = false;
    $("sign-in-view").hidden = true;
    $("chat-view").hidden = false;
    setStatus("connecting", "Connecting…");
    $("room").focus();
  }

  function signOut() {
    const s = state.socket;
    state.socket = null; // first: the disconnect handler then knows
    if (s) s.disconnect();
    state.rooms.clear();
    state.current = "";
    $("me").hidden = true;
    $("chat-view").hidden = true;
    $("sign-in-view").hidden = false;
    setStatus("signed-out", "Signed out");
    render();
    $("name").focus();
  }

  function onConnect() {
    const engine = state.socket.io.engine;
    const connected = () => setStatus("connected", `Connected over ${engine.transport.name}`);
    connected();
    engine.once("upgrade", connected);
    $("reconnect").hidden = true;
    // A new connection is a new socket: join the rooms again.
    for (const room of state.rooms.values()) sendJoin(room.id);
  }

  function onDisconnect(reason) {
    if (!state.socket) return; // signed out
    for (const room of state.rooms.values()) {
      room.joined = false;
      room.members = [];
      room.typers.forEach((t) => clearTimeout(t.timer));
      room.typers.clear();
      addLine(room, {note: `Connection lost (${reason})`});
    }
    render();
    if (reason === "io server disconnect") {
      // The server ended the socket (idle timeout, rate limit, token expiry): the client does
      // not reconnect by itself. An expired token is renewed at once; the rest waits for the
      // user.
      if (state.lastError === "AUTH_TOKEN_EXPIRED") {
        state.socket.connect();
        return;
      }
      setStatus("disconnected", "Disconnected by the server");
      $("reconnect").hidden = false;
      return;
    }
    setStatus("reconnecting", `Connection lost (${reason}); reconnecting…`);
  }

  function onConnectError(err) {
    if (state.socket && state.socket.active) {
      // A transport failure: the client retries by itself with backoff.
      setStatus("reconnecting", `Cannot reach riptide (${err.message}); retrying…`);
      return;
    }
    // Refused by riptide (err.data is {code, message}): no retry until the user asks.
    showError(err.data && err.data.code ? err.data : {code: "CONNECT_ERROR", message: err.message}, "connecting");
    setStatus("disconnected", "Connection refused");
    $("reconnect").hidden = false;
  }

  // --- rooms -------------------------------------------------------------------------------

  function room(id) {
    let r = state.rooms.get(id);
    if (!r) {
      r = {id, joined: false, members: [], messages: [], typers: new Map(), unread: 0};
      state.rooms.set(id, r);
    }
    return r;
  }

  function join(id) {
    const known = state.rooms.get(id);
    state.current = id;
    if (known) {
      known.unread = 0; // joined or joining already: show it
      render();
      return;
    }
    room(id);
    render();
    sendJoin(id); // when disconnected, onConnect joins
  }

  function sendJoin(id) {
    const s = state.socket;
    if (!s || !s.connected) return;
    // With an ack, a refusal comes back here with the room it concerns; success also
    // arrives as the room-joined event.
    s.emit("join-room", {roomId: id, userData: {name: state.name}}, (r) => {
      if (r && r.error) {
        showError(r.error, `joining ${id}`);
        dropRoom(id);
      }
    });
  }

  function leave(id) {
    const s = state.socket;
    if (s && s.connected && state.rooms.get(id)?.joined) {
      s.emit("leave-room", {roomId: id}); // room-left drops it
    } else {
      dropRoom(id);
    }
  }

  function dropRoom(id) {
    const r = state.rooms.get(id);
    if (!r) return;
    r.typers.forEach((t) => clearTimeout(t.timer));
    state.rooms.delete(id);
    if (state.current === id) state.current = state.rooms.keys().next().value || "";
    render();
  }

  function onRoomJoined(m) {
    const r = state.rooms.get(m.roomId);
    if (!r) return; // left meanwhile
    r.joined = true;
    r.members = m.users || [];
    render();
  }

  function onPresence(m, what) {
    const r = state.rooms.get(m.room);
    if (!r) return;
    r.members = m.users || [];
    const who = m.user || {};
    if (what === "left") stopTyping(r, who.socketId);
    addLine(r, {note: `${who.name || who.userId} ${what}`});
    renderMembers();
  }

  // --- messages and typing -----------------------------------------------------------------

  function nameOf(r, socketId, userId) {
    const m = r.members.find((u) => u.socketId === socketId);
    return (m && m.name) || userId || "someone";
  }

  function onMessage(m) {
    const r = state.rooms.get(m.roomId);
    if (!r) return;
    stopTyping(r, m.sender);
    addLine(r, {from: nameOf(r, m.sender, m.senderUser), text: String(m.message)});
  }

  function send(roomId, text) {
    const s = state.socket;
    if (!s || !s.connected) return false;
    // No ack: a refusal (ROOM_NOT_MEMBER, RATE_LIMITED, EVENT_TOO_LARGE) is an "error" event.
    s.emit("room-message", {roomId, message: text});
    const r = state.rooms.get(roomId);
    if (r) addLine(r, {from: state.name, text, mine: true});
    return true;
  }

  const typing = {room: "", lastSent: 0, idle: 0};

  function typed() {
    const s = state.socket;
    if (!s || !s.connected || !state.current) return;
    const now = Date.now();
    if (typing.room !== state.current || now - typing.lastSent > config.typingEvery) {
      if (typing.room && typing.room !== state.current) stoppedTyping();
      typing.room = state.current;
      typing.lastSent = now;
      s.emit("user-typing", {roomId: typing.room});
    }
    clearTimeout(typing.idle);
    typing.idle = setTimeout(stoppedTyping, config.typingIdle);
  }

  function stoppedTyping() {
    clearTimeout(typing.idle);
    const s = state.socket;
    if (typing.room && s && s.connected) s.emit("user-stop-typing", {roomId: typing.room});
    typing.room = "";
    typing.lastSent = 0;
  }

  function onTyping(m, on) {
    const r = state.rooms.get(m.roomId);
    if (!r) return;
    if (!on) {
      stopTyping(r, m.sender);
      return;
    }
    const t = r.typers.get(m.sender);
    if (t) clearTimeout(t.timer);
    r.typers.set(m.sender, {
      name: nameOf(r, m.sender, m.senderUser),
      timer: setTimeout(() => stopTyping(r, m.sender), config.typingShown),
    });
    renderTyping();
  }

  function stopTyping(r, socketId) {
    const t = r.typers.get(socketId);
    if (!t) return;
    clearTimeout(t.timer);
    r.typers.delete(socketId);
    renderTyping();
  }

  // --- errors and status -------------------------------------------------------------------

  function showError(e, context) {
    const code = (e && e.code) || "ERROR";
    state.lastError = code;
    const li = document.createElement("li");
    const c = document.createElement("code");
    c.textContent = code;
    const text = document.createElement("span");
    text.textContent = ` ${(e && e.message) || ""}${context ? ` (${context})` : ""}`;
    const close = document.createElement("button");
    close.type = "button";
    close.textContent = "×";
    close.setAttribute("aria-label", `Dismiss ${code}`);
    close.addEventListener("click", () => li.remove());
    li.append(c, text, close);
    const list = $("errors");
    list.append(li);
    while (list.children.length > MAX_ERRORS) list.firstElementChild.remove();
  }

  function setStatus(kind, text) {
    const el = $("status");
    el.dataset.state = kind;
    el.textContent = text;
    renderComposer();
  }

  // --- rendering (textContent only: nothing a user sends is parsed as HTML) --------------

  function addLine(r, line) {
    line.time = new Date();
    r.messages.push(line);
    if (r.messages.length > MAX_MESSAGES) r.messages.shift();
    if (r.id === state.current) {
      const list = $("messages");
      list.append(lineItem(line));
      while (list.children.length > MAX_MESSAGES) list.firstElementChild.remove();
      list.scrollTop = list.scrollHeight;
    } else {
      r.unread++;
      renderRooms();
    }
  }

  function lineItem(line) {
    const li = document.createElement("li");
    if (line.note) {
      li.className = "note";
      li.textContent = line.note;
      return li;
    }
    li.className = line.mine ? "msg mine" : "msg";
    const from = document.createElement("span");
    from.className = "from";
    from.textContent = line.from;
    const time = document.createElement("time");
    time.dateTime = line.time.toISOString();
    time.textContent = line.time.toLocaleTimeString([], {hour: "2-digit", minute: "2-digit"});
    const text = document.createElement("p");
    text.textContent = line.text;
    li.append(from, " ", time, text);
    return li;
  }

  function render() {
    renderRooms();
    const r = state.rooms.get(state.current);
    $("room-title").textContent = r ? r.id : "No room yet";
    $("leave").hidden = !r;
    const list = $("messages");
    list.replaceChildren(...(r ? r.messages.map(lineItem) : []));
    list.scrollTop = list.scrollHeight;
    renderMembers();
    renderTyping();
    renderComposer();
  }

  function renderRooms() {
    const list = $("room-list");
    list.replaceChildren(...[...state.rooms.values()].map((r) => {
      const li = document.createElement("li");
      const b = document.createElement("button");
      b.type = "button";
      b.textContent = r.id;
      if (!r.joined) b.append(" ", badge("joining…"));
      if (r.unread) b.append(" ", badge(`${r.unread} new`));
      if (r.id === state.current) b.setAttribute("aria-current", "true");
      b.addEventListener("click", () => {
        state.current = r.id;
        r.unread = 0;
        render();
        $("message").focus();
      });
      li.append(b);
      return li;
    }));
  }

  function badge(text) {
    const s = document.createElement("span");
    s.className = "badge";
    s.textContent = text;
    return s;
  }

  function renderMembers() {
    const r = state.rooms.get(state.current);
    const members = r ? r.members : [];
    $("members-title").textContent = `Members (${members.length})`;
    const me = state.socket && state.socket.id;
    $("members").replaceChildren(...members.map((u) => {
      const li = document.createElement("li");
      li.textContent = u.name || u.userId;
      if (u.socketId === me) li.append(" ", badge("you"));
      return li;
    }));
  }

  function renderTyping() {
    const r = state.rooms.get(state.current);
    const names = r ? [...new Set([...r.typers.values()].map((t) => t.name))] : [];
    $("typing").textContent =
      names.length === 0 ? "" :
      names.length === 1 ? `${names[0]} is typing…` :
      `${names.slice(0, -1).join(", ")} and ${names.at(-1)} are typing…`;
  }

  function renderComposer() {
    const r = state.rooms.get(state.current);
    const ok = !!(r && r.joined && state.socket && state.socket.connected);
    const input = $("message");
    input.disabled = !ok;
    $("composer").querySelector("button").disabled = !ok;
    input.placeholder = ok ? `Message ${r.id}` : r ? "Joining…" : "Join a room to chat";
  }

  // --- the page's forms --------------------------------------------------------------------

  $("sign-in").addEventListener("submit", (e) => {
    e.preventDefault();
    const name = $("name").value.trim();
    const button = e.target.querySelector("button");
    button.disabled = true;
    signIn(name).catch((err) => showError({code: "SIGN_IN", message: err.message}))
      .finally(() => { button.disabled = false; });
  });
  $("sign-out").addEventListener("click", signOut);
  $("reconnect").addEventListener("click", () => {
    $("reconnect").hidden = true;
    setStatus("connecting", "Connecting…");
    state.socket.connect();
  });
  $("join").addEventListener("submit", (e) => {
    e.preventDefault();
    const id = $("room").value.trim();
    if (id) join(id);
  });
  $("leave").addEventListener("click", () => leave(state.current));
  $("message").addEventListener("input", typed);
  $("composer").addEventListener("submit", (e) => {
    e.preventDefault();
    const input = $("message");
    const text = input.value.trim();
    if (!text) return;
    stoppedTyping();
    if (send(state.current, text)) input.value = "";
    input.focus();
  });

  // For the console (and tests): the state and the actions behind the forms.
  window.chat = {state, config, join, leave, send, get socket() { return state.socket; }};
})();
