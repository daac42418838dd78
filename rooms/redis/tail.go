package redis

import (
	"context"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/rueidis"

	"github.com/riptide-io/riptide/rooms"
)

// The tail: with recovery on, each namespace's stored broadcasts reach this node's members
// from the stream, read in order by one goroutine per adapter, not from pub/sub.
//
// Pub/sub cannot keep them in order: two nodes XADD entries 5 and 6, and the node that got
// 6 may publish first. A client that got 6 then 5 holds offset 5 and is replayed 6 again
// when it recovers; one that dropped between the two holds 6 and never gets 5. Read from
// the stream, every member gets the entries in offset order, so its offset says exactly
// what it has.
//
// The node that stored a broadcast reads it back like the others (delivering it at once
// would let it overtake an entry stored just before by another node), and its Broadcast
// waits until the tail has delivered it (awaitTail): so a direct emit that follows a
// broadcast on the same socket (an ack, say) still comes after it, as in Node. XREAD BLOCK
// returns as soon as an entry is added, so that wait is about the XADD's round trip.
// Stored broadcasts are still published, marked "stored" in their opts, for the nodes that
// do not read the stream (recovery off, Node's adapters), which deliver them as any
// broadcast.
//
// The tail starts from the last entry of the stream when it first reaches Redis; until
// then Broadcast does not store (store is refused while the tail is not ready), so nothing
// this node stores is behind it. After a lost connection it goes on from the last entry it
// delivered. Entries are read tailBatch at a time, on rueidis's pool of connections for
// blocking commands.

const (
	tailBatch = 512
	tailBlock = 2 * time.Second // how long one XREAD waits for entries
)

type tail struct {
	ready atomic.Bool

	mu      sync.Mutex
	pos     streamID // the last entry delivered
	waiters []tailWaiter

	cancel context.CancelFunc
	done   chan struct{}
}

// tailWaiter is a Broadcast waiting for its entry to be delivered here.
type tailWaiter struct {
	id   streamID
	done chan struct{}
}

// startTail starts the goroutine reading a's stream; one per adapter with recovery.
func (a *Adapter) startTail() {
	ctx, cancel := context.WithCancel(context.Background())
	a.tail = &tail{cancel: cancel, done: make(chan struct{})}
	if a.c.Up() {
		a.tailStart(ctx) // so that Broadcast stores as soon as NewAdapter returns
	}
	go a.runTail(ctx)
}

// stopTail ends the tail and waits for it.
func (a *Adapter) stopTail() {
	if a.tail == nil {
		return
	}
	a.tail.cancel()
	<-a.tail.done
}

// tailReady reports whether the tail has its starting point: stored broadcasts would
// otherwise not reach this node's members.
func (a *Adapter) tailReady() bool { return a.tail.ready.Load() }

// tailStart reads the id of the stream's last entry (0-0 when there is none): the tail
// delivers the entries after it.
func (a *Adapter) tailStart(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(ctx, a.c.opts.RequestsTimeout)
	defer cancel()
	cmd := a.c.client.B().Xrevrange().Key(a.rec.stream).End("+").Start("-").Count(1).Build()
	entries, err := a.c.client.Do(ctx, cmd).AsXRange()
	if err != nil {
		return false
	}
	var last streamID
	if len(entries) > 0 {
		last, _ = parseStreamID(entries[0].ID)
	}
	t := a.tail
	t.mu.Lock()
	t.pos = last
	t.mu.Unlock()
	t.ready.Store(true)
	return true
}

// awaitTail waits until the tail has delivered the entry id here, at most
// Options.RequestsTimeout (Redis went away meanwhile: the tail delivers it when it is back).
func (a *Adapter) awaitTail(id streamID) {
	t := a.tail
	t.mu.Lock()
	if !t.pos.less(id) {
		t.mu.Unlock()
		return
	}
	w := tailWaiter{id, make(chan struct{})}
	t.waiters = append(t.waiters, w)
	t.mu.Unlock()
	timer := time.NewTimer(a.c.opts.RequestsTimeout)
	defer timer.Stop()
	select {
	case <-w.done:
	case <-timer.C:
		t.mu.Lock()
		t.waiters = slices.DeleteFunc(t.waiters, func(x tailWaiter) bool { return x.done == w.done })
		t.mu.Unlock()
	}
}

func (a *Adapter) runTail(ctx context.Context) {
	defer close(a.tail.done)
	backoff := a.c.opts.ReconnectMin
	pause := func() bool {
		select {
		case <-ctx.Done():
			return false
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, a.c.opts.ReconnectMax)
		return true
	}
	t := a.tail
	for ctx.Err() == nil {
		if !a.tailReady() {
			if !a.c.Up() || !a.tailStart(ctx) {
				if !pause() {
					return
				}
			}
			continue
		}
		t.mu.Lock()
		pos := t.pos
		t.mu.Unlock()
		cmd := a.c.client.B().Xread().Count(tailBatch).Block(tailBlock.Milliseconds()).
			Streams().Key(a.rec.stream).Id(pos.String()).Build()
		res, err := a.c.client.Do(ctx, cmd).AsXRead()
		switch {
		case rueidis.IsRedisNil(err):
			continue // no entry within tailBlock
		case err != nil:
			if ctx.Err() != nil {
				return
			}
			a.c.stats.tailErrors.Add(1)
			if !pause() {
				return
			}
			continue
		}
		backoff = a.c.opts.ReconnectMin
		for _, e := range res[a.rec.stream] {
			id, ok := parseStreamID(e.ID)
			if !ok || !pos.less(id) {
				continue
			}
			pos = id
			if strings.HasPrefix(e.FieldValues["d"], "[") { // not an entry of ours otherwise
				p, rs, except := decodeEntry(e)
				a.deliverStored(id, p, &rooms.Options{Rooms: rs, Except: except, Flags: rooms.Flags{Compress: e.FieldValues["c"] == "1"}})
			}
		}
		t.mu.Lock()
		t.pos = pos
		t.waiters = slices.DeleteFunc(t.waiters, func(w tailWaiter) bool {
			if pos.less(w.id) {
				return false
			}
			close(w.done)
			return true
		})
		t.mu.Unlock()
	}
}
