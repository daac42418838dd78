package tier

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestPatternMatch(t *testing.T) {
	alice := &Identity{User: "alice", Claims: json.RawMessage(`{"sub":"alice","org":"acme","team":{"id":42},"esc":"a\u0062c","colon":"a:b"}`)}
	cases := []struct {
		pat, room string
		shape     bool // Match: the room has the pattern's shape
		forAlice  bool // MatchFor(alice)
	}{
		{"chat:*", "chat:lobby", true, true},
		{"chat:*", "chat:eu:general", true, true},
		{"chat:*", "chat:", false, false},
		{"chat:*", "chatter", false, false},
		{"lobby", "lobby", true, true},
		{"lobby", "lobby2", false, false},
		{"user:{sub}", "user:alice", true, true},
		{"user:{sub}", "user:bob", true, false},
		{"user:{sub}", "user:alice:x", false, false},
		{"user:{user}", "user:alice", true, true},
		{"user:{sub}", "user:", false, false},
		{"org:{claims.org}:*", "org:acme:general", true, true},
		{"org:{claims.org}:*", "org:other:general", true, false},
		{"org:{org}:*", "org:acme:x", true, true},
		{"org:{claims.org}:*", "org:acme:", false, false},
		{"team:{team.id}", "team:42", true, true},
		{"team:{team.id}", "team:4", true, false},
		{"e:{esc}", "e:abc", true, true}, // escapes in the claim are decoded
		{"c:{colon}", "c:a:b", false, false},
		{"{sub}-notes", "alice-notes", true, true},
		{"{sub}-notes", "bob-notes", true, false},
		{"*-x-*", "a-x-b", true, true},
		{"*-x-*", "a-x-", false, false},
		{"dm:{sub}:*", "dm:alice:bob", true, true},
		{"missing:{claims.nope}", "missing:x", true, false},
	}
	for _, c := range cases {
		p, err := CompilePattern(c.pat)
		if err != nil {
			t.Fatalf("%s: %v", c.pat, err)
		}
		if got := p.Match(c.room); got != c.shape {
			t.Errorf("%q.Match(%q) = %v, want %v", c.pat, c.room, got, c.shape)
		}
		if got := p.MatchFor(c.room, alice); got != c.forAlice {
			t.Errorf("%q.MatchFor(%q, alice) = %v, want %v", c.pat, c.room, got, c.forAlice)
		}
		if p.HasPlaceholders() && p.MatchFor(c.room, nil) {
			t.Errorf("%q matched %q without an identity", c.pat, c.room)
		}
	}
}

func TestPatternErrors(t *testing.T) {
	for _, src := range []string{"", "a{sub", "a}b", "**", "*{sub}", "{sub}{org}", "x:{}", "x:{claims.}", "x:{a..b}"} {
		if _, err := CompilePattern(src); err == nil {
			t.Errorf("CompilePattern(%q): no error", src)
		}
	}
}

func TestClaimLists(t *testing.T) {
	id := &Identity{User: "u", Claims: json.RawMessage(`{"permissions":["admin","ops"],"scope":"read write","rooms":["private:a*","vip","x\u002Ay"],"n":3}`)}
	for _, c := range []struct {
		claim, v string
		want     bool
	}{
		{"permissions", "admin", true},
		{"permissions", "adm", false},
		{"scope", "write", true},
		{"scope", "read write", false},
		{"n", "3", false},
		{"absent", "admin", false},
	} {
		if got := id.HasPermission(c.claim, c.v); got != c.want {
			t.Errorf("HasPermission(%s, %s) = %v", c.claim, c.v, got)
		}
	}
	for room, want := range map[string]bool{"private:abc": true, "private:a": true, "private:": false, "private:b": false, "vip": true, "vip2": false, "xanythingy": true} {
		if got := id.Granted("rooms", room); got != want {
			t.Errorf("Granted(%s) = %v", room, got)
		}
	}
	var none *Identity
	if none.HasPermission("permissions", "admin") || none.Granted("rooms", "vip") {
		t.Error("a socket without an identity has a permission")
	}
	if (&Identity{User: "u"}).HasPermission("permissions", "admin") {
		t.Error("an identity without claims has a permission")
	}
}

func TestGlobMatch(t *testing.T) {
	for _, c := range []struct {
		p, s string
		want bool
	}{
		{"*", "", true}, {"a*", "a", true}, {"a*b", "axxb", true}, {"a*b", "axxbc", false},
		{"*b*", "abc", true}, {"typing-*", "typing-start", true}, {"typing-*", "typing", false},
		{"a*a*a", "aaaa", true}, {"a*a*a", "aa", false},
	} {
		if got := globMatch([]byte(c.p), c.s); got != c.want {
			t.Errorf("globMatch(%q, %q) = %v", c.p, c.s, got)
		}
	}
}

func TestBucket(t *testing.T) {
	var b bucket
	const sec = int64(1e9)
	now := int64(1000) * sec
	// burst 3 at 2/s: three pass at once, the fourth waits half a second.
	for i := 0; i < 3; i++ {
		if !b.take(now, 2, 3) {
			t.Fatalf("take %d refused within the burst", i)
		}
	}
	if b.take(now, 2, 3) {
		t.Fatal("take over the burst passed")
	}
	if b.take(now+sec/4, 2, 3) {
		t.Fatal("passed after a quarter second at 2/s")
	}
	if !b.take(now+sec/2+sec/4, 2, 3) {
		t.Fatal("refused after refilling")
	}
	// A long pause refills to the burst, not beyond.
	now += 100 * sec
	n := 0
	for b.take(now, 2, 3) {
		n++
	}
	if n != 3 {
		t.Fatalf("%d passed after a long pause, want the burst of 3", n)
	}
	// A clock step back refills nothing.
	if b.take(now-sec, 2, 3) {
		t.Fatal("passed on a clock going backwards")
	}
}

func TestPolicyConfigErrors(t *testing.T) {
	for _, c := range []struct {
		cfg  PolicyConfig
		want string
	}{
		{PolicyConfig{Rooms: []RoomRule{{Pattern: "a{"}}}, "rooms[0]"},
		{PolicyConfig{Rooms: []RoomRule{{Pattern: "a:*", Join: "match"}}}, "placeholders"},
		{PolicyConfig{Rooms: []RoomRule{{Pattern: "a:*", Join: "everyone"}}}, `join "everyone"`},
		{PolicyConfig{Rooms: []RoomRule{{Pattern: "a:*", Publish: "all"}}}, `publish "all"`},
		{PolicyConfig{Rooms: []RoomRule{{Pattern: "a:*", MaxMembers: -1}}}, "max_members"},
		{PolicyConfig{Events: []EventRule{{Name: "join", Action: ActionPublish}}}, "built-in"},
		{PolicyConfig{Events: []EventRule{{Name: "x", Action: "shout"}}}, `action "shout"`},
		{PolicyConfig{Events: []EventRule{{Name: "x", Action: ActionPublish}}}, "room_field"},
		{PolicyConfig{Events: []EventRule{{Name: "x-*", Action: ActionJoin}}}, "pattern"},
		{PolicyConfig{Events: []EventRule{{Name: "x"}, {Name: "x"}}}, "twice"},
		{PolicyConfig{Events: []EventRule{{Name: "disconnect"}}}, "reserved"},
		{PolicyConfig{Events: []EventRule{{Name: ""}}}, "name"},
		{PolicyConfig{Rate: -1}, "negative"},
	} {
		_, err := NewPolicy(c.cfg)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("NewPolicy(%+v) = %v, want an error with %q", c.cfg, err, c.want)
		}
	}
}

// TestPolicyChecksAllocateNothing: what a publish to a joined room costs the policy (its
// rule, its room's rule, the placeholders, a permission and a grant) allocates nothing.
func TestPolicyChecksAllocateNothing(t *testing.T) {
	p, err := NewPolicy(PolicyConfig{
		Rooms:  []RoomRule{{Pattern: "user:{sub}"}, {Pattern: "org:{claims.org}:*"}, {Pattern: "chat:*"}},
		Events: []EventRule{{Name: "typing-*"}, {Name: "publish", Permission: "write"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	id := &Identity{User: "alice", Claims: json.RawMessage(`{"org":"acme","permissions":["read","write"],"rooms":["chat:*"]}`)}
	room := "chat:lobby"
	n := testing.AllocsPerRun(1000, func() {
		r := p.rule("publish")
		rr := p.room(room)
		if r == nil || rr == nil || !id.HasPermission("permissions", r.Permission) ||
			!rr.pat.MatchFor(room, id) || !id.Granted("rooms", room) ||
			!p.rooms[1].pat.MatchFor("org:acme:x", id) || !p.rooms[0].pat.MatchFor("user:alice", id) {
			t.Fatal("a check failed")
		}
	})
	if n != 0 {
		t.Fatalf("%v allocations per check, want 0", n)
	}
}
