package tier

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/redis/rueidis"
)

// RedisMembersOptions configures NewRedisMembers.
type RedisMembersOptions struct {
	Prefix string        // key prefix; default "riptide:members"
	TTL    time.Duration // how long a member of a node that stopped refreshing stays counted; default 60s
	Logger *slog.Logger  // refresh failures are logged here; default slog.Default()
}

func (o RedisMembersOptions) withDefaults() RedisMembersOptions {
	if o.Prefix == "" {
		o.Prefix = "riptide:members"
	}
	if o.TTL <= 0 {
		o.TTL = 60 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}

const (
	// membersBatch bounds the commands one round trip of a refresh or of Close carries.
	membersBatch = 1024
	// membersCloseTimeout bounds the clean leave of Close when Redis does not answer.
	membersCloseTimeout = 5 * time.Second
)

// The scripts share two helpers. Per room, three keys with one hash tag (one Cluster slot):
// KEYS[1] the hash socket id -> data, KEYS[2] the sorted set socket id -> expiry (unix ms),
// KEYS[3] the sorted set socket id -> join sequence (1, 2, ...; the next one is the highest
// plus one), which gives lists their join order since the expiry scores move on every refresh.
//
// expire drops the members whose expiry has passed, 1000 at a time (Lua's unpack has a
// stack limit of about 8000 values). list returns id, data pairs, the first cap in join order.
const membersLuaHelpers = `
local function expire(now)
  while true do
    local dead = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, 1000)
    if #dead == 0 then return end
    redis.call('HDEL', KEYS[1], unpack(dead))
    redis.call('ZREM', KEYS[2], unpack(dead))
    redis.call('ZREM', KEYS[3], unpack(dead))
  end
end
local function list(cap)
  local ids = redis.call('ZRANGE', KEYS[3], 0, cap - 1)
  if #ids == 0 then return ids end
  local data = redis.call('HMGET', KEYS[1], unpack(ids))
  local out = {}
  for i = 1, #ids do
    out[2 * i - 1] = ids[i]
    out[2 * i] = data[i] or ''
  end
  return out
end
`

// joinScript: ARGV id, data, now, expiry, max, key TTL (ms), list ("1"), cap.
// Returns {1, count[, list]} when joined, {0, count} when full.
var joinScript = rueidis.NewLuaScript(membersLuaHelpers + `
local id = ARGV[1]
expire(ARGV[3])
local count = redis.call('ZCARD', KEYS[2])
local member = redis.call('ZSCORE', KEYS[2], id)
local max = tonumber(ARGV[5])
if not member and max > 0 and count >= max then
  return {0, count}
end
redis.call('HSET', KEYS[1], id, ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[4], id)
if not member then
  local last = redis.call('ZRANGE', KEYS[3], -1, -1, 'WITHSCORES')
  local seq = 1
  if #last > 0 then seq = tonumber(last[2]) + 1 end
  redis.call('ZADD', KEYS[3], seq, id)
  count = count + 1
end
for i = 1, 3 do redis.call('PEXPIRE', KEYS[i], ARGV[6]) end
if ARGV[7] == '1' then return {1, count, list(tonumber(ARGV[8]))} end
return {1, count}
`)

// leaveScript: ARGV now, list ("1"), cap, ids... (at most 1000). Returns the list or {}.
var leaveScript = rueidis.NewLuaScript(membersLuaHelpers + `
expire(ARGV[1])
redis.call('HDEL', KEYS[1], unpack(ARGV, 4))
redis.call('ZREM', KEYS[2], unpack(ARGV, 4))
redis.call('ZREM', KEYS[3], unpack(ARGV, 4))
if ARGV[2] == '1' then return list(tonumber(ARGV[3])) end
return {}
`)

// listScript: ARGV now, cap. Returns the list.
var listScript = rueidis.NewLuaScript(membersLuaHelpers + `
expire(ARGV[1])
return list(tonumber(ARGV[2]))
`)

// NewRedisMembers returns the member store of a cluster: the members of a room are kept in
// Redis, so max_members bounds the room across all nodes that share the Redis (a Lua script
// checks and adds atomically).
//
// Members are kept alive by the node that added them: one goroutine per store re-extends
// their expiry every TTL/3 in pipelined batches, so the members of a node that crashed
// stop counting after TTL while those of live nodes never expire. The nodes' clocks must
// agree to well within TTL (expiry times are the adding node's unix milliseconds). Keys
// expire 2*TTL after the room's last join or refresh, so abandoned rooms vanish.
//
// Keys: <Prefix>:{r:<room>}:data (hash socket id -> data), :exp (sorted set socket id ->
// expiry) and :order (sorted set socket id -> join sequence). The "r:" keeps the hash tag
// from being empty (a room named "" or beginning with '}'), which would scatter a room's
// keys over Redis Cluster slots.
//
// client stays the caller's: Close the store before the client. Redis errors are returned
// (wrapped) and nothing is retried: a join whose reply is lost may still have been added,
// and then expires after TTL.
func NewRedisMembers(client rueidis.Client, opts RedisMembersOptions) Members {
	opts = opts.withDefaults()
	s := &redisMembers{
		client: client,
		opts:   opts,
		ttl:    opts.TTL.Milliseconds(),
		keyTTL: strconv.FormatInt(2*opts.TTL.Milliseconds(), 10),
		mine:   map[string]map[string]struct{}{},
		done:   make(chan struct{}),
	}
	s.life, s.stop = context.WithCancel(context.Background())
	go s.refresher() // one per store (per node), refreshing every member in batches; none per socket
	return s
}

// redisMembers is the Redis store. mine holds what this node added, room -> socket ids:
// what the refresher keeps alive and Close removes; it is bounded by the node's sockets.
type redisMembers struct {
	client rueidis.Client
	opts   RedisMembersOptions
	ttl    int64  // ms
	keyTTL string // ms, for PEXPIRE

	mu     sync.Mutex
	mine   map[string]map[string]struct{}
	closed bool

	life context.Context // canceled by stop: the refresher returns, its round trip ends
	stop context.CancelFunc
	done chan struct{} // closed by the refresher when it returned
}

var listCapArg = strconv.Itoa(MaxListedMembers)

func (s *redisMembers) keys(room string) []string {
	base := s.opts.Prefix + ":{r:" + room + "}"
	return []string{base + ":data", base + ":exp", base + ":order"}
}

func boolArg(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

func (s *redisMembers) Join(ctx context.Context, room, id string, data []byte, max int, list bool) (JoinResult, error) {
	// Tracked before the script runs, so that a Leave racing with this Join (a disconnect
	// while the join is in flight) leaves nothing tracked for good: at worst a member that
	// nobody refreshes, which expires after TTL.
	had, open := s.track(room, id)
	if !open {
		return JoinResult{}, ErrMembersClosed
	}
	res, err := s.join(ctx, room, id, data, max, list)
	if (err != nil || !res.OK) && !had {
		s.untrack(room, id)
	}
	if err == nil && res.OK && s.isClosed() { // Close may have missed it: take it out again
		_, _ = leaveScript.Exec(ctx, s.client, s.keys(room), []string{"0", "0", listCapArg, id}).ToArray()
		return JoinResult{}, ErrMembersClosed
	}
	return res, err
}

// join runs the join script.
func (s *redisMembers) join(ctx context.Context, room, id string, data []byte, max int, list bool) (JoinResult, error) {
	now := time.Now().UnixMilli()
	arr, err := joinScript.Exec(ctx, s.client, s.keys(room), []string{
		id, string(data), strconv.FormatInt(now, 10), strconv.FormatInt(now+s.ttl, 10),
		strconv.Itoa(max), s.keyTTL, boolArg(list), listCapArg,
	}).ToArray()
	if err == nil && len(arr) < 2 {
		err = fmt.Errorf("unexpected reply of %d values", len(arr))
	}
	if err != nil {
		return JoinResult{}, fmt.Errorf("tier: member store: join: %w", err)
	}
	ok, _ := arr[0].AsInt64()
	count, _ := arr[1].AsInt64()
	res := JoinResult{OK: ok == 1, Count: int(count)}
	if res.OK && list && len(arr) > 2 {
		if res.Members, err = parseMembers(arr[2]); err != nil {
			return JoinResult{}, fmt.Errorf("tier: member store: join: %w", err)
		}
	}
	return res, nil
}

func (s *redisMembers) Leave(ctx context.Context, room, id string, list bool) ([]Member, error) {
	// Forget it first: if the script fails, the member is no longer refreshed and expires
	// after TTL rather than staying forever.
	if !s.untrack(room, id) {
		return nil, ErrMembersClosed
	}
	now := time.Now().UnixMilli()
	v, err := leaveScript.Exec(ctx, s.client, s.keys(room), []string{strconv.FormatInt(now, 10), boolArg(list), listCapArg, id}).ToMessage()
	if err != nil {
		return nil, fmt.Errorf("tier: member store: leave: %w", err)
	}
	if !list {
		return nil, nil
	}
	ms, err := parseMembers(v)
	if err != nil {
		return nil, fmt.Errorf("tier: member store: leave: %w", err)
	}
	return ms, nil
}

func (s *redisMembers) List(ctx context.Context, room string) ([]Member, error) {
	if s.isClosed() {
		return nil, ErrMembersClosed
	}
	now := time.Now().UnixMilli()
	v, err := listScript.Exec(ctx, s.client, s.keys(room), []string{strconv.FormatInt(now, 10), listCapArg}).ToMessage()
	if err == nil {
		var ms []Member
		if ms, err = parseMembers(v); err == nil {
			return ms, nil
		}
	}
	return nil, fmt.Errorf("tier: member store: list: %w", err)
}

// Close stops the refresher and removes this node's members, in pipelined batches of plain
// HDEL/ZREM (not scripts: rueidis retries a script's SCRIPT LOAD until the context ends, so
// a Close without Redis would take membersCloseTimeout rather than fail at once). It returns
// the first Redis error.
func (s *redisMembers) Close() error {
	mine, first := s.markClosed()
	if !first {
		return nil
	}
	s.halt()

	ctx, cancel := context.WithTimeout(context.Background(), membersCloseTimeout)
	defer cancel()
	var failed error
	cmds := make(rueidis.Commands, 0, membersBatch)
	flush := func() {
		for _, r := range s.client.DoMulti(ctx, cmds...) {
			if err := r.Error(); err != nil && failed == nil {
				failed = fmt.Errorf("tier: member store: close: %w", err)
			}
		}
		cmds = cmds[:0]
	}
	for room, set := range mine {
		k := s.keys(room)
		for _, ids := range idChunks(set, MaxListedMembers) {
			cmds = append(cmds,
				s.client.B().Hdel().Key(k[0]).Field(ids...).Build(),
				s.client.B().Zrem().Key(k[1]).Member(ids...).Build(),
				s.client.B().Zrem().Key(k[2]).Member(ids...).Build())
			if len(cmds)+3 > membersBatch {
				flush()
			}
		}
	}
	if len(cmds) > 0 {
		flush()
	}
	return failed
}

// markClosed closes the store to callers and takes what this node added; first is false
// when it was closed already.
func (s *redisMembers) markClosed() (mine map[string]map[string]struct{}, first bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, false
	}
	s.closed = true
	mine, s.mine = s.mine, nil
	return mine, true
}

// halt stops the refresher and waits for it; Close calls it, and tests call it alone to
// play a crashed node (its members stay in Redis, unrefreshed).
func (s *redisMembers) halt() {
	s.stop()
	<-s.done
}

func (s *redisMembers) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// track records a member this node adds: had says it was tracked already, open is false
// (and nothing recorded) when the store is closed.
func (s *redisMembers) track(room, id string) (had, open bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false, false
	}
	set := s.mine[room]
	if set == nil {
		set = map[string]struct{}{}
		s.mine[room] = set
	}
	_, had = set[id]
	set[id] = struct{}{}
	return had, true
}

// untrack forgets a member; false when the store is closed.
func (s *redisMembers) untrack(room, id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	if set := s.mine[room]; set != nil {
		delete(set, id)
		if len(set) == 0 {
			delete(s.mine, room)
		}
	}
	return true
}

// refresher re-extends the expiry of this node's members every TTL/3: one goroutine per
// store, none per socket.
func (s *redisMembers) refresher() {
	defer close(s.done)
	t := time.NewTicker(max(s.opts.TTL/3, time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-t.C:
			s.refresh()
		case <-s.life.Done():
			return
		}
	}
}

// roomIDs is one room's members of this node, as the refresher snapshots them.
type roomIDs struct {
	room string
	ids  []string
}

// refresh sets every member of this node to expire TTL from now and extends its room's
// keys, in pipelined batches of at most membersBatch commands. ZADD XX: a member that left
// meanwhile, or that Redis dropped (an outage longer than TTL, a restart without
// persistence), is not added back, since that could overfill its room.
func (s *redisMembers) refresh() {
	s.mu.Lock()
	snap := make([]roomIDs, 0, len(s.mine))
	for room, set := range s.mine {
		for _, ids := range idChunks(set, MaxListedMembers) {
			snap = append(snap, roomIDs{room, ids})
		}
	}
	s.mu.Unlock()

	score := float64(time.Now().UnixMilli() + s.ttl)
	failed, start := 0, 0
	cmds := make(rueidis.Commands, 0, membersBatch)
	for i, r := range snap {
		k := s.keys(r.room)
		z := s.client.B().Zadd().Key(k[1]).Xx().ScoreMember()
		for _, id := range r.ids {
			z = z.ScoreMember(score, id)
		}
		cmds = append(cmds, z.Build())
		for _, key := range k {
			cmds = append(cmds, s.client.B().Pexpire().Key(key).Milliseconds(2*s.ttl).Build())
		}
		if len(cmds)+4 > membersBatch || i == len(snap)-1 {
			ctx, cancel := context.WithTimeout(s.life, s.opts.TTL) // Close does not wait for a hung Redis
			res := s.client.DoMulti(ctx, cmds...)
			cancel()
			for j, r := range snap[start : i+1] { // four commands each, the ZADD first
				if res[4*j].Error() != nil {
					failed += len(r.ids)
				}
			}
			start, cmds = i+1, cmds[:0]
		}
	}
	if failed > 0 {
		s.opts.Logger.Warn("tier: member store: refresh failed; these members expire unless the next refresh succeeds",
			"members", failed, "ttl", s.opts.TTL)
	}
}

// idChunks splits a set of ids into slices of at most n.
func idChunks(set map[string]struct{}, n int) [][]string {
	var out [][]string
	cur := make([]string, 0, min(len(set), n))
	for id := range set {
		if len(cur) == n {
			out = append(out, cur)
			cur = make([]string, 0, min(len(set), n))
		}
		cur = append(cur, id)
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// parseMembers reads the id, data pairs the scripts return.
func parseMembers(v rueidis.RedisMessage) ([]Member, error) {
	arr, err := v.ToArray()
	if err != nil {
		return nil, err
	}
	out := make([]Member, 0, len(arr)/2)
	for i := 0; i+1 < len(arr); i += 2 {
		id, err := arr[i].ToString()
		if err != nil {
			return nil, err
		}
		data, err := arr[i+1].ToString()
		if err != nil {
			return nil, err
		}
		m := Member{ID: id}
		if data != "" {
			m.Data = json.RawMessage(data)
		}
		out = append(out, m)
	}
	return out, nil
}
