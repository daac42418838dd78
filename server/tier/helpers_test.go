package tier_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
	"github.com/golang-jwt/jwt/v5"

	"github.com/riptide-io/riptide/internal/nodetest"
	"github.com/riptide-io/riptide/internal/servetest"
	"github.com/riptide-io/riptide/server"
	"github.com/riptide-io/riptide/server/engine"
	"github.com/riptide-io/riptide/server/tier"
)

// Test keys are generated once per test binary (RSA generation takes a while under -race).
type testKeys struct {
	rsa, rsa2, jwksOld, jwksNew *rsa.PrivateKey
	ec256, ec384                *ecdsa.PrivateKey
	ed                          ed25519.PrivateKey
	hmac                        []byte
}

var (
	keysOnce sync.Once
	keys     testKeys
)

func getKeys(t testing.TB) *testKeys {
	t.Helper()
	keysOnce.Do(func() {
		must := func(err error) {
			if err != nil {
				panic(err)
			}
		}
		var err error
		for _, k := range []**rsa.PrivateKey{&keys.rsa, &keys.rsa2, &keys.jwksOld, &keys.jwksNew} {
			*k, err = rsa.GenerateKey(rand.Reader, 2048)
			must(err)
		}
		keys.ec256, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		must(err)
		keys.ec384, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
		must(err)
		_, keys.ed, err = ed25519.GenerateKey(rand.Reader)
		must(err)
		keys.hmac = make([]byte, 32)
		_, _ = rand.Read(keys.hmac)
		keys.hmac = []byte(base64.RawURLEncoding.EncodeToString(keys.hmac)) // printable, for the minting scripts
	})
	return &keys
}

// publicPEM is the PKIX PEM of a private key's public half.
func publicPEM(t testing.TB, priv crypto.Signer) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(priv.Public())
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

// privatePEM is the PKCS #8 PEM of a private key, for the minting scripts.
func privatePEM(t testing.TB, priv crypto.Signer) string {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

const (
	testIssuer   = "riptide-test"
	testAudience = "riptide"
)

// claims returns valid claims for user, expiring in an hour.
func claims(user string) jwt.MapClaims {
	now := time.Now()
	return jwt.MapClaims{"sub": user, "iss": testIssuer, "aud": testAudience,
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
}

// mint signs c with method and key, with kid in the header when not "".
func mint(t testing.TB, m jwt.SigningMethod, key any, kid string, c jwt.Claims) string {
	t.Helper()
	tok := jwt.NewWithClaims(m, c)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// baseConfig trusts every static test key, with a kid each, and requires iss and aud.
func baseConfig(t testing.TB) tier.JWTConfig {
	k := getKeys(t)
	return tier.JWTConfig{
		HMACSecrets: []tier.HMACSecret{{KeyID: "hs", Secret: string(k.hmac)}},
		PublicKeys: []tier.PublicKey{
			{KeyID: "rsa", PEM: publicPEM(t, k.rsa)},
			{KeyID: "ec256", PEM: publicPEM(t, k.ec256)},
			{KeyID: "ec384", PEM: publicPEM(t, k.ec384)},
			{KeyID: "ed", PEM: publicPEM(t, k.ed)},
		},
		Issuer:   testIssuer,
		Audience: testAudience,
	}
}

func newVerifier(t testing.TB, cfg tier.JWTConfig) *tier.Verifier {
	t.Helper()
	v, err := tier.NewVerifier(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(v.Close)
	return v
}

// serve starts a Socket.IO server behind tier.Auth(v); a connected socket is told its user
// id with a "whoami" event, which is how the node script knows the identity arrived.
func serve(t testing.TB, v *tier.Verifier) string {
	t.Helper()
	io := server.New(server.Options{})
	io.Use(tier.Auth(v))
	io.OnConnection(func(s *server.Socket) {
		id := tier.IdentityOf(s)
		if id == nil {
			_ = s.Emit("whoami", nil)
			return
		}
		_ = s.Emit("whoami", id.User)
	})
	return listen(t, io)
}

// listen serves io on a free port until the test ends and returns its URL; after is run
// once it has stopped.
func listen(t testing.TB, io *server.Server, after ...func()) string {
	t.Helper()
	return servetest.Listen(t, io, engine.ListenConfig{}, after...)
}

// jwksServer serves a key set that the test can change, break, and count requests of.
type jwksServer struct {
	URL      string
	mu       sync.Mutex
	body     []byte
	down     bool
	requests atomic.Int64
}

func newJWKSServer(t testing.TB, ks ...jwkEntry) *jwksServer {
	t.Helper()
	j := &jwksServer{}
	j.set(t, ks...)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		j.requests.Add(1)
		j.mu.Lock()
		body, down := j.body, j.down
		j.mu.Unlock()
		if down {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}))
	t.Cleanup(srv.Close)
	j.URL = srv.URL
	return j
}

type jwkEntry struct {
	kid string
	key *rsa.PrivateKey
}

func (j *jwksServer) set(t testing.TB, ks ...jwkEntry) {
	t.Helper()
	var doc struct {
		Keys []map[string]string `json:"keys"`
	}
	for _, k := range ks {
		pub := k.key.PublicKey
		doc.Keys = append(doc.Keys, map[string]string{
			"kty": "RSA", "kid": k.kid, "use": "sig", "alg": "RS256",
			"n": base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
			"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
		})
	}
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	j.mu.Lock()
	j.body = b
	j.mu.Unlock()
}

func (j *jwksServer) setDown(down bool) {
	j.mu.Lock()
	j.down = down
	j.mu.Unlock()
}

// writeFile writes content to a file in a test directory and returns its path.
func writeFile(t testing.TB, name string, content []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, content, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// sioCase is one connection attempt of tier-auth.js.
type sioCase struct {
	Name      string            `json:"name"`
	URL       string            `json:"url"`
	Transport string            `json:"transport"`
	Auth      any               `json:"auth,omitempty"`
	Headers   map[string]string `json:"headers,omitempty"`
	Query     map[string]string `json:"query,omitempty"`
	Expiry    bool              `json:"expiry,omitempty"`
}

type sioResult struct {
	Name         string `json:"name"`
	Transport    string `json:"transport"`
	Connected    bool   `json:"connected"`
	Whoami       any    `json:"whoami"`
	ConnectError *struct {
		Message string `json:"message"`
		Data    *struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"data"`
	} `json:"connectError"`
	ErrorEvent *struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"errorEvent"`
	DisconnectReason string `json:"disconnectReason"`
	ConnectedMs      int64  `json:"connectedMs"`
	ErrorMs          int64  `json:"errorMs"`
	DisconnectMs     int64  `json:"disconnectMs"`
	TimedOut         bool   `json:"timedOut"`
}

// runClients runs every case on polling and on WebSocket with the real socket.io-client
// and returns the results keyed by "name/transport".
func runClients(t *testing.T, cases []sioCase) map[string]sioResult {
	t.Helper()
	var all []sioCase
	for _, tr := range []string{"polling", "websocket"} {
		for _, c := range cases {
			c.Transport = tr
			all = append(all, c)
		}
	}
	b, err := json.Marshal(all)
	if err != nil {
		t.Fatal(err)
	}
	path := writeFile(t, "cases.json", b)
	raw := nodetest.Run(t, 120*time.Second, "tier-auth.js", "--cases", path, "--timeout", "100000")
	out := nodetest.Decode[struct {
		Results []sioResult `json:"results"`
	}](t, raw)
	m := map[string]sioResult{}
	for _, r := range out.Results {
		m[r.Name+"/"+r.Transport] = r
	}
	if len(m) != len(all) {
		t.Fatalf("got %d results for %d cases", len(m), len(all))
	}
	return m
}

// wantRefused checks that the client got connect_error with code, and the message the
// code documents, in both err.message and err.data.
func wantRefused(t *testing.T, key string, r sioResult, code tier.Code) {
	t.Helper()
	switch {
	case r.Connected:
		t.Errorf("%s: connected as %v; want connect_error %s", key, r.Whoami, code)
	case r.ConnectError == nil || r.ConnectError.Data == nil:
		t.Errorf("%s: no connect_error with data: %+v", key, r)
	case r.ConnectError.Data.Code != string(code) || r.ConnectError.Data.Message != code.Message() || r.ConnectError.Message != code.Message():
		t.Errorf("%s: connect_error %q data %+v; want code %s, message %q", key, r.ConnectError.Message, *r.ConnectError.Data, code, code.Message())
	}
}

func wantConnected(t *testing.T, key string, r sioResult, user string) {
	t.Helper()
	if !r.Connected || r.Whoami != user {
		t.Errorf("%s: want connected as %q, got %+v", key, user, r)
	}
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// wsClient is a bare WebSocket Socket.IO client, for tests that hold a socket open from Go.
type wsClient struct {
	t  testing.TB
	c  net.Conn
	rw io.ReadWriter
}

func dialWS(t testing.TB, addr string) *wsClient {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, br, _, err := ws.Dial(ctx, "ws://"+addr+"/socket.io/?EIO=4&transport=websocket")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	cl := &wsClient{t: t, c: c, rw: c}
	if br != nil {
		cl.rw = struct {
			io.Reader
			io.Writer
		}{io.MultiReader(br, c), c}
	}
	cl.read() // the Engine.IO open packet
	return cl
}

func (c *wsClient) send(s string) { _ = wsutil.WriteClientText(c.c, []byte(s)) }

// read returns the next text packet, answering pings; it fails the test after 5 s.
func (c *wsClient) read() string {
	c.t.Helper()
	_ = c.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		p, _, err := wsutil.ReadServerData(c.rw)
		if err != nil {
			c.t.Fatal(err)
		}
		if string(p) == "2" {
			_ = wsutil.WriteClientText(c.c, []byte("3"))
			continue
		}
		return string(p)
	}
}
