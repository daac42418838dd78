package tier

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/riptide-io/riptide/server"
)

// Webhooks tell the backend what happened to sockets, asynchronously and in batches:
// connect, disconnect, join and leave, POSTed as {"events": [...]} with X-Riptide-Kind:
// webhook. Nothing waits for them: events go to a bounded queue (full: the event is dropped
// and counted), one goroutine sends a batch when it is full or Interval has passed, and
// retries a failed batch with exponential backoff before dropping it (counted).

// WebhooksConfig configures Webhooks.
type WebhooksConfig struct {
	Backend  *Backend      // where to POST (its own breaker, signing and limits)
	Batch    int           // events per request; default 100
	Interval time.Duration // the longest an event waits for its batch; default 1s
	Queue    int           // events waiting at most; default 10000
	Retries  int           // tries after the first, with backoff from 500ms doubling; default 3
	Logger   *slog.Logger
}

// WebhookEvent is one entry of a webhook batch.
type WebhookEvent struct {
	Type      string `json:"type"` // connect, disconnect, join, leave
	Time      int64  `json:"time"` // unix milliseconds
	Socket    string `json:"socket"`
	User      string `json:"user,omitempty"`
	Namespace string `json:"namespace"`
	Room      string `json:"room,omitempty"`    // join, leave
	Reason    string `json:"reason,omitempty"`  // disconnect: the Socket.IO reason
	Address   string `json:"address,omitempty"` // connect: the client's address
}

// WebhookStats counts what Webhooks did.
type WebhookStats struct {
	Sent, Batches, Dropped, Failed atomic.Int64 // events sent; requests; events dropped (queue full); events given up after retries
}

// Webhooks is the sender. Close it to flush and stop.
type Webhooks struct {
	cfg   WebhooksConfig
	log   *slog.Logger
	queue chan WebhookEvent
	stats WebhookStats

	stop     chan struct{}
	done     chan struct{}
	stopOnce sync.Once
}

// NewWebhooks starts the sender.
func NewWebhooks(cfg WebhooksConfig) *Webhooks {
	if cfg.Batch <= 0 {
		cfg.Batch = 100
	}
	if cfg.Interval <= 0 {
		cfg.Interval = time.Second
	}
	if cfg.Queue <= 0 {
		cfg.Queue = 10000
	}
	if cfg.Retries < 0 {
		cfg.Retries = 0
	} else if cfg.Retries == 0 {
		cfg.Retries = 3
	}
	w := &Webhooks{cfg: cfg, log: cfg.Logger, queue: make(chan WebhookEvent, cfg.Queue),
		stop: make(chan struct{}), done: make(chan struct{})}
	if w.log == nil {
		w.log = slog.Default()
	}
	go w.run()
	return w
}

// Stats returns the counters.
func (w *Webhooks) Stats() *WebhookStats { return &w.stats }

// Install reports ns's connects and disconnects (joins and leaves come from the Policy, see
// PolicyConfig.Webhooks).
func (w *Webhooks) Install(ns *server.Namespace) {
	ns.OnConnection(func(s *server.Socket) {
		e := w.event("connect", s)
		e.Address = s.Handshake().Address
		w.add(e)
	})
	ns.OnDisconnect(func(s *server.Socket, reason server.DisconnectReason) {
		e := w.event("disconnect", s)
		e.Reason = string(reason)
		w.add(e)
	})
}

// Joined reports that s joined room.
func (w *Webhooks) Joined(s *server.Socket, room string) {
	e := w.event("join", s)
	e.Room = room
	w.add(e)
}

// Left reports that s left room.
func (w *Webhooks) Left(s *server.Socket, room string) {
	e := w.event("leave", s)
	e.Room = room
	w.add(e)
}

func (w *Webhooks) event(typ string, s *server.Socket) WebhookEvent {
	e := WebhookEvent{Type: typ, Time: time.Now().UnixMilli(), Socket: s.ID(), Namespace: s.Namespace().Name()}
	if id := IdentityOf(s); id != nil {
		e.User = id.User
	}
	return e
}

// add queues e, or drops it when the queue is full or the sender stopped. It never blocks.
func (w *Webhooks) add(e WebhookEvent) {
	select {
	case <-w.stop:
		w.stats.Dropped.Add(1)
		return
	default:
	}
	select {
	case w.queue <- e:
	default:
		if w.stats.Dropped.Add(1)&(1<<10-1) == 1 {
			w.log.Warn("tier: webhook queue full; events dropped", "dropped", w.stats.Dropped.Load())
		}
	}
}

// Close sends what is queued (one try each) and stops the sender.
func (w *Webhooks) Close() {
	w.stopOnce.Do(func() { close(w.stop) })
	<-w.done
}

func (w *Webhooks) run() {
	defer close(w.done)
	batch := make([]WebhookEvent, 0, w.cfg.Batch)
	tick := time.NewTicker(w.cfg.Interval)
	defer tick.Stop()
	for {
		select {
		case e := <-w.queue:
			if batch = append(batch, e); len(batch) < w.cfg.Batch {
				continue
			}
		case <-tick.C:
			if len(batch) == 0 {
				continue
			}
		case <-w.stop:
			for {
				select {
				case e := <-w.queue:
					batch = append(batch, e)
					if len(batch) == w.cfg.Batch {
						w.send(batch, 0)
						batch = batch[:0]
					}
					continue
				default:
				}
				break
			}
			if len(batch) > 0 {
				w.send(batch, 0)
			}
			return
		}
		w.send(batch, w.cfg.Retries)
		batch = batch[:0]
	}
}

// send POSTs one batch, retrying with backoff; Close interrupts the waits.
func (w *Webhooks) send(batch []WebhookEvent, retries int) {
	body, err := json.Marshal(struct {
		Events []WebhookEvent `json:"events"`
	}{batch})
	if err != nil {
		return
	}
	backoff := 500 * time.Millisecond
	for try := 0; ; try++ {
		w.stats.Batches.Add(1)
		if _, err = w.cfg.Backend.Call(context.Background(), "webhook", body); err == nil {
			w.stats.Sent.Add(int64(len(batch)))
			return
		}
		if try >= retries {
			break
		}
		select {
		case <-time.After(backoff):
		case <-w.stop:
			retries = try + 1 // one last try, then give up
		}
		backoff *= 2
	}
	w.stats.Failed.Add(int64(len(batch)))
	w.log.Warn("tier: webhook batch dropped after retries", "events", len(batch), "err", err)
}
