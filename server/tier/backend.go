package tier

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"
)

// A Backend is the application behind the tier, reached over HTTP: the event, connect and
// join proxies and the webhooks POST JSON to it (docs/tier.md, "A backend in any
// language"). Requests are signed when a secret is set, bounded in number, size and time,
// and a circuit breaker answers BACKEND_UNAVAILABLE at once while the backend is failing,
// so a client never waits on a backend that is down.

// BackendConfig configures a Backend.
type BackendConfig struct {
	// URL receives every request (POST, JSON); the X-Riptide-Kind header says which kind
	// ("event", "connect", "join", "webhook").
	URL string
	// Timeout bounds one request, connect to last byte of the reply; default 5s.
	Timeout time.Duration
	// MaxInFlight bounds the requests this node has open at once; over it a call fails at
	// once with BACKEND_UNAVAILABLE; default 1024.
	MaxInFlight int
	// MaxReplyBytes caps a reply's body; a longer one is an error; default 1 MiB.
	MaxReplyBytes int64
	// Secret signs requests: X-Riptide-Signature: v1=hex(HMAC-SHA256(secret,
	// timestamp + "." + body)), with X-Riptide-Timestamp (unix seconds). Empty: unsigned.
	Secret string
	// BreakerFailures consecutive failures open the circuit breaker for BreakerCooldown;
	// then one request tries the backend again. Defaults 5 and 5s.
	BreakerFailures int
	BreakerCooldown time.Duration
	// Client makes the requests; default a client with pooled keep-alive connections.
	Client *http.Client
	// Logger; default slog.Default().
	Logger *slog.Logger
}

// Backend calls the application's backend. Safe for concurrent use.
type Backend struct {
	cfg      BackendConfig
	client   *http.Client
	log      *slog.Logger
	inflight chan struct{}

	failures  atomic.Int64 // consecutive
	openUntil atomic.Int64 // unix nanoseconds; 0: closed
	trial     atomic.Bool  // a request is testing a half-open breaker

	stats BackendStats
}

// BackendStats counts a Backend's requests.
type BackendStats struct {
	Requests, Failures, Refused, BreakerOpened atomic.Int64
}

// NewBackend checks cfg and returns the backend.
func NewBackend(cfg BackendConfig) (*Backend, error) {
	if cfg.URL == "" {
		return nil, errors.New("backend: a URL is needed")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 5 * time.Second
	}
	if cfg.MaxInFlight <= 0 {
		cfg.MaxInFlight = 1024
	}
	if cfg.MaxReplyBytes <= 0 {
		cfg.MaxReplyBytes = 1 << 20
	}
	if cfg.BreakerFailures <= 0 {
		cfg.BreakerFailures = 5
	}
	if cfg.BreakerCooldown <= 0 {
		cfg.BreakerCooldown = 5 * time.Second
	}
	b := &Backend{cfg: cfg, client: cfg.Client, log: cfg.Logger, inflight: make(chan struct{}, cfg.MaxInFlight)}
	if b.log == nil {
		b.log = slog.Default()
	}
	if b.client == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		// The backend is one host: keep as many of its connections as can be in use at
		// once (the default transport keeps 100 in all), so bursts do not open and close
		// connections.
		t.MaxIdleConns = cfg.MaxInFlight
		t.MaxIdleConnsPerHost = cfg.MaxInFlight
		t.DialContext = (&net.Dialer{Timeout: cfg.Timeout, KeepAlive: 30 * time.Second}).DialContext
		b.client = &http.Client{Transport: t}
	}
	return b, nil
}

// Stats returns the backend's counters.
func (b *Backend) Stats() *BackendStats { return &b.stats }

// errBackend is a failed call: the code the client gets and the reason for the log.
func errBackend(c Code, format string, args ...any) *Error {
	return &Error{Code: c, Message: c.Message(), Details: fmt.Sprintf(format, args...)}
}

// Call POSTs body as a request of kind and returns the reply's body (a 2xx answer). A
// failure is an *Error: BACKEND_UNAVAILABLE when the backend could not be asked or did not
// answer in time (breaker open, too many requests, refused, timeout, 5xx), BACKEND_ERROR
// when it answered with something else than a 2xx.
func (b *Backend) Call(ctx context.Context, kind string, body []byte) ([]byte, error) {
	if !b.allow() {
		b.stats.Refused.Add(1)
		return nil, errBackend(BackendUnavailable, "circuit breaker open")
	}
	select {
	case b.inflight <- struct{}{}:
	default:
		b.trial.Store(false)
		b.stats.Refused.Add(1)
		return nil, errBackend(BackendUnavailable, "%d requests in flight", b.cfg.MaxInFlight)
	}
	defer func() { <-b.inflight }()
	b.stats.Requests.Add(1)
	reply, err := b.post(ctx, kind, body)
	b.done(err)
	return reply, err
}

func (b *Backend) post(ctx context.Context, kind string, body []byte) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, b.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, b.cfg.URL, bytes.NewReader(body))
	if err != nil {
		return nil, errBackend(BackendUnavailable, "%v", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Riptide-Kind", kind)
	if b.cfg.Secret != "" {
		ts := strconv.FormatInt(time.Now().Unix(), 10)
		req.Header.Set("X-Riptide-Timestamp", ts)
		req.Header.Set("X-Riptide-Signature", "v1="+Sign(b.cfg.Secret, ts, body))
	}
	resp, err := b.client.Do(req)
	if err != nil {
		return nil, errBackend(BackendUnavailable, "%v", err)
	}
	defer resp.Body.Close()
	reply, err := io.ReadAll(io.LimitReader(resp.Body, b.cfg.MaxReplyBytes+1))
	switch {
	case err != nil:
		return nil, errBackend(BackendUnavailable, "reading the reply: %v", err)
	case resp.StatusCode >= 500:
		return nil, errBackend(BackendUnavailable, "HTTP %d", resp.StatusCode)
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		return nil, errBackend(BackendError, "HTTP %d", resp.StatusCode)
	case int64(len(reply)) > b.cfg.MaxReplyBytes:
		return nil, errBackend(BackendError, "reply over %d bytes", b.cfg.MaxReplyBytes)
	}
	return reply, nil
}

// Sign is the signature of a request: hex(HMAC-SHA256(secret, timestamp + "." + body)). A
// backend recomputes it over the raw body with the X-Riptide-Timestamp header's value,
// compares in constant time, and refuses timestamps more than a few minutes old.
func Sign(secret, timestamp string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(timestamp))
	m.Write([]byte{'.'})
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// allow reports whether a request may go: the breaker is closed, or its cooldown is over
// and this request is the one trial.
func (b *Backend) allow() bool {
	until := b.openUntil.Load()
	if until == 0 {
		return true
	}
	if time.Now().UnixNano() < until {
		return false
	}
	return b.trial.CompareAndSwap(false, true)
}

// done records a request's outcome in the breaker. A reply the proxy cannot use
// (BACKEND_ERROR) counts as a failure too: it is as unusable as none.
func (b *Backend) done(err error) {
	if err == nil {
		b.failures.Store(0)
		if b.openUntil.Swap(0) != 0 {
			b.log.Info("tier: backend answering again; circuit breaker closed", "url", b.cfg.URL)
		}
		b.trial.Store(false)
		return
	}
	b.stats.Failures.Add(1)
	n := b.failures.Add(1)
	var e *Error
	details := err.Error()
	if errors.As(err, &e) {
		details = e.Details
	}
	if n >= int64(b.cfg.BreakerFailures) {
		if b.openUntil.Swap(time.Now().Add(b.cfg.BreakerCooldown).UnixNano()) == 0 {
			b.stats.BreakerOpened.Add(1)
			b.log.Warn("tier: backend failing; circuit breaker open", "url", b.cfg.URL, "failures", n, "cooldown", b.cfg.BreakerCooldown, "err", details)
		}
	} else {
		b.log.Debug("tier: backend request failed", "url", b.cfg.URL, "err", details)
	}
	b.trial.Store(false)
}

// Failed records a reply the caller could not use (not the JSON it expects): the backend is
// as broken as if it had not answered.
func (b *Backend) Failed(details string) { b.done(errors.New(details)) }
