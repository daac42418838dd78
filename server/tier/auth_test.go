package tier_test

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/riptide-io/riptide/internal/nodetest"
	"github.com/riptide-io/riptide/server/tier"
)

// tokenCase is one token and what baseConfig's verifier must answer: a refusal code, or
// user for an accepted token. Shared by the Go-level and the socket.io-client tests.
type tokenCase struct {
	name  string
	token string
	want  tier.Code // "" when accepted
	user  string
}

func tokenCases(t testing.TB) []tokenCase {
	k := getKeys(t)
	now := time.Now()
	with := func(user string, f func(c jwt.MapClaims)) jwt.MapClaims {
		c := claims(user)
		f(c)
		return c
	}
	rsaPEM := []byte(publicPEM(t, k.rsa))
	return []tokenCase{
		// Accepted: one per algorithm family and curve.
		{name: "HS256", token: mint(t, jwt.SigningMethodHS256, k.hmac, "hs", claims("u-hs256")), user: "u-hs256"},
		{name: "HS384", token: mint(t, jwt.SigningMethodHS384, k.hmac, "hs", claims("u-hs384")), user: "u-hs384"},
		{name: "HS512 without kid", token: mint(t, jwt.SigningMethodHS512, k.hmac, "", claims("u-hs512")), user: "u-hs512"},
		{name: "RS256", token: mint(t, jwt.SigningMethodRS256, k.rsa, "rsa", claims("u-rs256")), user: "u-rs256"},
		{name: "RS512 without kid", token: mint(t, jwt.SigningMethodRS512, k.rsa, "", claims("u-rs512")), user: "u-rs512"},
		{name: "PS256", token: mint(t, jwt.SigningMethodPS256, k.rsa, "rsa", claims("u-ps256")), user: "u-ps256"},
		{name: "PS384", token: mint(t, jwt.SigningMethodPS384, k.rsa, "rsa", claims("u-ps384")), user: "u-ps384"},
		{name: "ES256", token: mint(t, jwt.SigningMethodES256, k.ec256, "ec256", claims("u-es256")), user: "u-es256"},
		{name: "ES384", token: mint(t, jwt.SigningMethodES384, k.ec384, "ec384", claims("u-es384")), user: "u-es384"},
		{name: "EdDSA", token: mint(t, jwt.SigningMethodEdDSA, k.ed, "ed", claims("u-eddsa")), user: "u-eddsa"},
		{name: "ES256 expiring in a minute", token: mint(t, jwt.SigningMethodES256, k.ec256, "ec256",
			with("u-soon", func(c jwt.MapClaims) { c["exp"] = now.Add(time.Minute).Unix() })), user: "u-soon"},

		// Refused.
		{name: "missing", token: "", want: tier.AuthTokenMissing},
		{name: "malformed: two segments", token: "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0", want: tier.AuthTokenMalformed},
		{name: "malformed: garbage", token: "not a jwt at all", want: tier.AuthTokenMalformed},
		{name: "malformed: exp is a string", token: mint(t, jwt.SigningMethodHS256, k.hmac, "hs",
			with("u", func(c jwt.MapClaims) { c["exp"] = "tomorrow" })), want: tier.AuthTokenMalformed},
		{name: "malformed: too long", token: mint(t, jwt.SigningMethodHS256, k.hmac, "hs",
			with("u", func(c jwt.MapClaims) { c["pad"] = strings.Repeat("x", tier.MaxTokenBytes) })), want: tier.AuthTokenMalformed},
		{name: "alg none", token: mint(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, "", claims("u-none")), want: tier.AuthAlgNotAllowed},
		{name: "alg none naming a key", token: mint(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, "rsa", claims("u-none")), want: tier.AuthAlgNotAllowed},
		// Algorithm confusion: HS256 keyed with the RSA public key's PEM, the classic attack
		// on verifiers that hand "the key" to whatever alg the token names.
		{name: "confusion: HS256 with RSA PEM naming the RSA kid", token: mint(t, jwt.SigningMethodHS256, rsaPEM, "rsa", claims("u-evil")), want: tier.AuthAlgNotAllowed},
		{name: "confusion: HS256 with RSA PEM without kid", token: mint(t, jwt.SigningMethodHS256, rsaPEM, "", claims("u-evil")), want: tier.AuthSignatureInvalid},
		{name: "kid names a key of another type", token: mint(t, jwt.SigningMethodRS256, k.rsa, "ec256", claims("u")), want: tier.AuthAlgNotAllowed},
		{name: "ES384 naming the P-256 key", token: mint(t, jwt.SigningMethodES384, k.ec384, "ec256", claims("u")), want: tier.AuthAlgNotAllowed},
		{name: "unknown kid", token: mint(t, jwt.SigningMethodRS256, k.rsa, "nobody", claims("u")), want: tier.AuthKeyUnknown},
		{name: "bad signature: other RSA key", token: mint(t, jwt.SigningMethodRS256, k.rsa2, "rsa", claims("u")), want: tier.AuthSignatureInvalid},
		{name: "bad signature: tampered payload", token: tamper(t, mint(t, jwt.SigningMethodHS256, k.hmac, "hs", claims("u"))), want: tier.AuthSignatureInvalid},
		{name: "expired", token: mint(t, jwt.SigningMethodHS256, k.hmac, "hs",
			with("u", func(c jwt.MapClaims) { c["exp"] = now.Add(-time.Minute).Unix() })), want: tier.AuthTokenExpired},
		{name: "not yet valid: nbf", token: mint(t, jwt.SigningMethodHS256, k.hmac, "hs",
			with("u", func(c jwt.MapClaims) { c["nbf"] = now.Add(time.Hour).Unix() })), want: tier.AuthTokenNotYetValid},
		{name: "not yet valid: iat in the future", token: mint(t, jwt.SigningMethodHS256, k.hmac, "hs",
			with("u", func(c jwt.MapClaims) { c["iat"] = now.Add(time.Hour).Unix() })), want: tier.AuthTokenNotYetValid},
		{name: "wrong issuer", token: mint(t, jwt.SigningMethodHS256, k.hmac, "hs",
			with("u", func(c jwt.MapClaims) { c["iss"] = "someone-else" })), want: tier.AuthIssuerInvalid},
		{name: "no issuer", token: mint(t, jwt.SigningMethodHS256, k.hmac, "hs",
			with("u", func(c jwt.MapClaims) { delete(c, "iss") })), want: tier.AuthIssuerInvalid},
		{name: "wrong audience", token: mint(t, jwt.SigningMethodHS256, k.hmac, "hs",
			with("u", func(c jwt.MapClaims) { c["aud"] = []string{"other", "another"} })), want: tier.AuthAudienceInvalid},
		{name: "missing user claim", token: mint(t, jwt.SigningMethodHS256, k.hmac, "hs",
			with("u", func(c jwt.MapClaims) { delete(c, "sub") })), want: tier.AuthClaimMissing},
		{name: "empty user claim", token: mint(t, jwt.SigningMethodHS256, k.hmac, "hs", claims("")), want: tier.AuthClaimMissing},
	}
}

// tamper changes the payload of a token and keeps its signature.
func tamper(t testing.TB, tok string) string {
	parts := strings.Split(tok, ".")
	c := claims("admin")
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	parts[1] = b64(b)
	return strings.Join(parts, ".")
}

// TestVerify runs the token table through Verify: the codes, and the identity.
func TestVerify(t *testing.T) {
	v := newVerifier(t, baseConfig(t))
	for _, c := range tokenCases(t) {
		id, err := v.Verify(c.token)
		if c.want != "" {
			e, ok := err.(*tier.Error)
			if !ok || e.Code != c.want {
				t.Errorf("%s: got %v, %v; want %s", c.name, id, err, c.want)
			}
			continue
		}
		if err != nil || id.User != c.user || id.Exp == 0 || id.Claims != nil {
			t.Errorf("%s: got %+v, %v; want user %s with exp and no claims", c.name, id, err, c.user)
		}
	}
}

// TestAuthSocketIOClient runs the token table with the real socket.io-client on polling and
// WebSocket: every refusal is a connect_error carrying the documented {code, message}, every
// valid token connects with its user id as the socket's identity.
func TestAuthSocketIOClient(t *testing.T) {
	k := getKeys(t)
	v := newVerifier(t, baseConfig(t))
	url := serve(t, v)
	// A verifier that holds only the RSA public key: an HS256 token keyed with that key's
	// PEM must be refused for its alg, not checked as HMAC.
	rsaOnly := serve(t, newVerifier(t, tier.JWTConfig{PublicKeys: []tier.PublicKey{{PEM: publicPEM(t, k.rsa)}}}))
	table := tokenCases(t)
	var cases []sioCase
	for _, c := range table {
		sc := sioCase{Name: c.name, URL: url, Auth: map[string]string{"token": c.token}}
		if c.token == "" {
			sc.Auth = nil // no auth at all: the CONNECT has no payload
		}
		cases = append(cases, sc)
	}
	rsaPEM := []byte(publicPEM(t, k.rsa))
	confusion := mint(t, jwt.SigningMethodHS256, rsaPEM, "", claims("u-evil"))
	cases = append(cases,
		sioCase{Name: "rsa-only: HS256 keyed with the RSA PEM", URL: rsaOnly, Auth: map[string]string{"token": confusion}},
		sioCase{Name: "rsa-only: RS256", URL: rsaOnly, Auth: map[string]string{"token": mint(t, jwt.SigningMethodRS256, k.rsa, "", claims("u-rsa-only"))}},
		sioCase{Name: "token not a string", URL: url, Auth: map[string]any{"token": 42}},
	)
	got := runClients(t, cases)
	for _, tr := range []string{"polling", "websocket"} {
		for _, c := range table {
			key := c.name + "/" + tr
			if c.want != "" {
				wantRefused(t, key, got[key], c.want)
			} else {
				wantConnected(t, key, got[key], c.user)
			}
		}
		wantRefused(t, "rsa-only confusion/"+tr, got["rsa-only: HS256 keyed with the RSA PEM/"+tr], tier.AuthAlgNotAllowed)
		wantConnected(t, "rsa-only RS256/"+tr, got["rsa-only: RS256/"+tr], "u-rsa-only")
		wantRefused(t, "token not a string/"+tr, got["token not a string/"+tr], tier.AuthTokenMissing)
	}
}

// TestTokenSources: the Authorization header and the query parameter are read only when
// enabled; auth.token always is.
func TestTokenSources(t *testing.T) {
	k := getKeys(t)
	tok := mint(t, jwt.SigningMethodHS256, k.hmac, "hs", claims("u-src"))
	off := serve(t, newVerifier(t, baseConfig(t)))
	cfg := baseConfig(t)
	cfg.BearerHeader, cfg.QueryParam = true, "access_token"
	on := serve(t, newVerifier(t, cfg))
	bearer := map[string]string{"Authorization": "Bearer " + tok}
	query := map[string]string{"access_token": tok}
	got := runClients(t, []sioCase{
		{Name: "header off", URL: off, Headers: bearer},
		{Name: "query off", URL: off, Query: query},
		{Name: "header on", URL: on, Headers: bearer},
		{Name: "query on", URL: on, Query: query},
		{Name: "auth on", URL: on, Auth: map[string]string{"token": tok}},
		{Name: "header on, not bearer", URL: on, Headers: map[string]string{"Authorization": "Basic " + tok}},
	})
	for _, tr := range []string{"polling", "websocket"} {
		wantRefused(t, "header off/"+tr, got["header off/"+tr], tier.AuthTokenMissing)
		wantRefused(t, "query off/"+tr, got["query off/"+tr], tier.AuthTokenMissing)
		wantRefused(t, "not bearer/"+tr, got["header on, not bearer/"+tr], tier.AuthTokenMissing)
		for _, n := range []string{"header on", "query on", "auth on"} {
			wantConnected(t, n+"/"+tr, got[n+"/"+tr], "u-src")
		}
	}
}

// TestExpiryWhileConnected: a token expiring 2 s after connect gets the "error" event with
// AUTH_TOKEN_EXPIRED, then the namespace disconnect, at exp; one without exp stays.
func TestExpiryWhileConnected(t *testing.T) {
	k := getKeys(t)
	v := newVerifier(t, baseConfig(t))
	url := serve(t, v)
	c := claims("u-exp")
	exp := time.Now().Add(2 * time.Second).Truncate(time.Second).Add(time.Second) // 2-3 s ahead, on a second
	c["exp"] = exp.Unix()
	tok := mint(t, jwt.SigningMethodES256, k.ec256, "ec256", c)
	start := time.Now()
	got := runClients(t, []sioCase{{Name: "expiring", URL: url, Auth: map[string]string{"token": tok}, Expiry: true}})
	for _, tr := range []string{"polling", "websocket"} {
		r := got["expiring/"+tr]
		if !r.Connected || r.ErrorEvent == nil || r.ErrorEvent.Code != string(tier.AuthTokenExpired) || r.ErrorEvent.Message != tier.AuthTokenExpired.Message() {
			t.Fatalf("%s: want connected then an error event %s, got %+v", tr, tier.AuthTokenExpired, r)
		}
		if r.DisconnectReason != "io server disconnect" || r.DisconnectMs < r.ErrorMs {
			t.Errorf("%s: want the error event then disconnect \"io server disconnect\", got %+v", tr, r)
		}
		// The clients started after start, so the disconnect came no earlier than exp
		// minus the script's start-up; and not much later than exp.
		at := start.Add(time.Duration(r.DisconnectMs) * time.Millisecond)
		if early := exp.Sub(at); early > 1500*time.Millisecond {
			t.Errorf("%s: disconnected %v before exp", tr, early)
		}
		if late := at.Sub(exp); late > 2*time.Second {
			t.Errorf("%s: disconnected %v after exp", tr, late)
		}
	}
}

// TestExpiryTimerStops: a socket that leaves before its token expires releases its timer.
func TestExpiryTimerStops(t *testing.T) {
	k := getKeys(t)
	v := newVerifier(t, baseConfig(t))
	url := serve(t, v)
	tok := mint(t, jwt.SigningMethodHS256, k.hmac, "hs", claims("u-leaves"))
	got := runClients(t, []sioCase{{Name: "leaves", URL: url, Auth: map[string]string{"token": tok}}})
	wantConnected(t, "leaves/polling", got["leaves/polling"], "u-leaves")
	deadline := time.Now().Add(5 * time.Second)
	for v.PendingExpiries() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d expiry timers still armed after the clients left", v.PendingExpiries())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// mintSpec is the input of jose-mint.js and pyjwt_mint.py.
type mintSpec struct {
	Claims map[string]any `json:"claims"`
	Keys   []mintKey      `json:"keys"`
}

type mintKey struct {
	Name   string `json:"name"`
	Alg    string `json:"alg"`
	Kid    string `json:"kid,omitempty"`
	PEM    string `json:"pem,omitempty"`
	Secret string `json:"secret,omitempty"`
}

func foreignSpec(t *testing.T) mintSpec {
	k := getKeys(t)
	now := time.Now()
	return mintSpec{
		Claims: map[string]any{"sub": "u-foreign", "iss": testIssuer, "aud": testAudience, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()},
		Keys: []mintKey{
			{Name: "HS256", Alg: "HS256", Kid: "hs", Secret: string(k.hmac)},
			{Name: "RS256", Alg: "RS256", Kid: "rsa", PEM: privatePEM(t, k.rsa)},
			{Name: "PS256", Alg: "PS256", Kid: "rsa", PEM: privatePEM(t, k.rsa)},
			{Name: "ES256", Alg: "ES256", Kid: "ec256", PEM: privatePEM(t, k.ec256)},
			{Name: "ES384", Alg: "ES384", Kid: "ec384", PEM: privatePEM(t, k.ec384)},
			{Name: "EdDSA", Alg: "EdDSA", Kid: "ed", PEM: privatePEM(t, k.ed)},
			{Name: "RS256 no kid", Alg: "RS256", PEM: privatePEM(t, k.rsa)},
		},
	}
}

// TestForeignMinters: tokens minted by npm jose and by PyJWT, with keys generated here,
// connect through the real socket.io-client.
func TestForeignMinters(t *testing.T) {
	spec := foreignSpec(t)
	b, err := json.Marshal(spec)
	if err != nil {
		t.Fatal(err)
	}
	raw := nodetest.Run(t, 30*time.Second, "jose-mint.js", "--spec", writeFile(t, "spec.json", b))
	jose := nodetest.Decode[struct {
		Tokens map[string]string `json:"tokens"`
	}](t, raw).Tokens

	cmd := exec.Command("/usr/bin/python3", "testdata/pyjwt_mint.py")
	cmd.Stdin = strings.NewReader(string(b))
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("pyjwt_mint.py: %v (install python3-jwt; scripts/test.sh does): %s", err, out)
	}
	var py struct {
		Tokens map[string]string `json:"tokens"`
	}
	if err := json.Unmarshal(out, &py); err != nil {
		t.Fatalf("pyjwt_mint.py: %v: %s", err, out)
	}

	v := newVerifier(t, baseConfig(t))
	url := serve(t, v)
	var cases []sioCase
	for _, k := range spec.Keys {
		for lib, toks := range map[string]map[string]string{"jose": jose, "pyjwt": py.Tokens} {
			if toks[k.Name] == "" {
				t.Fatalf("%s minted no %s token", lib, k.Name)
			}
			cases = append(cases, sioCase{Name: lib + " " + k.Name, URL: url, Auth: map[string]string{"token": toks[k.Name]}})
		}
	}
	got := runClients(t, cases)
	for _, c := range cases {
		for _, tr := range []string{"polling", "websocket"} {
			wantConnected(t, c.Name+"/"+tr, got[c.Name+"/"+tr], "u-foreign")
		}
	}
}

// TestConfig: deny by default, and configuration mistakes are refused at construction.
func TestConfig(t *testing.T) {
	k := getKeys(t)
	v := newVerifier(t, tier.JWTConfig{})
	if v.Algorithms() != "" {
		t.Errorf("zero config accepts %s", v.Algorithms())
	}
	if _, err := v.Verify(mint(t, jwt.SigningMethodHS256, k.hmac, "", claims("u"))); err.(*tier.Error).Code != tier.AuthAlgNotAllowed {
		t.Errorf("zero config: %v", err)
	}
	derived := newVerifier(t, tier.JWTConfig{PublicKeys: []tier.PublicKey{{PEM: publicPEM(t, k.ec256)}, {PEM: publicPEM(t, k.ed)}}})
	if got := derived.Algorithms(); got != "ES256,EdDSA" {
		t.Errorf("derived algorithms %q", got)
	}
	listed := newVerifier(t, tier.JWTConfig{Algorithms: []string{"RS256"}, PublicKeys: []tier.PublicKey{{PEM: publicPEM(t, k.rsa)}}})
	if _, err := listed.Verify(mint(t, jwt.SigningMethodPS256, k.rsa, "", claims("u"))); err.(*tier.Error).Code != tier.AuthAlgNotAllowed {
		t.Errorf("PS256 with only RS256 listed: %v", err)
	}
	secretFile := writeFile(t, "secret", append(append([]byte{}, k.hmac...), '\n'))
	fromFile := newVerifier(t, tier.JWTConfig{HMACSecrets: []tier.HMACSecret{{File: secretFile}}, UserClaim: "uid", KeepClaims: true})
	c := claims("")
	c["uid"] = 1234
	id, err := fromFile.Verify(mint(t, jwt.SigningMethodHS256, k.hmac, "", c))
	if err != nil || id.User != "1234" || !strings.Contains(string(id.Claims), `"uid":1234`) {
		t.Errorf("secret file, numeric custom user claim, kept claims: %+v, %v", id, err)
	}
	pemFile := writeFile(t, "key.pem", []byte(publicPEM(t, k.ed)))
	newVerifier(t, tier.JWTConfig{PublicKeys: []tier.PublicKey{{File: pemFile}}})

	bad := map[string]tier.JWTConfig{
		"short secret":       {HMACSecrets: []tier.HMACSecret{{Secret: "too short"}}},
		"alg none listed":    {Algorithms: []string{"none"}, HMACSecrets: []tier.HMACSecret{{Secret: string(k.hmac)}}},
		"private key":        {PublicKeys: []tier.PublicKey{{PEM: privatePEM(t, k.rsa)}}},
		"HS256 on RSA key":   {PublicKeys: []tier.PublicKey{{PEM: publicPEM(t, k.rsa), Algorithms: []string{"HS256"}}}},
		"duplicate kid":      {HMACSecrets: []tier.HMACSecret{{KeyID: "a", Secret: string(k.hmac)}}, PublicKeys: []tier.PublicKey{{KeyID: "a", PEM: publicPEM(t, k.ed)}}},
		"missing file":       {PublicKeys: []tier.PublicKey{{File: "/nonexistent/key.pem"}}},
		"not PEM":            {PublicKeys: []tier.PublicKey{{PEM: "hello"}}},
		"negative leeway":    {Leeway: -time.Second},
		"ES384 on P-256 key": {PublicKeys: []tier.PublicKey{{PEM: publicPEM(t, k.ec256), Algorithms: []string{"ES384"}}}},
	}
	for name, cfg := range bad {
		if v, err := tier.NewVerifier(cfg); err == nil {
			v.Close()
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestErrorJSON: what a client sees is {code, message}; details stay on the server.
func TestErrorJSON(t *testing.T) {
	b, err := json.Marshal(&tier.Error{Code: tier.AuthKeyUnknown, Message: tier.AuthKeyUnknown.Message(), Details: "kid xyz"})
	if err != nil || string(b) != `{"code":"AUTH_KEY_UNKNOWN","message":"token signing key unknown"}` {
		t.Errorf("%s, %v", b, err)
	}
}

func BenchmarkVerify(b *testing.B) {
	k := getKeys(b)
	v := newVerifier(b, baseConfig(b))
	for _, c := range []struct {
		name string
		tok  string
	}{
		{"HS256", mint(b, jwt.SigningMethodHS256, k.hmac, "hs", claims("bench-user"))},
		{"RS256", mint(b, jwt.SigningMethodRS256, k.rsa, "rsa", claims("bench-user"))},
		{"ES256", mint(b, jwt.SigningMethodES256, k.ec256, "ec256", claims("bench-user"))},
		{"EdDSA", mint(b, jwt.SigningMethodEdDSA, k.ed, "ed", claims("bench-user"))},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v.Verify(c.tok); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
