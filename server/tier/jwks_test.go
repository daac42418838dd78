package tier_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/riptide-io/riptide/server/tier"
)

func jwksConfig(url string, j tier.JWKSConfig) tier.JWTConfig {
	j.URL = url
	return tier.JWTConfig{JWKS: j, Issuer: testIssuer, Audience: testAudience}
}

func wantCode(t *testing.T, what string, err error, code tier.Code) {
	t.Helper()
	e, ok := err.(*tier.Error)
	if !ok || e.Code != code {
		t.Errorf("%s: got %v; want %s", what, err, code)
	}
}

// TestJWKSRotation: a token naming a kid the cached set lacks makes the verifier refetch,
// and the new key is accepted; tokens of the old key keep working while it is served.
func TestJWKSRotation(t *testing.T) {
	k := getKeys(t)
	srv := newJWKSServer(t, jwkEntry{"old", k.jwksOld})
	v := newVerifier(t, jwksConfig(srv.URL, tier.JWKSConfig{MinRefetchInterval: 50 * time.Millisecond}))
	old := mint(t, jwt.SigningMethodRS256, k.jwksOld, "old", claims("u-old"))
	if id, err := v.Verify(old); err != nil || id.User != "u-old" {
		t.Fatalf("old key: %+v, %v", id, err)
	}
	if n := srv.requests.Load(); n != 1 {
		t.Fatalf("%d requests for the first token; want 1", n)
	}
	srv.set(t, jwkEntry{"old", k.jwksOld}, jwkEntry{"new", k.jwksNew})
	time.Sleep(60 * time.Millisecond) // past MinRefetchInterval
	fresh := mint(t, jwt.SigningMethodRS256, k.jwksNew, "new", claims("u-new"))
	if id, err := v.Verify(fresh); err != nil || id.User != "u-new" {
		t.Fatalf("rotated key: %+v, %v", id, err)
	}
	if id, err := v.Verify(old); err != nil || id.User != "u-old" {
		t.Fatalf("old key after rotation: %+v, %v", id, err)
	}
	if n := srv.requests.Load(); n != 2 {
		t.Errorf("%d requests; want 2 (the first fetch and one refetch for the new kid)", n)
	}
	// The alg a JWK names is pinned: PS256 with a key served as RS256 is refused.
	ps := mint(t, jwt.SigningMethodPS256, k.jwksNew, "new", claims("u"))
	wantCode(t, "PS256 on an RS256 JWK", ignore2(v.Verify(ps)), tier.AuthAlgNotAllowed)
	// HS256 naming a JWKS kid, keyed with anything: a JWKS serves no HMAC keys.
	hs := mint(t, jwt.SigningMethodHS256, []byte(publicPEM(t, k.jwksNew)), "new", claims("u"))
	wantCode(t, "HS256 naming a JWKS key", ignore2(v.Verify(hs)), tier.AuthAlgNotAllowed)
}

func ignore2(_ *tier.Identity, err error) error { return err }

// TestJWKSRefetchBounded: a burst of tokens with unknown kids, from many goroutines, makes
// at most one fetch per MinRefetchInterval.
func TestJWKSRefetchBounded(t *testing.T) {
	k := getKeys(t)
	srv := newJWKSServer(t, jwkEntry{"old", k.jwksOld})
	const interval = 300 * time.Millisecond
	v := newVerifier(t, jwksConfig(srv.URL, tier.JWKSConfig{MinRefetchInterval: interval}))
	start := time.Now()
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				tok := mint(t, jwt.SigningMethodRS256, k.jwksOld, fmt.Sprintf("unknown-%d-%d", g, i), claims("u"))
				wantCode(t, "unknown kid", ignore2(v.Verify(tok)), tier.AuthKeyUnknown)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	limit := int64(elapsed/interval) + 1
	if n := srv.requests.Load(); n > limit || n < 1 {
		t.Errorf("%d requests in %v for 400 unknown kids; want 1..%d", n, elapsed, limit)
	}
	req, _ := v.JWKSStats()
	if req != srv.requests.Load() {
		t.Errorf("JWKSStats says %d requests, the endpoint saw %d", req, srv.requests.Load())
	}
}

// TestJWKSDown: once fetched, the set outlives the endpoint: a stale set whose refetch
// fails is still used; before any fetch succeeded, tokens get AUTH_UNAVAILABLE.
func TestJWKSDown(t *testing.T) {
	k := getKeys(t)
	srv := newJWKSServer(t, jwkEntry{"old", k.jwksOld})
	v := newVerifier(t, jwksConfig(srv.URL, tier.JWKSConfig{MinRefetchInterval: 20 * time.Millisecond, MaxAge: 20 * time.Millisecond}))
	tok := mint(t, jwt.SigningMethodRS256, k.jwksOld, "old", claims("u-old"))
	if err := v.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	srv.setDown(true)
	for i := 0; i < 3; i++ {
		time.Sleep(30 * time.Millisecond) // the set is stale: each Verify tries a refetch
		if id, err := v.Verify(tok); err != nil || id.User != "u-old" {
			t.Fatalf("endpoint down, round %d: %+v, %v", i, id, err)
		}
	}
	if req, fail := v.JWKSStats(); req < 3 || fail < 2 {
		t.Errorf("JWKSStats %d requests, %d failures: the refetches did not happen", req, fail)
	}
	unknown := mint(t, jwt.SigningMethodRS256, k.jwksOld, "unknown", claims("u"))
	wantCode(t, "unknown kid while down", ignore2(v.Verify(unknown)), tier.AuthKeyUnknown)
	// A body that is not a key set is a failed fetch too: the good set stays.
	srv.setDown(false)
	srv.mu.Lock()
	srv.body = []byte(`{"keys":[]}`)
	srv.mu.Unlock()
	time.Sleep(30 * time.Millisecond)
	if _, err := v.Verify(tok); err != nil {
		t.Errorf("after an empty set was served: %v", err)
	}

	never := newJWKSServer(t, jwkEntry{"old", k.jwksOld})
	never.setDown(true)
	v2 := newVerifier(t, jwksConfig(never.URL, tier.JWKSConfig{}))
	wantCode(t, "never fetched, kid", ignore2(v2.Verify(tok)), tier.AuthUnavailable)
	noKid := mint(t, jwt.SigningMethodRS256, k.jwksOld, "", claims("u"))
	wantCode(t, "never fetched, no kid", ignore2(v2.Verify(noKid)), tier.AuthUnavailable)
	if n := never.requests.Load(); n != 1 {
		t.Errorf("%d requests to a down endpoint within MinRefetchInterval; want 1", n)
	}
}

// TestJWKSBounds: a fetch is bounded in time and size; neither hangs nor grows a verifier.
func TestJWKSBounds(t *testing.T) {
	k := getKeys(t)
	tok := mint(t, jwt.SigningMethodRS256, k.jwksOld, "old", claims("u"))
	stall := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-stall:
		case <-r.Context().Done():
		}
	}))
	defer slow.Close()
	defer close(stall)
	v := newVerifier(t, jwksConfig(slow.URL, tier.JWKSConfig{Timeout: 200 * time.Millisecond}))
	start := time.Now()
	wantCode(t, "stalled endpoint", ignore2(v.Verify(tok)), tier.AuthUnavailable)
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Verify took %v with a 200 ms fetch timeout", d)
	}

	big := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"keys":[` + strings.Repeat(" ", 4096) + `]}`))
	}))
	defer big.Close()
	v2 := newVerifier(t, jwksConfig(big.URL, tier.JWKSConfig{MaxBytes: 1024}))
	if err := v2.Refresh(context.Background()); err == nil || !strings.Contains(err.Error(), "over 1024 bytes") {
		t.Errorf("oversized body: %v", err)
	}
}

// TestJWKSSocketIOClient: a token whose key only the JWKS endpoint serves connects with the
// real client on both transports.
func TestJWKSSocketIOClient(t *testing.T) {
	k := getKeys(t)
	srv := newJWKSServer(t, jwkEntry{"old", k.jwksOld})
	v := newVerifier(t, jwksConfig(srv.URL, tier.JWKSConfig{}))
	url := serve(t, v)
	tok := mint(t, jwt.SigningMethodRS256, k.jwksOld, "old", claims("u-jwks"))
	unknown := mint(t, jwt.SigningMethodRS256, k.jwksOld, "gone", claims("u"))
	got := runClients(t, []sioCase{
		{Name: "jwks key", URL: url, Auth: map[string]string{"token": tok}},
		{Name: "unknown kid", URL: url, Auth: map[string]string{"token": unknown}},
	})
	for _, tr := range []string{"polling", "websocket"} {
		wantConnected(t, "jwks/"+tr, got["jwks key/"+tr], "u-jwks")
		wantRefused(t, "unknown/"+tr, got["unknown kid/"+tr], tier.AuthKeyUnknown)
	}
	if n := srv.requests.Load(); n != 1 {
		t.Errorf("%d JWKS requests for 4 connections within MinRefetchInterval; want 1", n)
	}
}
