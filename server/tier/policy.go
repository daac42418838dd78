package tier

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/riptide-io/riptide/codec/sio"
	"github.com/riptide-io/riptide/server"
)

// Room and event policies: what a client may do once connected. Rooms are declared by
// pattern and every room that matches none is refused; events carry permissions, size and
// rate limits; strict mode refuses undeclared events. A refused event that asked for an ack
// gets {error: {code, message}} in its ack, otherwise the socket gets an "error" event
// {code, message}. See docs/tier.md, "Rooms" and "Events".

// JoinMode says who may join the rooms of a pattern.
type JoinMode string

// Join modes.
const (
	// JoinAnyone: every connected socket, with an identity or not (the open default).
	JoinAnyone JoinMode = "anyone"
	// JoinAuthenticated: every socket with an identity (the default).
	JoinAuthenticated JoinMode = "authenticated"
	// JoinMatch: a socket with an identity whose claims equal the pattern's placeholders
	// (placeholders are checked in every mode; this mode requires the pattern to have some).
	JoinMatch JoinMode = "match"
	// JoinGranted: a socket whose grant claim (RoomRule.GrantClaim) lists the room or a
	// pattern matching it: private rooms.
	JoinGranted JoinMode = "granted"
	// JoinServer: no client; the server or the backend joins sockets itself.
	JoinServer JoinMode = "server"
	// JoinProxy: a socket with an identity whose join the backend allows
	// (PolicyConfig.Backend, X-Riptide-Kind: join).
	JoinProxy JoinMode = "proxy"
)

// PublishMode says who may publish to the rooms of a pattern.
type PublishMode string

// Publish modes.
const (
	PublishMembers PublishMode = "members" // sockets in the room (the default)
	PublishAnyone  PublishMode = "anyone"  // any connected socket, member or not
	PublishNone    PublishMode = "none"    // no client: the server or the backend only
)

// RoomRule declares the rooms matching Pattern and who may use them.
type RoomRule struct {
	Pattern string      // see Pattern: "chat:*", "user:{sub}", "org:{claims.org}:*"
	Join    JoinMode    // default JoinAuthenticated
	Publish PublishMode // default PublishMembers
	// GrantClaim is the claim listing the rooms a socket may join with JoinGranted;
	// default "rooms".
	GrantClaim string
	// MaxMembers bounds the room's sockets across the cluster (PolicyConfig.Members); 0: no
	// bound.
	MaxMembers int
	// Presence sends "user-joined" and "user-left" to the others in the room, with the
	// member's public data and the member list, and puts the list in join answers.
	Presence bool
}

// Action is what an event does once its checks pass.
type Action string

// Actions. The built-in events "join", "leave", "publish" and "ping" have the action of their
// name; a declared event takes one of these or none.
const (
	ActionNone    Action = ""        // acknowledge {ok: true}; nothing else
	ActionJoin    Action = "join"    // join a room: (room, data?) or ({RoomField, DataField})
	ActionLeave   Action = "leave"   // leave a room, or every room joined, without one
	ActionPublish Action = "publish" // built-in: (room, event, ...args); declared: relays itself
	ActionPing    Action = "ping"    // acknowledge with the arguments
	ActionProxy   Action = "proxy"   // POST to PolicyConfig.Backend; its reply is the ack
)

// EventRule declares an event (or a pattern of events, with '*') and its checks.
type EventRule struct {
	Name   string // event name, or a pattern: "admin-*"
	Action Action // for a built-in name, its own action
	// Permission, when set, must be listed in the caller's permissions claim.
	Permission string
	// MaxPayload bounds the event's arguments in bytes (JSON and binary); 0: the engine's
	// message limit.
	MaxPayload int
	// Rate and Burst: events per second per socket, and the burst above it; 0: no limit
	// of its own (PolicyConfig.Rate still applies).
	Rate  float64
	Burst int
	// RoomField, for a declared join, leave or publish: the first argument is an object
	// and its member RoomField names the room (the app in the Node guide sends
	// {roomId, userData}). Join and leave answers use it as the room's key too.
	RoomField string
	// DataField, for a declared join: the member of the first argument holding the public
	// data others see (an object); for the built-in join, the second argument.
	DataField string
	// Reply, when set, is an event sent back to the socket when the action succeeds, with
	// the same object the ack carries ("room-joined").
	Reply string
}

// PolicyConfig configures a Policy.
type PolicyConfig struct {
	Rooms  []RoomRule
	Events []EventRule
	// Strict refuses events that match no rule with EVENT_UNKNOWN. Otherwise they pass on
	// to the namespace's own handlers.
	Strict bool
	// PermissionsClaim is the claim listing the caller's permissions; default
	// "permissions". An array of strings or a space-separated string.
	PermissionsClaim string
	// Rate and Burst bound every event of a socket together; 0: no bound.
	Rate  float64
	Burst int
	// MaxViolations disconnects a socket after this many RATE_LIMITED refusals; 0: never.
	MaxViolations int
	// MembersField names the member list in join answers and presence notices; default
	// "members".
	MembersField string
	// MaxRoomBytes bounds room names; default 200.
	MaxRoomBytes int
	// MaxMemberData bounds a member's public data in bytes; default 1024.
	MaxMemberData int
	// Members counts and lists members for MaxMembers and Presence; default
	// NewMemoryMembers() (one node). Use NewRedisMembers for a cluster.
	Members Members
	// Webhooks, when set, hear the joins and leaves the policy makes.
	Webhooks *Webhooks
	// Backend answers events with action proxy and joins of rooms with join: proxy.
	Backend *Backend
	// StoreTimeout bounds each call to Members; default 2s.
	StoreTimeout time.Duration
	// Logger; default slog.Default().
	Logger *slog.Logger
}

// Policy enforces a PolicyConfig on namespaces. Create it with NewPolicy and Install it.
type Policy struct {
	cfg    PolicyConfig
	rooms  []roomRule
	events map[string]*eventRule
	globs  []*eventRule // rules whose name is a pattern, in order
	// nbuckets is the number of rules with a rate: the size of each socket's buckets.
	nbuckets int
	log      *slog.Logger

	states sync.Map // *server.Socket -> *sockState, from its first event that needs one
}

type roomRule struct {
	RoomRule
	pat *Pattern
}

// store reports whether the room's members are counted in the member store.
func (r *roomRule) store() bool { return r.MaxMembers > 0 || r.Presence }

type eventRule struct {
	EventRule
	glob   []byte
	bucket int // index of its bucket in sockState.buckets, -1 without a rate
}

// sockState is what a policy keeps for a socket: its rate buckets and violations, and the
// rooms it joined that the member store counts. Events of a socket run one at a time, but
// disconnects and server-side calls may race with them, hence the lock.
type sockState struct {
	mu         sync.Mutex
	all        bucket
	buckets    []bucket
	violations int
	joined     []joinedRoom // rooms in the member store, in join order
}

// joinedRoom is a room the member store counts the socket in, with the public data others
// were shown at its join (repeated in its "user-left" notice).
type joinedRoom struct {
	room string
	pub  []byte
}

// index returns the position of room in joined, or -1.
func (st *sockState) index(room string) int {
	for i := range st.joined {
		if st.joined[i].room == room {
			return i
		}
	}
	return -1
}

// builtins are the events every policy serves, with their action.
var builtins = []EventRule{
	{Name: "join", Action: ActionJoin},
	{Name: "leave", Action: ActionLeave},
	{Name: "publish", Action: ActionPublish},
	{Name: "ping", Action: ActionPing},
}

// NewPolicy checks cfg and returns its policy. Errors name the rule at fault.
func NewPolicy(cfg PolicyConfig) (*Policy, error) {
	if cfg.PermissionsClaim == "" {
		cfg.PermissionsClaim = "permissions"
	}
	if cfg.MembersField == "" {
		cfg.MembersField = "members"
	}
	if cfg.MaxRoomBytes <= 0 {
		cfg.MaxRoomBytes = 200
	}
	if cfg.MaxMemberData <= 0 {
		cfg.MaxMemberData = 1024
	}
	if cfg.StoreTimeout <= 0 {
		cfg.StoreTimeout = 2 * time.Second
	}
	if cfg.Members == nil {
		cfg.Members = NewMemoryMembers()
	}
	if cfg.Rate < 0 || cfg.Burst < 0 || cfg.MaxViolations < 0 {
		return nil, fmt.Errorf("rate, burst and max_violations must not be negative")
	}
	p := &Policy{cfg: cfg, events: map[string]*eventRule{}, log: cfg.Logger}
	if p.log == nil {
		p.log = slog.Default()
	}
	for i, r := range cfg.Rooms {
		if err := p.addRoom(r); err != nil {
			return nil, fmt.Errorf("rooms[%d]: %w", i, err)
		}
	}
	nb := 0
	for i, r := range cfg.Events {
		if err := p.addEvent(r, &nb); err != nil {
			return nil, fmt.Errorf("events[%d] (%s): %w", i, r.Name, err)
		}
	}
	for _, b := range builtins {
		if p.events[b.Name] == nil {
			_ = p.addEvent(b, &nb)
		}
	}
	p.nbuckets = nb
	return p, nil
}

func (p *Policy) addRoom(r RoomRule) error {
	pat, err := CompilePattern(r.Pattern)
	if err != nil {
		return err
	}
	if r.Join == "" {
		r.Join = JoinAuthenticated
	}
	if r.Publish == "" {
		r.Publish = PublishMembers
	}
	if r.GrantClaim == "" {
		r.GrantClaim = "rooms"
	}
	switch r.Join {
	case JoinAnyone, JoinAuthenticated, JoinGranted, JoinServer:
	case JoinProxy:
		if p.cfg.Backend == nil {
			return fmt.Errorf("join %q needs a backend (backend.url)", r.Join)
		}
	case JoinMatch:
		if !pat.HasPlaceholders() {
			return fmt.Errorf("join %q needs a pattern with placeholders such as {sub}", r.Join)
		}
	default:
		return fmt.Errorf("join %q: want anyone, authenticated, match, granted, server or proxy", r.Join)
	}
	switch r.Publish {
	case PublishMembers, PublishAnyone, PublishNone:
	default:
		return fmt.Errorf("publish %q: want members, anyone or none", r.Publish)
	}
	if r.MaxMembers < 0 {
		return fmt.Errorf("max_members must not be negative")
	}
	p.rooms = append(p.rooms, roomRule{RoomRule: r, pat: pat})
	return nil
}

func (p *Policy) addEvent(r EventRule, nb *int) error {
	if r.Name == "" {
		return fmt.Errorf("an event needs a name")
	}
	if p.events[r.Name] != nil {
		return fmt.Errorf("declared twice")
	}
	for _, b := range builtins {
		if b.Name == r.Name {
			switch r.Action {
			case "":
				r.Action = b.Action
			case b.Action, ActionProxy: // the backend may take a built-in over
			default:
				return fmt.Errorf("a built-in event keeps its action %q (or hands it to the backend: proxy)", b.Action)
			}
		}
	}
	switch r.Action {
	case ActionNone, ActionJoin, ActionLeave, ActionPublish, ActionPing:
	case ActionProxy:
		if p.cfg.Backend == nil {
			return fmt.Errorf("action proxy needs a backend (backend.url)")
		}
	default:
		return fmt.Errorf("action %q: want join, leave, publish, ping, proxy or none", r.Action)
	}
	if r.Action == ActionPublish && r.RoomField == "" && r.Name != "publish" {
		return fmt.Errorf("a declared publish needs room_field (the member of its object argument naming the room)")
	}
	if r.MaxPayload < 0 || r.Rate < 0 || r.Burst < 0 {
		return fmt.Errorf("max_payload, rate and burst must not be negative")
	}
	if server.IsReserved(r.Name) || server.IsReserved(r.Reply) {
		return fmt.Errorf("%q and %q: reserved event names cannot be declared", r.Name, r.Reply)
	}
	e := &eventRule{EventRule: r, bucket: -1}
	if r.Rate > 0 {
		e.bucket = *nb
		*nb++
	}
	if strings.Contains(r.Name, "*") {
		if r.Action != ActionNone && r.Action != ActionProxy {
			return fmt.Errorf("an event pattern can only have the action proxy")
		}
		e.glob = []byte(r.Name)
		p.globs = append(p.globs, e)
	}
	p.events[r.Name] = e
	return nil
}

// NeedsClaims reports whether the policy reads claims besides the user id (placeholders,
// grants, permissions): the Verifier must then keep them (JWTConfig.KeepClaims).
func (p *Policy) NeedsClaims() bool {
	for i := range p.rooms {
		if p.rooms[i].pat.NeedsClaims() || p.rooms[i].Join == JoinGranted {
			return true
		}
	}
	for _, e := range p.events {
		if e.Permission != "" {
			return true
		}
	}
	return false
}

// Install enforces the policy on ns: one event middleware for every socket (no per-socket
// listener), a disconnect hook that leaves the member store, and a connection hook that
// counts recovered sockets in it again.
func (p *Policy) Install(ns *server.Namespace) {
	ns.UseEvent(p.onEvent)
	ns.OnDisconnect(p.onDisconnect)
	ns.OnConnection(p.onRecovered)
}

// Close releases the member store.
func (p *Policy) Close() error { return p.cfg.Members.Close() }

// rule returns the event's rule, or nil.
func (p *Policy) rule(name string) *eventRule {
	if r := p.events[name]; r != nil && r.glob == nil {
		return r
	}
	for _, r := range p.globs {
		if globMatch(r.glob, name) {
			return r
		}
	}
	return nil
}

// room returns the rule of the first pattern room matches, or nil.
func (p *Policy) room(room string) *roomRule {
	for i := range p.rooms {
		if p.rooms[i].pat.Match(room) {
			return &p.rooms[i]
		}
	}
	return nil
}

// onEvent checks an event and runs its action. It returns the refusal, which drops the
// event, or nil, which lets the namespace's own handlers see it too.
func (p *Policy) onEvent(s *server.Socket, ev *server.Event) error {
	r := p.rule(ev.Name)
	if r == nil {
		if p.cfg.Strict {
			return p.refuse(s, ev, errs[EventUnknown])
		}
		return nil
	}
	id := IdentityOf(s)
	if r.Permission != "" && !id.HasPermission(p.cfg.PermissionsClaim, r.Permission) {
		return p.refuse(s, ev, errs[EventForbidden])
	}
	if r.MaxPayload > 0 && payloadSize(ev) > r.MaxPayload {
		return p.refuse(s, ev, errs[EventTooLarge])
	}
	if p.cfg.Rate > 0 || r.bucket >= 0 {
		if e, out := p.limit(s, r); out {
			return e
		} else if e != nil {
			return p.refuse(s, ev, e)
		}
	}
	var e *Error
	switch r.Action {
	case ActionNone:
		if ev.HasAck() {
			_ = ev.Ack(okArgs)
		}
	case ActionPing:
		_ = ev.Ack(ev.Args)
	case ActionJoin:
		e = p.join(s, ev, r, id)
	case ActionLeave:
		e = p.leave(s, ev, r)
	case ActionPublish:
		e = p.publish(s, ev, r, id)
	case ActionProxy:
		e = p.proxyEvent(s, ev, id)
	}
	if e != nil {
		return p.refuse(s, ev, e)
	}
	return nil
}

// limit takes a token from the socket's buckets; over the rate it returns the refusal, and
// at MaxViolations it tells the socket and disconnects it (out).
func (p *Policy) limit(s *server.Socket, r *eventRule) (e *Error, out bool) {
	st := p.state(s)
	now := time.Now().UnixNano()
	st.mu.Lock()
	ok := (p.cfg.Rate <= 0 || st.all.take(now, p.cfg.Rate, p.cfg.Burst)) &&
		(r.bucket < 0 || st.buckets[r.bucket].take(now, r.Rate, r.Burst))
	if !ok {
		st.violations++
		out = p.cfg.MaxViolations > 0 && st.violations >= p.cfg.MaxViolations
	}
	st.mu.Unlock()
	if ok {
		return nil, false
	}
	if out {
		e := counted(RateLimited)
		_ = s.Emit("error", e)
		p.log.Info("tier: socket disconnected for exceeding its rate", "code", RateLimited, "sid", s.ID())
		s.Disconnect(false)
		return e, true
	}
	return errs[RateLimited], false
}

// state returns the socket's state, creating it.
func (p *Policy) state(s *server.Socket) *sockState {
	if st, ok := p.states.Load(s); ok {
		return st.(*sockState)
	}
	st := &sockState{buckets: make([]bucket, p.nbuckets)}
	actual, _ := p.states.LoadOrStore(s, st)
	return actual.(*sockState)
}

// refuse answers a refused event: in its ack when it asked for one, else with an "error"
// event. It returns e for the socket's OnError listeners.
func (p *Policy) refuse(s *server.Socket, ev *server.Event, e *Error) error {
	count(e)
	if ev.HasAck() {
		if a, ok := ackErrs[e.Code]; ok && e.Details == "" {
			_ = ev.Ack(a)
		} else {
			_ = ev.Ack(map[string]*Error{"error": e})
		}
		return e
	}
	_ = s.Emit("error", e)
	return e
}

// payloadSize is the size of the event's arguments: their JSON and binary attachments.
func payloadSize(ev *server.Event) int {
	n := len(ev.JSON())
	for _, a := range ev.Attachments() {
		n += len(a)
	}
	return n
}

// okArgs is the ack of an accepted event without an answer of its own.
var okArgs = server.NewArgs([]byte(`[{"ok":true}]`), nil)

// ackErrs holds the ack of each refusal, encoded once: [{"error":{"code":...,"message":...}}].
var ackErrs = func() map[Code]server.Args {
	m := make(map[Code]server.Args, len(messages))
	for c, msg := range messages {
		b := append([]byte(`[{"error":{"code":`), sio.AppendQuote(nil, string(c))...)
		b = append(b, `,"message":`...)
		b = append(b, sio.AppendQuote(nil, msg)...)
		m[c] = server.NewArgs(append(b, "}}]"...), nil)
	}
	return m
}()

// storeCtx bounds a member store call.
func (p *Policy) storeCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), p.cfg.StoreTimeout)
}
