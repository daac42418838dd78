"""A second, independent Socket.IO client against riptide: the Debian package python3-socketio.

Usage: client.py URL TRANSPORT   (TRANSPORT: polling or websocket)
Connects two clients to the chat example (auth token = user name), emits, gets acks and
receives a broadcast. Prints one JSON line; exit code 0 only when every check passed.
"""
import json
import sys
import threading

import socketio

url, transport = sys.argv[1], sys.argv[2]
result = {"ok": False, "transport": transport}
events = {"alice": [], "bob": []}
lock = threading.Condition()


def client(name):
    c = socketio.Client(reconnection=False)

    @c.on("*")
    def any_event(event, *args):
        with lock:
            events[name].append([event, *args])
            lock.notify_all()

    c.connect(url, transports=[transport], auth={"token": name}, wait_timeout=5)
    return c


def wait_for(name, event, n=1, timeout=5.0):
    def have():
        return len([e for e in events[name] if e[0] == event]) >= n

    with lock:
        if not lock.wait_for(have, timeout):
            raise AssertionError(f"{name} did not get {event!r}: {events[name]}")
        return [e for e in events[name] if e[0] == event]


try:
    alice = client("alice")
    welcome = wait_for("alice", "welcome")[0][1]
    assert welcome["user"] == "alice" and welcome["id"] == alice.get_sid("/"), welcome
    assert alice.transport() == transport, alice.transport()
    bob = client("bob")
    wait_for("bob", "welcome")
    assert wait_for("alice", "user-connected")[0][1]["user"] == "bob"

    # emit with an ack, and the broadcast reaching both clients
    ack = alice.call("chat", "hello from python", timeout=5)
    assert ack == {"ok": True}, ack
    for name in ("alice", "bob"):
        msg = wait_for(name, "chat")[0][1]
        assert msg == {"user": "alice", "text": "hello from python"}, msg

    # rooms: join with an ack carrying a number, then a room message
    assert alice.call("join", "py", timeout=5) == {"room": "py", "members": 1}
    assert bob.call("join", "py", timeout=5) == {"room": "py", "members": 2}
    assert wait_for("alice", "user-joined")[0][1] == {"room": "py", "user": "bob"}
    bob.emit("room-message", {"room": "py", "text": "ünïcode ✓"})
    for name in ("alice", "bob"):
        msg = wait_for(name, "room-message")[0][1]
        assert msg == {"room": "py", "user": "bob", "text": "ünïcode ✓"}, msg

    # a rejected packet answers with an "error" event
    alice.emit("chat", "")
    assert wait_for("alice", "error")[0][1] == {"message": "invalid message"}

    bob.disconnect()
    assert wait_for("alice", "user-disconnected")[0][1]["user"] == "bob"
    alice.disconnect()
    result["ok"] = True
    result["events"] = {k: len(v) for k, v in events.items()}
except Exception as e:  # report, do not hide
    result["error"] = f"{type(e).__name__}: {e}"
    result["events"] = events
print(json.dumps(result, default=str))
sys.exit(0 if result["ok"] else 1)
