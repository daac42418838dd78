package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/riptide-io/riptide/internal/nodetest"
)

// The chat app of the Node guide, its client unchanged, against the binary started with
// deploy/riptide.chat.yaml: join-room with user data answered by room-joined with the users,
// user-joined to the others, room-message and typing notices reaching the others with the
// sender, leave-room with user-left, admin-action refused without the permission and
// accepted with it, and the deny-by-default refusals as "error" events. With the real
// socket.io-client on polling and on WebSocket.
func TestBinaryChatConfig(t *testing.T) {
	nodetest.Setup(t)
	bin := nodetest.BuildGo(t, "./cmd/riptide")
	file, _ := filepath.Abs("../../deploy/riptide.chat.yaml")
	const secret = "a-shared-secret-of-at-least-32-bytes!!"
	env := cleanEnv("RIPTIDE_LISTEN_ADDR=127.0.0.1:0", "RIPTIDE_AUTH_JWT_HMAC_SECRET="+secret)
	if out, errs, code := runBinary(t, bin, env, "validate", "--config", file); code != 0 || out != "ok\n" {
		t.Fatalf("validate %s: %d %q %q", file, code, out, errs)
	}
	start := func(t *testing.T) string {
		first, addr := serve(t, bin, env, "--config", file)
		if !strings.Contains(first, "riptide requires a JWT") || !strings.Contains(first, "3 policy.rooms rules") {
			t.Errorf("first log line %q", first)
		}
		return "http://" + addr
	}
	auth := func(user string, extra map[string]any) map[string]any {
		c := jwt.MapClaims{"sub": user, "exp": time.Now().Add(time.Hour).Unix()}
		for k, v := range extra {
			c[k] = v
		}
		tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString([]byte(secret))
		if err != nil {
			t.Fatal(err)
		}
		return map[string]any{"token": tok}
	}
	clients := map[string]nodetest.ClientDef{
		"ana": {Auth: auth("ana", map[string]any{"permissions": []string{"admin"}})},
		"ben": {Auth: auth("ben", nil)},
	}
	// users checks a users list: the names, in join order, each with its socket and user id.
	users := func(v any, names ...string) error {
		list, _ := v.([]any)
		var got []string
		for _, e := range list {
			u, _ := e.(map[string]any)
			if u["socketId"] == nil || u["userId"] == nil {
				return fmt.Errorf("user without socketId or userId: %v", u)
			}
			got = append(got, fmt.Sprint(u["name"]))
		}
		if strings.Join(got, ",") != strings.Join(names, ",") {
			return fmt.Errorf("users %v, want %v", got, names)
		}
		return nil
	}
	first := func(f func(m map[string]any) error) func([]json.RawMessage) error {
		return func(a []json.RawMessage) error {
			if len(a) == 0 {
				return fmt.Errorf("no arguments")
			}
			return f(nodetest.Obj(a[0]))
		}
	}
	const room = "chat:general"
	msg := func(code string) string { // the messages of docs/tier.md
		return map[string]string{
			"EVENT_FORBIDDEN": "not allowed to send this event",
			"EVENT_UNKNOWN":   "unknown event",
			"ROOM_UNKNOWN":    "no such room",
			"ROOM_NOT_MEMBER": "join the room before publishing to it",
		}[code]
	}
	checks := []nodetest.Check{
		nodetest.Connect("ana"), nodetest.Connect("ben"),
		nodetest.Emit("ana", "join-room", map[string]any{"roomId": room, "userData": map[string]any{"name": "Ana"}}),
		nodetest.Expect("ana", "room-joined", first(func(m map[string]any) error {
			if m["roomId"] != room {
				return fmt.Errorf("room-joined %v", m)
			}
			return users(m["users"], "Ana")
		})),
		nodetest.Emit("ben", "join-room", map[string]any{"roomId": room, "userData": map[string]any{"name": "Ben"}}),
		nodetest.Expect("ben", "room-joined", first(func(m map[string]any) error { return users(m["users"], "Ana", "Ben") })),
		nodetest.Expect("ana", "user-joined", first(func(m map[string]any) error {
			if u, _ := m["user"].(map[string]any); u["name"] != "Ben" || u["userId"] != "ben" {
				return fmt.Errorf("user-joined %v", m)
			}
			return users(m["users"], "Ana", "Ben")
		})),
		nodetest.Emit("ana", "room-message", map[string]any{"roomId": room, "message": "hello"}),
		nodetest.Expect("ben", "room-message", first(func(m map[string]any) error {
			if m["message"] != "hello" || m["sender"] == nil || m["senderUser"] != "ana" {
				return fmt.Errorf("room-message %v", m)
			}
			return nil
		})),
		nodetest.None("ana", "room-message"),
		nodetest.Emit("ben", "user-typing", map[string]any{"roomId": room}),
		nodetest.Expect("ana", "user-typing", first(func(m map[string]any) error {
			if m["senderUser"] != "ben" {
				return fmt.Errorf("user-typing %v", m)
			}
			return nil
		})),
		nodetest.Emit("ben", "admin-action", map[string]any{"op": "kick"}),
		nodetest.ErrorEvent("ben", "EVENT_FORBIDDEN", msg("EVENT_FORBIDDEN")),
		nodetest.Refused("ben", "admin-action", []any{map[string]any{"op": "kick"}}, "EVENT_FORBIDDEN", msg("EVENT_FORBIDDEN")),
		nodetest.EmitAck("ana", "admin-action", []any{map[string]any{"op": "kick"}}, nil),
		nodetest.Emit("ben", "message", map[string]any{"content": "undeclared"}),
		nodetest.ErrorEvent("ben", "EVENT_UNKNOWN", msg("EVENT_UNKNOWN")),
		nodetest.Emit("ben", "join-room", map[string]any{"roomId": "lobby"}),
		nodetest.ErrorEvent("ben", "ROOM_UNKNOWN", msg("ROOM_UNKNOWN")),
		nodetest.Emit("ben", "leave-room"),
		nodetest.Expect("ben", "room-left", nil),
		nodetest.Expect("ana", "user-left", first(func(m map[string]any) error {
			if u, _ := m["user"].(map[string]any); u["userId"] != "ben" || u["name"] != "Ben" {
				return fmt.Errorf("user-left %v", m)
			}
			return users(m["users"], "Ana")
		})),
		nodetest.Emit("ben", "room-message", map[string]any{"roomId": room, "message": "still here?"}),
		nodetest.ErrorEvent("ben", "ROOM_NOT_MEMBER", msg("ROOM_NOT_MEMBER")),
		nodetest.None("ana", "room-message"),
	}
	nodetest.RunChecks(t, start, clients, checks)
}
