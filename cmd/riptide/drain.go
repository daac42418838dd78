package main

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/riptide-io/riptide/server"
)

// drains is the node's drain; start sets it. The admin listener asks drains.Draining() for
// its readiness check and may start a drain with drains.Drain.
var drains *drainer

// drainer takes the node out of service once, on SIGTERM or SIGINT or when Drain is called:
// server.Server.Drain with the drain.* keys, bounded by drain.timeout. run waits for it,
// then closes the listener and leaves the cluster.
type drainer struct {
	cfg DrainConfig
	srv *server.Server
	log *slog.Logger

	once    sync.Once
	started chan struct{} // closed when the drain starts
	done    chan struct{} // closed when it ended; err is set before
	cut     context.CancelFunc
	err     error
}

func newDrainer(cfg DrainConfig, srv *server.Server, log *slog.Logger) *drainer {
	return &drainer{cfg: cfg, srv: srv, log: log, started: make(chan struct{}), done: make(chan struct{})}
}

// Draining reports whether the node is draining, from the moment the drain starts: a
// readiness check answers "draining" (HTTP 503) so the load balancer takes the node out
// while it still accepts clients. Safe for concurrent use.
func (d *drainer) Draining() bool { return d.srv.Draining() }

// Drain starts the drain, unless it already started, and waits until it ends or ctx does.
// It returns the drain's error: non-nil when drain.timeout passed (or a second signal came)
// and the connections still open were closed at once. The process exits once the drain
// ended, whoever started it. Safe for concurrent use.
func (d *drainer) Drain(ctx context.Context) error {
	d.begin()
	select {
	case <-d.done:
		return d.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (d *drainer) begin() {
	d.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), d.cfg.Timeout)
		d.cut = cancel
		close(d.started)
		go d.run(ctx)
	})
}

func (d *drainer) run(ctx context.Context) {
	defer d.cut()
	begin := time.Now()
	n := d.srv.Engine().Count()
	d.log.Info("draining: readiness reports draining; new clients accepted until the delay ends",
		"sessions", n, "delay", d.cfg.Delay, "rate", d.cfg.Rate, "timeout", d.cfg.Timeout)
	if d.cfg.Rate > 0 {
		if need := d.cfg.Delay + time.Duration(float64(n)/d.cfg.Rate*float64(time.Second)); need > d.cfg.Timeout {
			d.log.Warn("draining: at drain.rate the sessions need more than drain.timeout; those left then are closed at once",
				"needed", need.Round(time.Millisecond))
		}
	}
	st, err := d.srv.Drain(ctx, server.DrainOptions{Delay: d.cfg.Delay, Rate: d.cfg.Rate})
	took := time.Since(begin).Round(time.Millisecond)
	if err != nil {
		d.log.Warn("drain cut short: the sessions still open were closed at once",
			"duration", took, "sessions", st.Sessions, "forced", st.Forced, "err", err)
	} else {
		d.log.Info("drained", "duration", took, "sessions", st.Sessions)
	}
	d.err = err
	close(d.done)
}

// serveUntilDrained returns once a drain started by SIGTERM or SIGINT, or by Drain, has
// ended. A second signal cuts the drain short.
func (d *drainer) serveUntilDrained() {
	sig := make(chan os.Signal, 2)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sig)
	select {
	case s := <-sig:
		d.log.Info("signal received: draining", "signal", s.String())
		d.begin()
	case <-d.started:
	}
	select {
	case s := <-sig:
		d.log.Warn("second signal: ending the drain now", "signal", s.String())
		d.cut()
		<-d.done
	case <-d.done:
	}
}
