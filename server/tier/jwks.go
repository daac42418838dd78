package tier

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// JWKSConfig points the verifier at a JSON Web Key Set endpoint (RFC 7517 section 5).
type JWKSConfig struct {
	// URL of the key set; "" for none. Plain http is accepted (a sidecar on loopback);
	// anything else should be https.
	URL string
	// Timeout bounds one fetch, connect to last byte; default 5 s. A connection whose
	// token needs a fetch waits at most this long.
	Timeout time.Duration
	// MaxBytes bounds the response body; default 1 MiB (a set of 100 RSA-4096 keys is
	// about 80 KiB). A larger body fails the fetch.
	MaxBytes int64
	// MinRefetchInterval is the least time between two fetches, failed ones included;
	// default 10 s. Tokens naming unknown kids cannot make the tier hammer the endpoint:
	// within the interval they are refused with AUTH_KEY_UNKNOWN without a request.
	MinRefetchInterval time.Duration
	// MaxAge: a set older than this is refetched when the next token needs it, so removed
	// keys stop being trusted; default 5 min. A failed refetch keeps the old set.
	MaxAge time.Duration
}

func (c *JWKSConfig) defaults() {
	if c.Timeout <= 0 {
		c.Timeout = 5 * time.Second
	}
	if c.MaxBytes <= 0 {
		c.MaxBytes = 1 << 20
	}
	if c.MinRefetchInterval <= 0 {
		c.MinRefetchInterval = 10 * time.Second
	}
	if c.MaxAge <= 0 {
		c.MaxAge = 5 * time.Minute
	}
}

// keySet is one fetched set, immutable once published.
type keySet struct {
	byKid   map[string]*key
	byAlg   [len(algNames)][]jwt.VerificationKey // keys that may verify each alg, for tokens without kid
	fetched time.Time
}

// jwks caches a remote key set. Lookups read the published set without a lock; fetches
// are serialized by mu, so concurrent connections that need one wait for the same fetch
// (bounded by Timeout) rather than each sending its own.
type jwks struct {
	cfg     JWKSConfig
	allowed algSet
	client  *http.Client

	set      atomic.Pointer[keySet] // nil until the first successful fetch
	mu       sync.Mutex
	lastTry  time.Time // guarded by mu
	requests atomic.Int64
	failures atomic.Int64
}

func newJWKS(cfg JWKSConfig, allowed algSet) *jwks {
	cfg.defaults()
	return &jwks{cfg: cfg, allowed: allowed, client: &http.Client{Timeout: cfg.Timeout}}
}

// current returns the set to use, refetching first when it is missing or older than
// MaxAge (at most once per MinRefetchInterval). nil means no set was ever fetched.
func (j *jwks) current() *keySet {
	s := j.set.Load()
	if s == nil || time.Since(s.fetched) > j.cfg.MaxAge {
		j.refetch(s)
		s = j.set.Load()
	}
	return s
}

// lookup returns the key named kid, refetching once (rate-bounded) when the set does not
// have it: a new kid is how a key rotation shows up.
func (j *jwks) lookup(kid string) (*key, *keySet) {
	s := j.current()
	if s != nil {
		if k := s.byKid[kid]; k != nil {
			return k, s
		}
	}
	j.refetch(s)
	s = j.set.Load()
	if s == nil {
		return nil, nil
	}
	return s.byKid[kid], s
}

// refetch fetches the set unless another caller replaced seen meanwhile or the last try
// was less than MinRefetchInterval ago.
func (j *jwks) refetch(seen *keySet) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.set.Load() != seen {
		return // a fetch finished while we waited for mu
	}
	if !j.lastTry.IsZero() && time.Since(j.lastTry) < j.cfg.MinRefetchInterval {
		return
	}
	j.lastTry = time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), j.cfg.Timeout)
	defer cancel()
	if err := j.fetch(ctx); err != nil {
		j.failures.Add(1) // the last good set, if any, stays published
	}
}

// Refresh fetches the set now, ignoring MinRefetchInterval (for a program that wants the
// keys before its first client). The fetch takes at most Timeout.
func (j *jwks) Refresh(ctx context.Context) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.lastTry = time.Now()
	ctx, cancel := context.WithTimeout(ctx, j.cfg.Timeout)
	defer cancel()
	return j.fetch(ctx)
}

// fetch downloads, parses and publishes the set. Caller holds mu.
func (j *jwks) fetch(ctx context.Context) error {
	j.requests.Add(1)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, j.cfg.URL, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := j.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("jwks: status %d", resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, j.cfg.MaxBytes+1))
	if err != nil {
		return err
	}
	if int64(len(body)) > j.cfg.MaxBytes {
		return fmt.Errorf("jwks: body over %d bytes", j.cfg.MaxBytes)
	}
	s, err := parseKeySet(body, j.allowed)
	if err != nil {
		return err
	}
	s.fetched = time.Now()
	j.set.Store(s)
	return nil
}

// parseKeySet keeps the usable keys of a JWKS document. Keys it cannot use (an unknown
// kty, a weak RSA key, an encryption key) are skipped, as RFC 7517 section 5 asks; a set
// with no usable key is an error, so a broken deployment of the endpoint does not replace
// a good set with an empty one.
func parseKeySet(body []byte, allowed algSet) (*keySet, error) {
	var doc struct {
		Keys []jwk `json:"keys"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, err
	}
	s := &keySet{byKid: make(map[string]*key, len(doc.Keys))}
	for i := range doc.Keys {
		k, err := parseJWK(&doc.Keys[i])
		if err != nil {
			continue
		}
		k.algs &= allowed
		if k.algs == 0 {
			continue
		}
		if k.kid != "" {
			s.byKid[k.kid] = k
		}
		s.byAlg = addByAlg(s.byAlg, k)
	}
	if len(s.byKid) == 0 && !hasAny(s.byAlg) {
		return nil, errors.New("jwks: no usable key")
	}
	return s, nil
}

func addByAlg(by [len(algNames)][]jwt.VerificationKey, k *key) [len(algNames)][]jwt.VerificationKey {
	for i := range algNames {
		if k.algs&(1<<i) != 0 {
			by[i] = append(by[i], k.pub)
		}
	}
	return by
}

func hasAny(by [len(algNames)][]jwt.VerificationKey) bool {
	for _, ks := range by {
		if len(ks) > 0 {
			return true
		}
	}
	return false
}
