package tier_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"github.com/riptide-io/riptide/internal/nodetest"
	"github.com/riptide-io/riptide/server"
	"github.com/riptide-io/riptide/server/tier"
)

// testPolicy is the policy the socket.io-client tests run against: every kind of room and
// event rule.
func testPolicy() tier.PolicyConfig {
	return tier.PolicyConfig{
		Rooms: []tier.RoomRule{
			{Pattern: "chat:*", Presence: true, MaxMembers: 3},
			{Pattern: "user:{sub}", Join: tier.JoinMatch},
			{Pattern: "org:{claims.org}:*"},
			{Pattern: "private:*", Join: tier.JoinGranted},
			{Pattern: "announce:*", Publish: tier.PublishNone},
			{Pattern: "open:*", Join: tier.JoinAnyone, Publish: tier.PublishAnyone},
			{Pattern: "backend:*", Join: tier.JoinServer},
		},
		Events: []tier.EventRule{
			{Name: "admin-action", Permission: "admin"},
			{Name: "big", MaxPayload: 100},
			{Name: "spam", Rate: 0.1, Burst: 2},
			{Name: "typing-*"},
		},
		Strict:        true,
		MaxViolations: 3,
	}
}

// servePolicy starts a server with HS256 auth (claims kept) and the policy.
func servePolicy(t testing.TB, cfg tier.PolicyConfig) (url string, p *tier.Policy) {
	t.Helper()
	jc := baseConfig(t)
	jc.KeepClaims = true
	v := newVerifier(t, jc)
	p, err := tier.NewPolicy(cfg)
	if err != nil {
		t.Fatal(err)
	}
	io := server.New(server.Options{})
	io.Use(tier.Auth(v))
	p.Install(io.Of("/"))
	return listen(t, io, func() { _ = p.Close() }), p
}

// token is an HS256 token for user with extra claims.
func token(t testing.TB, user string, extra map[string]any) map[string]any {
	c := claims(user)
	for k, v := range extra {
		c[k] = v
	}
	return map[string]any{"token": mint(t, jwt.SigningMethodHS256, getKeys(t).hmac, "hs", c)}
}

// Short names for the scenario checks, with the tier's codes and messages.
type check = nodetest.Check

var (
	connect = nodetest.Connect
	emit    = nodetest.Emit
	emitAck = nodetest.EmitAck
	expect  = nodetest.Expect
	none    = nodetest.None
	obj     = nodetest.Obj
)

func refused(c, event string, args []any, code tier.Code) check {
	return nodetest.Refused(c, event, args, string(code), code.Message())
}

func errorEvent(c string, code tier.Code) check {
	return nodetest.ErrorEvent(c, string(code), code.Message())
}

// members checks the member list of an answer or notice: the users in order, by userId.
func members(m map[string]any, users ...string) error {
	list, _ := m["members"].([]any)
	var got []string
	for _, e := range list {
		u, _ := e.(map[string]any)
		s, _ := u["userId"].(string)
		if id, _ := u["socketId"].(string); id == "" {
			return fmt.Errorf("member without socketId: %v", u)
		}
		got = append(got, s)
	}
	if strings.Join(got, ",") != strings.Join(users, ",") {
		return fmt.Errorf("members %v, want %v", got, users)
	}
	return nil
}

// TestPolicyRooms drives every room rule with the real socket.io-client on polling and on
// WebSocket: join modes, placeholders, grants, max_members, presence, publish modes,
// socket id rooms, and the answers' shapes.
func TestPolicyRooms(t *testing.T) {
	start := func(t *testing.T) string { url, _ := servePolicy(t, testPolicy()); return url }
	clients := map[string]nodetest.ClientDef{
		"alice": {Auth: token(t, "alice", map[string]any{"org": "acme", "rooms": []string{"private:a*"}, "permissions": []string{"admin", "ops"}})},
		"bob":   {Auth: token(t, "bob", map[string]any{"org": "other", "permissions": "read write"})},
		"carol": {Auth: token(t, "carol", nil)},
		"dave":  {Auth: token(t, "dave", nil)},
	}
	checks := []check{
		connect("alice"), connect("bob"), connect("carol"), connect("dave"),
		// max_members 3 with presence: answers carry the count and the members in order.
		emitAck("alice", "join", []any{"chat:x"}, func(m map[string]any) error {
			if m["room"] != "chat:x" || m["count"] != 1.0 {
				return fmt.Errorf("answer %v", m)
			}
			return members(m, "alice")
		}),
		emitAck("bob", "join", []any{"chat:x", map[string]any{"name": "Bob", "userId": "mallory"}}, func(m map[string]any) error {
			return members(m, "alice", "bob")
		}),
		expect("alice", "user-joined", func(a []json.RawMessage) error {
			m := obj(a[0])
			u, _ := m["user"].(map[string]any)
			if m["room"] != "chat:x" || u["name"] != "Bob" || u["userId"] != "bob" {
				return fmt.Errorf("notice %s: want Bob as user bob (a client cannot pose as another)", a[0])
			}
			return members(m, "alice", "bob")
		}),
		none("bob", "user-joined"), // to the others only
		emitAck("carol", "join", []any{"chat:x"}, func(m map[string]any) error { return members(m, "alice", "bob", "carol") }),
		refused("dave", "join", []any{"chat:x"}, tier.RoomFull),
		emitAck("alice", "join", []any{"chat:x"}, func(m map[string]any) error { // again: no change
			return members(m, "alice", "bob", "carol")
		}),
		// publish: members only; to the others, not the sender.
		emitAck("alice", "publish", []any{"chat:x", "msg", "hi", 2}, nil),
		expect("bob", "msg", func(a []json.RawMessage) error {
			if len(a) != 2 || string(a[0]) != `"hi"` || string(a[1]) != "2" {
				return fmt.Errorf("msg %s", a)
			}
			return nil
		}),
		expect("carol", "msg", func([]json.RawMessage) error { return nil }),
		none("alice", "msg"),
		refused("dave", "publish", []any{"chat:x", "msg", "hi"}, tier.RoomNotMember),
		emit("dave", "publish", "chat:x", "msg", "hi"),
		errorEvent("dave", tier.RoomNotMember),
		none("bob", "msg"),
		refused("alice", "publish", []any{"chat:x", "connect"}, tier.EventInvalid),
		refused("alice", "publish", []any{"chat:x"}, tier.EventInvalid),
		// placeholders: {sub} and {claims.org}
		refused("bob", "join", []any{"user:alice"}, tier.RoomForbidden),
		emitAck("bob", "join", []any{"user:bob"}, func(m map[string]any) error {
			if _, has := m["count"]; has {
				return fmt.Errorf("answer %v: no count without max_members or presence", m)
			}
			return nil
		}),
		emitAck("alice", "join", []any{"org:acme:general"}, nil),
		refused("bob", "join", []any{"org:acme:general"}, tier.RoomForbidden),
		// granted by the rooms claim (a pattern in it)
		emitAck("alice", "join", []any{"private:abc"}, nil),
		refused("alice", "join", []any{"private:xyz"}, tier.RoomForbidden),
		refused("bob", "join", []any{"private:abc"}, tier.RoomForbidden),
		// deny by default, server-only rooms, socket id rooms
		refused("bob", "join", []any{"nowhere"}, tier.RoomUnknown),
		refused("bob", "join", []any{"backend:jobs"}, tier.RoomForbidden),
		refused("bob", "join", []any{"$id:alice"}, tier.RoomForbidden),
		refused("bob", "join", []any{"$id:bob"}, tier.RoomForbidden),
		refused("bob", "publish", []any{"$id:alice", "dm", "psst"}, tier.RoomForbidden),
		refused("bob", "join", []any{""}, tier.RoomInvalid),
		refused("bob", "join", []any{42}, tier.RoomInvalid),
		refused("bob", "join", []any{strings.Repeat("r", 201)}, tier.RoomInvalid),
		refused("bob", "join", []any{"open:a", "not an object"}, tier.EventInvalid),
		none("alice", "dm"),
		// publish none; publish anyone
		emitAck("bob", "join", []any{"announce:x"}, nil),
		refused("bob", "publish", []any{"announce:x", "msg", 1}, tier.RoomForbidden),
		emitAck("dave", "join", []any{"open:lobby"}, nil),
		emitAck("bob", "publish", []any{"open:lobby", "hello", "from outside"}, nil),
		expect("dave", "hello", func(a []json.RawMessage) error {
			if string(a[0]) != `"from outside"` {
				return fmt.Errorf("hello %s", a)
			}
			return nil
		}),
		// leave: presence notice with the new list; leaving twice is fine
		emitAck("bob", "leave", []any{"chat:x"}, func(m map[string]any) error {
			if m["room"] != "chat:x" {
				return fmt.Errorf("answer %v", m)
			}
			return nil
		}),
		expect("alice", "user-left", func(a []json.RawMessage) error {
			m := obj(a[0])
			if u, _ := m["user"].(map[string]any); u["userId"] != "bob" {
				return fmt.Errorf("notice %s", a[0])
			}
			return members(m, "alice", "carol")
		}),
		emitAck("bob", "leave", []any{"chat:x"}, nil),
		emitAck("dave", "join", []any{"chat:x"}, func(m map[string]any) error { return members(m, "alice", "carol", "dave") }),
		expect("alice", "user-joined", func([]json.RawMessage) error { return nil }),
		// a disconnect leaves the member list too
		{Step: nodetest.Step{C: "carol", Disconnect: true}},
		expect("alice", "user-left", func(a []json.RawMessage) error { return members(obj(a[0]), "alice", "dave") }),
		emitAck("bob", "join", []any{"chat:x"}, func(m map[string]any) error { return members(m, "alice", "dave", "bob") }),
		// leave without a room: every room joined through the policy
		emitAck("dave", "leave", nil, nil),
		expect("alice", "user-joined", func([]json.RawMessage) error { return nil }),
		expect("alice", "user-left", func(a []json.RawMessage) error { return members(obj(a[0]), "alice", "bob") }),
	}
	nodetest.RunChecks(t, start, clients, checks)
}

// TestPolicyEvents drives the event rules: permissions, payload size, rate limits with the
// disconnect after max_violations, strict mode, ping, and error events for events sent
// without an ack.
func TestPolicyEvents(t *testing.T) {
	start := func(t *testing.T) string { url, _ := servePolicy(t, testPolicy()); return url }
	clients := map[string]nodetest.ClientDef{
		"admin": {Auth: token(t, "root", map[string]any{"permissions": []string{"admin"}})},
		"scope": {Auth: token(t, "scoped", map[string]any{"permissions": "read admin"})},
		"user":  {Auth: token(t, "user", map[string]any{"permissions": []string{"administrator"}})},
		"spam":  {Auth: token(t, "spammer", nil)},
	}
	checks := []check{
		connect("admin"), connect("scope"), connect("user"), connect("spam"),
		emitAck("admin", "admin-action", []any{map[string]any{"op": "x"}}, nil),
		emitAck("scope", "admin-action", nil, nil),
		refused("user", "admin-action", []any{1}, tier.EventForbidden),
		emit("user", "admin-action", 1),
		errorEvent("user", tier.EventForbidden),
		emitAck("user", "big", []any{strings.Repeat("x", 80)}, nil),
		refused("user", "big", []any{strings.Repeat("x", 120)}, tier.EventTooLarge),
		refused("user", "undeclared", nil, tier.EventUnknown),
		emit("user", "undeclared"),
		errorEvent("user", tier.EventUnknown),
		emitAck("user", "typing-start", nil, nil), // an event pattern
		{Step: nodetest.Step{C: "user", Emit: "ping", Args: []any{1, "two"}, Ack: true}, Want: func(r nodetest.StepResult) error {
			if len(r.Ack) != 2 || string(r.Ack[0]) != "1" || string(r.Ack[1]) != `"two"` {
				return fmt.Errorf("ping ack %s", r.Ack)
			}
			return nil
		}},
		// rate 0.1/s with a burst of 2: two pass, then refusals; the third disconnects.
		emitAck("spam", "spam", nil, nil),
		emitAck("spam", "spam", nil, nil),
		refused("spam", "spam", nil, tier.RateLimited),
		emit("spam", "spam"),
		errorEvent("spam", tier.RateLimited),
		emit("spam", "spam"),
		errorEvent("spam", tier.RateLimited),
		{Step: nodetest.Step{C: "spam", ExpectDisconnect: true}, Want: func(r nodetest.StepResult) error {
			if r.Reason != "io server disconnect" {
				return fmt.Errorf("disconnect %+v, want io server disconnect", r)
			}
			return nil
		}},
		emitAck("user", "ping", nil, nil), // others unaffected
	}
	// The ping with no arguments acks with nothing: adjust its check.
	checks[len(checks)-1].Want = func(r nodetest.StepResult) error {
		if r.Timeout {
			return fmt.Errorf("no ack")
		}
		return nil
	}
	nodetest.RunChecks(t, start, clients, checks)
}
