package redis

import (
	"context"
	"strings"
	"sync"
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
// what it has. The node that stored a broadcast reads it back like the others (one more
// round trip than delivering it at once, which would let it overtake an entry stored just
// before by another node). Stored broadcasts are still published, marked "stored", for
// the nodes that do not read the stream (recovery off, Node's adapters), which deliver
// them as any broadcast.
//
// The tail starts from the last entry of the stream when it first reaches Redis; until
// then Broadcast does not store (store is refused while tail.ready is false), so nothing
// this node stores is behind the tail. After a lost connection it goes on from the last
// entry it read. Entries are read COUNT tailBatch at a time with XREAD BLOCK, on
// rueidis's pool of connections for blocking commands.

const (
	tailBatch = 512
	tailBlock = 2 * time.Second // how long one XREAD waits for entries
)

type tail struct {
	mu    sync.Mutex
	ready bool
	last  string // the id of the last entry read

	cancel context.CancelFunc
	done   chan struct{}
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
func (a *Adapter) tailReady() bool {
	t := a.tail
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.ready
}

// tailStart reads the id of the stream's last entry ("0-0" when there is none): the tail
// delivers the entries after it.
func (a *Adapter) tailStart(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(ctx, a.c.opts.RequestsTimeout)
	defer cancel()
	cmd := a.c.client.B().Xrevrange().Key(a.rec.stream).End("+").Start("-").Count(1).Build()
	entries, err := a.c.client.Do(ctx, cmd).AsXRange()
	if err != nil {
		return false
	}
	last := "0-0"
	if len(entries) > 0 {
		last = entries[0].ID
	}
	t := a.tail
	t.mu.Lock()
	t.last, t.ready = last, true
	t.mu.Unlock()
	return true
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
	for ctx.Err() == nil {
		if !a.tailReady() {
			if !a.c.Up() || !a.tailStart(ctx) {
				if !pause() {
					return
				}
			}
			continue
		}
		a.tail.mu.Lock()
		last := a.tail.last
		a.tail.mu.Unlock()
		cmd := a.c.client.B().Xread().Count(tailBatch).Block(tailBlock.Milliseconds()).
			Streams().Key(a.rec.stream).Id(last).Build()
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
			if !ok {
				continue
			}
			a.tail.mu.Lock()
			a.tail.last = e.ID
			a.tail.mu.Unlock()
			if strings.HasPrefix(e.FieldValues["d"], "[") { // not an entry of ours otherwise
				p, rs, except := decodeEntry(e)
				a.deliverStored(id, p, &rooms.Options{Rooms: rs, Except: except, Flags: rooms.Flags{Compress: e.FieldValues["c"] == "1"}})
			}
		}
	}
}
