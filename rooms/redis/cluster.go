package redis

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/rueidis"

	"github.com/riptide-io/riptide/internal/latency"
	"github.com/riptide-io/riptide/rooms"
)

// Cluster is one process's membership in a cluster: the Redis connections that the adapters
// of all its namespaces share. One dedicated connection holds the subscriptions (resubscribed
// after every reconnect); messages go through the client's pipelined connection, in order,
// from one publisher goroutine. Create it with Open, Dial or New and give NewAdapter to
// server.Options; Close it after the server.
//
// Goroutines: the subscriber (connects, subscribes, waits for the connection to fail), the
// dispatcher (hands received messages to the adapters), the publisher and the heartbeat
// ticker; Close stops all four. All methods are safe for concurrent use.
type Cluster struct {
	opts      Options
	client    rueidis.Client
	ownClient bool
	// provisional: Open could not reach Redis, so the client is a single-node one that
	// connects when Redis comes (see Open).
	provisional bool

	subMu     sync.Mutex
	wanted    map[string]subKind  // channels and patterns the adapters need
	routes    map[string]*Adapter // channel or pattern -> the adapter it belongs to
	waiters   []chan struct{}     // closed once the next sync succeeded
	subSignal chan struct{}       // wakes the subscriber: wanted changed

	inbox  chan rueidis.PubSubMessage
	outbox chan *outMsg

	up      atomic.Bool
	firstUp chan struct{}
	upOnce  sync.Once

	adMu     sync.Mutex
	adapters map[*Adapter]struct{}

	stats struct {
		inboxDropped, outboxDropped, publishErrors, reconnects atomic.Uint64
		received, published, undecodable                       atomic.Uint64
		// recovery
		recoveryStored, recoveryUnstored, restored, restoreRefused atomic.Uint64
		restoreWindowDropped, sessionWriteErrors, tailErrors       atomic.Uint64
		requests                                                   [kSSE + 1]latency.Histogram // by request kind
	}
	errMu   sync.Mutex
	lastErr error // why Redis could not be reached the last time it could not

	closeOnce sync.Once
	closing   chan struct{}
	wg        sync.WaitGroup
}

type subKind uint8

const (
	subChannel subKind = iota // SUBSCRIBE
	subPattern                // PSUBSCRIBE
	subShard                  // SSUBSCRIBE
)

// outMsg is one message to publish, or (cmds set) other writes that go out in the same
// order: the commands are built when the batch is sent, so they write the state of that
// moment. done, when set, learns whether it went out.
type outMsg struct {
	channel string
	payload []byte
	shard   bool
	done    func(error)
	cmds    func(b rueidis.Builder, dst rueidis.Commands) rueidis.Commands
}

// Stats are counters since the Cluster started.
type Stats struct {
	Received      uint64 // messages received from Redis
	Published     uint64 // messages published
	InboxDropped  uint64 // received messages dropped because the inbox was full
	OutboxDropped uint64 // broadcasts not published: outbox full or Redis unreachable
	PublishErrors uint64 // publishes Redis refused or that failed on the connection
	Undecodable   uint64 // received messages that could not be decoded (ignored)
	Reconnects    uint64 // times the subscriptions were restored after a lost connection

	// With Options.Recovery:
	RecoveryStored       uint64 // broadcasts given an offset (XADD)
	RecoveryUnstored     uint64 // recoverable broadcasts sent without an offset: Redis could not store them
	Restored             uint64 // sessions restored
	RestoreRefused       uint64 // restores refused: no such session (expired, restored already) or its offset trimmed
	RestoreWindowDropped uint64 // packets a restore in progress could not keep (over 4096)
	SessionWriteErrors   uint64 // session writes that failed or were not queued
	TailErrors           uint64 // failed reads of the stream whose entries this node delivers
	// Requests holds, per operation ("fetchSockets", "allRooms", "serverSideEmitWithAck",
	// "broadcastWithAck"), the time requests to other nodes took: from publishing the
	// request until every node alive answered (for a broadcast with acks: reported its
	// count), or until the timeout. Requests refused at once (Redis down) are not in it.
	Requests map[string]latency.Snapshot
}

// Open returns a Cluster for the Redis server at url (redis://[user:password@]host:port[/db],
// also rediss:// and unix://, as rueidis.ParseURL reads them) without waiting for the
// subscriptions: the Cluster owns its client and keeps trying to subscribe (ReconnectMin to
// ReconnectMax apart) for as long as Redis does not answer, logging that it waits. Until the
// subscriptions are in place Up is false, delivery is local and requests fail with
// ErrUnavailable; Ready is closed the first time they are.
//
// Creating the client connects once, to tell a Redis Cluster from a single server. When
// Redis does not answer then, the client is a single-server one that connects when Redis
// comes, so that Client is never nil; should that Redis turn out to be a Redis Cluster, an
// error is logged: the node must be restarted to route by slot. Only a URL that does not
// parse, or options rueidis refuses, are errors.
func Open(url string, opts Options) (*Cluster, error) {
	co, err := rueidis.ParseURL(url)
	if err != nil {
		return nil, err
	}
	co.DisableCache = true // client-side caching is for reads; pub/sub needs none (and RESP2 servers lack it)
	co.ConnWriteTimeout = 5 * time.Second
	c := newCluster(opts)
	client, err := rueidis.NewClient(co)
	if err != nil {
		c.setLastError(err)
		co.ForceSingleClient = true // returns the client even though it could not connect
		if client, _ = rueidis.NewClient(co); client == nil {
			return nil, err
		}
		c.provisional = true
	}
	c.client, c.ownClient = client, true
	c.run()
	return c, nil
}

// Dial is Open, waiting within ctx for the first subscriptions; it fails (and closes the
// Cluster) when ctx ends first.
func Dial(ctx context.Context, url string, opts Options) (*Cluster, error) {
	c, err := Open(url, opts)
	if err != nil {
		return nil, err
	}
	return c.waitUp(ctx)
}

// New starts a Cluster on client (which the caller keeps and closes after the Cluster). It
// waits, within ctx, for the subscriptions to be in place.
func New(ctx context.Context, client rueidis.Client, opts Options) (*Cluster, error) {
	c := newCluster(opts)
	c.client = client
	c.run()
	return c.waitUp(ctx)
}

// Ready is closed once the subscriptions were in place for the first time.
func (c *Cluster) Ready() <-chan struct{} { return c.firstUp }

// waitUp waits for the first subscriptions; when ctx ends first, c is closed and the error
// says what the last attempt met.
func (c *Cluster) waitUp(ctx context.Context) (*Cluster, error) {
	select {
	case <-c.firstUp:
		return c, nil
	case <-ctx.Done():
		c.Close()
		if err := c.lastError(); err != nil {
			return nil, fmt.Errorf("%w (last attempt: %v)", ctx.Err(), err)
		}
		return nil, ctx.Err()
	}
}

func newCluster(opts Options) *Cluster {
	opts = opts.withDefaults()
	return &Cluster{
		opts:      opts,
		wanted:    map[string]subKind{},
		routes:    map[string]*Adapter{},
		subSignal: make(chan struct{}, 1),
		inbox:     make(chan rueidis.PubSubMessage, opts.InboxSize),
		outbox:    make(chan *outMsg, opts.OutboxSize),
		firstUp:   make(chan struct{}),
		adapters:  map[*Adapter]struct{}{},
		closing:   make(chan struct{}),
	}
}

// run starts the Cluster's goroutines.
func (c *Cluster) run() {
	c.wg.Add(4) // four goroutines per cluster connection, none per socket or namespace
	go c.subscriber()
	go c.dispatcher()
	go c.publisher()
	go c.heartbeats()
}

func (c *Cluster) setLastError(err error) {
	c.errMu.Lock()
	c.lastErr = err
	c.errMu.Unlock()
}

func (c *Cluster) lastError() error {
	c.errMu.Lock()
	defer c.errMu.Unlock()
	return c.lastErr
}

// NewAdapter returns the adapter of namespace nsp, for server.Options.NewAdapter.
func (c *Cluster) NewAdapter(nsp rooms.Host) rooms.Adapter {
	a := newAdapter(c, nsp)
	c.adMu.Lock()
	c.adapters[a] = struct{}{}
	c.adMu.Unlock()
	a.start()
	return a
}

// Client returns the Cluster's Redis client, for other users of the same connection pool
// (e.g. the tier's member store). It is closed with the Cluster when the Cluster owns it.
// Never nil; while Redis is unreachable its commands fail at once.
func (c *Cluster) Client() rueidis.Client { return c.client }

// Up reports whether the subscriptions are in place (other nodes can be reached).
func (c *Cluster) Up() bool { return c.up.Load() }

// Stats returns the counters.
func (c *Cluster) Stats() Stats {
	st := Stats{
		Received:      c.stats.received.Load(),
		Published:     c.stats.published.Load(),
		InboxDropped:  c.stats.inboxDropped.Load(),
		OutboxDropped: c.stats.outboxDropped.Load(),
		PublishErrors: c.stats.publishErrors.Load(),
		Undecodable:   c.stats.undecodable.Load(),
		Reconnects:    c.stats.reconnects.Load(),
		Requests:      make(map[string]latency.Snapshot, len(opNames)),

		RecoveryStored:       c.stats.recoveryStored.Load(),
		RecoveryUnstored:     c.stats.recoveryUnstored.Load(),
		Restored:             c.stats.restored.Load(),
		RestoreRefused:       c.stats.restoreRefused.Load(),
		RestoreWindowDropped: c.stats.restoreWindowDropped.Load(),
		TailErrors:           c.stats.tailErrors.Load(),
		SessionWriteErrors:   c.stats.sessionWriteErrors.Load(),
	}
	for k, op := range opNames {
		st.Requests[op] = c.stats.requests[k].Snapshot()
	}
	return st
}

// countSessionWrite is the done of session writes.
func (c *Cluster) countSessionWrite(err error) {
	if err != nil {
		c.stats.sessionWriteErrors.Add(1)
	}
}

// Close closes every adapter (their nodes say goodbye), stops the goroutines and, for a
// Cluster from Dial, closes the client.
func (c *Cluster) Close() error {
	c.closeOnce.Do(func() {
		c.adMu.Lock()
		as := make([]*Adapter, 0, len(c.adapters))
		for a := range c.adapters {
			as = append(as, a)
		}
		c.adMu.Unlock()
		for _, a := range as {
			_ = a.Close()
		}
		// Give the goodbyes a moment to leave; the publisher drains the outbox on close.
		close(c.closing)
		c.wg.Wait()
		if c.ownClient {
			c.client.Close()
		}
	})
	return nil
}

func (c *Cluster) closed() bool {
	select {
	case <-c.closing:
		return true
	default:
		return false
	}
}

// subscribe adds channels (or patterns) routed to a; the subscriber applies them. The
// channel returned is closed once they are in place.
func (c *Cluster) subscribe(a *Adapter, kind subKind, chans ...string) <-chan struct{} {
	applied := make(chan struct{})
	c.subMu.Lock()
	for _, ch := range chans {
		c.wanted[ch] = kind
		c.routes[ch] = a
	}
	c.waiters = append(c.waiters, applied)
	c.subMu.Unlock()
	c.poke()
	return applied
}

// unsubscribe removes channels.
func (c *Cluster) unsubscribe(chans ...string) {
	c.subMu.Lock()
	for _, ch := range chans {
		delete(c.wanted, ch)
		delete(c.routes, ch)
	}
	c.subMu.Unlock()
	c.poke()
}

func (c *Cluster) poke() {
	select {
	case c.subSignal <- struct{}{}:
	default:
	}
}

// subscriber keeps one dedicated connection subscribed to what the adapters want: it
// (re)connects, subscribes, then applies changes until the connection fails, and starts
// over with a growing pause. Each connection is released before the next one is taken, so
// reconnects leave nothing behind.
func (c *Cluster) subscriber() {
	defer c.wg.Done()
	backoff := c.opts.ReconnectMin
	everUp := false
	var waitLogged time.Time
	for !c.closed() {
		dc, release := c.client.Dedicate()
		wait := dc.SetPubSubHooks(rueidis.PubSubHooks{
			OnMessage:      c.onMessage,
			OnSubscription: c.onSubscription,
		})
		applied := map[string]subKind{}
		err := c.ping() // with nothing to subscribe yet, sync alone would not touch Redis
		if err == nil {
			err = c.sync(dc, applied)
		}
		if err != nil && !everUp && time.Since(waitLogged) >= time.Minute {
			c.opts.Logger.Warn("redis adapter: waiting for Redis; delivery stays local and other nodes cannot be reached until it answers", "err", err)
			waitLogged = time.Now()
		}
		if err == nil {
			if everUp {
				c.stats.reconnects.Add(1)
				c.opts.Logger.Info("redis adapter: resubscribed", "channels", len(applied))
			} else {
				c.checkProvisional()
			}
			everUp = true
			backoff = c.opts.ReconnectMin
			c.setUp(true, nil)
		loop:
			for {
				select {
				case err = <-wait:
					if err == nil {
						err = errors.New("redis: subscription connection closed")
					}
					break loop
				case <-c.subSignal:
					if err = c.sync(dc, applied); err != nil {
						break loop
					}
				case <-c.closing:
					dc.Close()
					release()
					c.setUp(false, ErrClosed)
					return
				}
			}
		}
		dc.Close()
		release()
		c.setUp(false, err)
		select {
		case <-time.After(backoff):
		case <-c.closing:
			return
		}
		backoff = min(2*backoff, c.opts.ReconnectMax)
	}
}

// ping checks that Redis answers.
func (c *Cluster) ping() error {
	ctx, cancel := context.WithTimeout(context.Background(), c.opts.RequestsTimeout)
	defer cancel()
	return c.client.Do(ctx, c.client.B().Ping().Build()).Error()
}

// checkProvisional logs an error when the single-server client Open fell back to (Redis did
// not answer at start) talks to a Redis Cluster, which needs routing by slot.
func (c *Cluster) checkProvisional() {
	if !c.provisional {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.opts.RequestsTimeout)
	defer cancel()
	info, err := c.client.Do(ctx, c.client.B().Info().Section("cluster").Build()).ToString()
	if err == nil && strings.Contains(info, "cluster_enabled:1") {
		c.opts.Logger.Error("redis adapter: Redis is a Redis Cluster and was unreachable when this node started, so the node talks to one of its servers only; restart the node")
	}
}

// sync makes the connection's subscriptions match wanted.
func (c *Cluster) sync(dc rueidis.DedicatedClient, applied map[string]subKind) error {
	var add, del [3][]string
	c.subMu.Lock()
	waiters := c.waiters
	c.waiters = nil
	for ch, k := range c.wanted {
		if _, ok := applied[ch]; !ok {
			add[k] = append(add[k], ch)
		}
	}
	for ch, k := range applied {
		if _, ok := c.wanted[ch]; !ok {
			del[k] = append(del[k], ch)
		}
	}
	c.subMu.Unlock()
	defer func() {
		if len(waiters) > 0 { // not applied: the next sync will
			c.subMu.Lock()
			c.waiters = append(waiters, c.waiters...)
			c.subMu.Unlock()
		}
	}()
	var cmds rueidis.Commands
	if len(add[subChannel]) > 0 {
		cmds = append(cmds, dc.B().Subscribe().Channel(add[subChannel]...).Build())
	}
	if len(add[subPattern]) > 0 {
		cmds = append(cmds, dc.B().Psubscribe().Pattern(add[subPattern]...).Build())
	}
	for _, ch := range add[subShard] { // one per channel: in a Redis Cluster they may lie in different slots
		cmds = append(cmds, dc.B().Ssubscribe().Channel(ch).Build())
	}
	if len(del[subChannel]) > 0 {
		cmds = append(cmds, dc.B().Unsubscribe().Channel(del[subChannel]...).Build())
	}
	if len(del[subPattern]) > 0 {
		cmds = append(cmds, dc.B().Punsubscribe().Pattern(del[subPattern]...).Build())
	}
	for _, ch := range del[subShard] {
		cmds = append(cmds, dc.B().Sunsubscribe().Channel(ch).Build())
	}
	if len(cmds) == 0 {
		for _, w := range waiters {
			close(w)
		}
		waiters = nil
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.opts.RequestsTimeout)
	defer cancel()
	for _, r := range dc.DoMulti(ctx, cmds...) {
		if err := r.Error(); err != nil {
			return err
		}
	}
	for k, chs := range add {
		for _, ch := range chs {
			applied[ch] = subKind(k)
		}
	}
	for _, chs := range del {
		for _, ch := range chs {
			delete(applied, ch)
		}
	}
	for _, w := range waiters {
		close(w)
	}
	waiters = nil
	return nil
}

// setUp records the connection state; on a loss, every adapter fails its pending requests
// at once rather than letting them run into their timeouts.
func (c *Cluster) setUp(up bool, err error) {
	was := c.up.Swap(up)
	if up {
		c.upOnce.Do(func() { close(c.firstUp) })
	}
	if !up && err != nil && !errors.Is(err, ErrClosed) {
		c.setLastError(err)
	}
	if was == up {
		return
	}
	if !up && !errors.Is(err, ErrClosed) {
		c.opts.Logger.Warn("redis adapter: connection lost; local delivery only until it is back", "err", err)
	}
	c.adMu.Lock()
	as := make([]*Adapter, 0, len(c.adapters))
	for a := range c.adapters {
		as = append(as, a)
	}
	c.adMu.Unlock()
	for _, a := range as {
		if up {
			a.onUp()
		} else {
			a.onDown()
		}
	}
}

// onMessage runs on the connection's reader: it must not block (rueidis#596), so the
// message is handed over or, when the inbox is full, dropped and counted.
func (c *Cluster) onMessage(m rueidis.PubSubMessage) {
	select {
	case c.inbox <- m:
	default:
		c.stats.inboxDropped.Add(1)
	}
}

// onSubscription watches for a server-sent sunsubscribe (slot migration in a Redis
// Cluster): the channel is still wanted, so the subscriber is asked to subscribe again.
func (c *Cluster) onSubscription(s rueidis.PubSubSubscription) {
	if s.Kind == "sunsubscribe" {
		c.poke()
	}
}

// dispatcher hands received messages to their adapters, in arrival order.
func (c *Cluster) dispatcher() {
	defer c.wg.Done()
	for {
		select {
		case m := <-c.inbox:
			c.stats.received.Add(1)
			key := m.Channel
			if m.Pattern != "" {
				key = m.Pattern
			}
			c.subMu.Lock()
			a := c.routes[key]
			c.subMu.Unlock()
			if a != nil {
				a.onMessage(m.Channel, stringToBytes(m.Message))
			}
		case <-c.closing:
			return
		}
	}
}

// publish queues a message. Without a connection, or with a full outbox, it is refused at
// once: done (if any) gets the error and broadcasts are counted as dropped.
func (c *Cluster) publish(m *outMsg) {
	if !c.up.Load() {
		c.refuse(m, ErrUnavailable)
		return
	}
	select {
	case c.outbox <- m:
	default:
		c.refuse(m, ErrBackpressure)
	}
}

func (c *Cluster) refuse(m *outMsg, err error) {
	if m.done != nil {
		m.done(err)
		return
	}
	c.stats.outboxDropped.Add(1)
}

// publisher sends queued messages in order, in pipelined batches.
func (c *Cluster) publisher() {
	defer c.wg.Done()
	const maxBatch = 128
	batch := make([]*outMsg, 0, maxBatch)
	cmds := make(rueidis.Commands, 0, maxBatch)
	for {
		batch = batch[:0]
		select {
		case m := <-c.outbox:
			batch = append(batch, m)
		case <-c.closing:
			// What the adapters queued before closing (their goodbyes) still goes out, in
			// one batch: a dead connection costs one timeout, not one per message.
			for {
				select {
				case m := <-c.outbox:
					batch = append(batch, m)
					continue
				default:
				}
				break
			}
			if len(batch) > 0 {
				c.send(batch, cmds[:0])
			}
			return
		}
	more:
		for len(batch) < maxBatch {
			select {
			case m := <-c.outbox:
				batch = append(batch, m)
			default:
				break more
			}
		}
		c.send(batch, cmds[:0])
	}
}

func (c *Cluster) send(batch []*outMsg, cmds rueidis.Commands) {
	// owner[i] is the message of cmds[i]: a publish is one command, other writes any number.
	owner := make([]int, 0, len(batch))
	for i, m := range batch {
		n := len(cmds)
		cmds = c.appendCmds(cmds, m)
		for range cmds[n:] {
			owner = append(owner, i)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.opts.RequestsTimeout)
	res := c.client.DoMulti(ctx, cmds...)
	// After an outage the pooled connection fails once before it is replaced: send the
	// messages that failed on the connection (not what Redis refused) once more.
	var retry []int
	for i, r := range res {
		if err := r.Error(); err != nil && r.NonRedisError() != nil && ctx.Err() == nil &&
			(len(retry) == 0 || retry[len(retry)-1] != owner[i]) {
			retry = append(retry, owner[i])
		}
	}
	errs := make([]error, len(batch))
	for i, r := range res {
		if err := r.Error(); err != nil && errs[owner[i]] == nil {
			errs[owner[i]] = err
		}
	}
	if len(retry) > 0 {
		again := make(rueidis.Commands, 0, len(retry))
		var againOwner []int
		for _, i := range retry {
			n := len(again)
			again = c.appendCmds(again, batch[i])
			for range again[n:] {
				againOwner = append(againOwner, i)
			}
			errs[i] = nil
		}
		for j, r := range c.client.DoMulti(ctx, again...) {
			if err := r.Error(); err != nil && errs[againOwner[j]] == nil {
				errs[againOwner[j]] = err
			}
		}
	}
	cancel()
	for i, m := range batch {
		err := errs[i]
		switch {
		case m.cmds != nil:
		case err != nil:
			c.stats.publishErrors.Add(1)
		default:
			c.stats.published.Add(1)
		}
		if m.done != nil {
			m.done(err)
		}
	}
}

// appendCmds appends the commands of m.
func (c *Cluster) appendCmds(dst rueidis.Commands, m *outMsg) rueidis.Commands {
	b := c.client.B()
	switch {
	case m.cmds != nil:
		return m.cmds(b, dst)
	case m.shard:
		return append(dst, b.Spublish().Channel(m.channel).Message(rueidis.BinaryString(m.payload)).Build())
	default:
		return append(dst, b.Publish().Channel(m.channel).Message(rueidis.BinaryString(m.payload)).Build())
	}
}

// heartbeats tells the other nodes, namespace by namespace, that this node is alive.
func (c *Cluster) heartbeats() {
	defer c.wg.Done()
	t := time.NewTicker(c.opts.HeartbeatInterval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			if !c.up.Load() {
				continue
			}
			c.adMu.Lock()
			as := make([]*Adapter, 0, len(c.adapters))
			for a := range c.adapters {
				as = append(as, a)
			}
			c.adMu.Unlock()
			now := time.Now()
			for _, a := range as {
				a.heartbeat(false)
				a.prune()
				a.maintain(now)
			}
		case <-c.closing:
			return
		}
	}
}

func (c *Cluster) forget(a *Adapter) {
	c.adMu.Lock()
	delete(c.adapters, a)
	c.adMu.Unlock()
}

// numsub returns the number of subscribers of each channel (PUBSUB NUMSUB, or SHARDNUMSUB
// in sharded mode), summed over the nodes of a Redis Cluster as the Node adapter does.
func (c *Cluster) numsub(ctx context.Context, chans []string) ([]int64, error) {
	counts := make([]int64, len(chans))
	client := c.client
	var nodes map[string]rueidis.Client
	if c.opts.Sharded {
		nodes = map[string]rueidis.Client{"": client} // routed by the channel's slot
	} else {
		nodes = client.Nodes()
	}
	for _, n := range nodes {
		var cmds rueidis.Commands
		if c.opts.Sharded {
			for _, ch := range chans {
				cmds = append(cmds, n.B().PubsubShardnumsub().Channel(ch).Build())
			}
		} else {
			cmds = append(cmds, n.B().PubsubNumsub().Channel(chans...).Build())
		}
		res := n.DoMulti(ctx, cmds...)
		for ri, r := range res {
			vals, err := r.ToArray()
			if err != nil {
				return nil, err
			}
			for i := 0; i+1 < len(vals); i += 2 {
				v, err := vals[i+1].AsInt64()
				if err != nil {
					return nil, err
				}
				idx := i / 2
				if c.opts.Sharded {
					idx = ri
				}
				if idx < len(counts) {
					counts[idx] += v
				}
			}
		}
	}
	return counts, nil
}
