package tier

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/riptide-io/riptide/codec/sio"
	"github.com/riptide-io/riptide/server"
	"github.com/riptide-io/riptide/server/internal/deadline"
)

// JWTConfig configures a Verifier. The zero value accepts no token: deny by default, a
// verifier trusts only the keys it is given.
type JWTConfig struct {
	// Algorithms accepted, e.g. ["RS256","ES256"]. Empty: every algorithm the configured
	// keys can verify (HMAC secrets: HS256/384/512; RSA: RS256/384/512 and PS256/384/512;
	// EC: the ES alg of its curve; Ed25519: EdDSA; a JWKS: all asymmetric ones). "none" is
	// never accepted. A key verifies only the algorithms of its own family, whatever this
	// list says, so an RSA public key is never used as an HMAC secret.
	Algorithms []string
	// HMACSecrets are shared secrets, at least 32 bytes each.
	HMACSecrets []HMACSecret
	// PublicKeys are RSA (2048 bits or more), EC (P-256, P-384, P-521) or Ed25519 keys.
	PublicKeys []PublicKey
	// JWKS fetches further public keys from an endpoint (URL "" for none).
	JWKS JWKSConfig
	// Leeway tolerates clock skew on exp, nbf and iat; default 0.
	Leeway time.Duration
	// Issuer, when set, must equal the token's iss.
	Issuer string
	// Audience, when set, must be one of the token's aud values.
	Audience string
	// UserClaim names the claim holding the user id; default "sub". A string or a number.
	UserClaim string
	// KeepClaims keeps the token's claims JSON on the Identity (for policies that read
	// custom claims); off by default, because every connected socket holds it.
	KeepClaims bool
	// AuthField is the member of the CONNECT auth object holding the token
	// (socket.io-client's `auth: {token}`); default "token".
	AuthField string
	// BearerHeader also takes the token from "Authorization: Bearer <token>" of the
	// handshake request; off by default. Browsers cannot set it on a WebSocket.
	BearerHeader bool
	// QueryParam, when set, also takes the token from that query parameter of the
	// handshake URL; off by default, since URLs end up in proxy logs.
	QueryParam string
	// ExpiryGrace: a socket whose token expires while connected gets an "error" event
	// with AUTH_TOKEN_EXPIRED and is disconnected at exp + Leeway + ExpiryGrace; default 0.
	ExpiryGrace time.Duration
	// Logger gets the details of refusals at debug level; default slog.Default().
	Logger *slog.Logger
}

// HMACSecret is a shared secret, inline or read from File (trailing newlines trimmed).
type HMACSecret struct {
	KeyID      string // matched against the token's kid; "" matches tokens without kid too
	Secret     string
	File       string
	Algorithms []string // narrows the key to these algorithms; empty: HS256/384/512
}

// PublicKey is a PEM public key (PUBLIC KEY, RSA PUBLIC KEY or CERTIFICATE), inline or
// read from File.
type PublicKey struct {
	KeyID      string
	PEM        string
	File       string
	Algorithms []string // narrows the key to these algorithms; empty: its family's
}

// MaxTokenBytes bounds a token; a longer one is AUTH_TOKEN_MALFORMED before any parsing.
const MaxTokenBytes = 8 << 10

// Verifier checks tokens and owns the deadline wheel that disconnects sockets whose token
// expires. Safe for concurrent use. Close it when done.
type Verifier struct {
	cfg     JWTConfig
	allowed algSet
	static  map[string]*key                      // configured keys with a kid
	byAlg   [len(algNames)][]jwt.VerificationKey // configured keys that may verify each alg
	jwks    *jwks                                // nil without a JWKS URL
	parser  *jwt.Parser
	wheel   *deadline.Wheel
	log     *slog.Logger
	hooked  sync.Map // *server.Namespace -> struct{}: namespaces whose disconnects stop expiry timers
}

// NewVerifier checks cfg and loads its keys. An error names the key or field at fault.
func NewVerifier(cfg JWTConfig) (*Verifier, error) {
	if cfg.UserClaim == "" {
		cfg.UserClaim = "sub"
	}
	if cfg.AuthField == "" {
		cfg.AuthField = "token"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Leeway < 0 || cfg.ExpiryGrace < 0 {
		return nil, errors.New("tier: Leeway and ExpiryGrace must not be negative")
	}
	listed, err := parseAlgs(cfg.Algorithms)
	if err != nil {
		return nil, fmt.Errorf("tier: Algorithms: %w", err)
	}
	v := &Verifier{cfg: cfg, static: map[string]*key{}, log: cfg.Logger}
	var keys []*key
	for i, h := range cfg.HMACSecrets {
		k, err := loadHMAC(h)
		if err != nil {
			return nil, fmt.Errorf("tier: HMACSecrets[%d]: %w", i, err)
		}
		keys = append(keys, k)
	}
	for i, p := range cfg.PublicKeys {
		k, err := loadPublic(p)
		if err != nil {
			return nil, fmt.Errorf("tier: PublicKeys[%d]: %w", i, err)
		}
		keys = append(keys, k)
	}
	var families algSet
	for _, k := range keys {
		families |= k.algs
	}
	if cfg.JWKS.URL != "" {
		families |= allAsymm
	}
	v.allowed = families
	if len(cfg.Algorithms) > 0 {
		v.allowed &= listed
	}
	for _, k := range keys {
		k.algs &= v.allowed
		if k.kid != "" {
			if v.static[k.kid] != nil {
				return nil, fmt.Errorf("tier: key id %q configured twice", k.kid)
			}
			v.static[k.kid] = k
		}
		v.byAlg = addByAlg(v.byAlg, k)
	}
	if cfg.JWKS.URL != "" {
		v.jwks = newJWKS(cfg.JWKS, v.allowed&allAsymm)
	}
	// iss and aud are checked by claims.Validate, not WithIssuer/WithAudience: the library
	// reports a missing iss and a missing aud with the same sentinel.
	v.parser = jwt.NewParser(jwt.WithLeeway(cfg.Leeway), jwt.WithIssuedAt())
	v.wheel = deadline.New(1)
	return v, nil
}

// Close stops the expiry wheel: sockets connected afterwards are not disconnected at exp.
func (v *Verifier) Close() { v.wheel.Close() }

// Algorithms returns the accepted algorithms, e.g. "HS256,RS256" ("" accepts nothing).
func (v *Verifier) Algorithms() string { return v.allowed.String() }

// Refresh fetches the JWKS now (a no-op without one), so the first clients do not wait for
// it; a program may call it at start and log a failure. Bounded by JWKSConfig.Timeout.
func (v *Verifier) Refresh(ctx context.Context) error {
	if v.jwks == nil {
		return nil
	}
	return v.jwks.Refresh(ctx)
}

// PendingExpiries returns how many connected sockets have an expiry armed (for metrics
// and tests).
func (v *Verifier) PendingExpiries() int { return v.wheel.Len() }

// JWKSStats returns how many JWKS fetches were tried and how many failed.
func (v *Verifier) JWKSStats() (requests, failures int64) {
	if v.jwks == nil {
		return 0, 0
	}
	return v.jwks.requests.Load(), v.jwks.failures.Load()
}

func loadHMAC(h HMACSecret) (*key, error) {
	secret := []byte(h.Secret)
	if h.File != "" {
		if h.Secret != "" {
			return nil, errors.New("set Secret or File, not both")
		}
		b, err := os.ReadFile(h.File)
		if err != nil {
			return nil, err
		}
		secret = []byte(strings.TrimRight(string(b), "\r\n"))
	}
	if len(secret) < minHMACBytes {
		return nil, fmt.Errorf("secret of %d bytes; at least %d required", len(secret), minHMACBytes)
	}
	algs, err := narrow(hmacAlgs, h.Algorithms)
	return &key{kid: h.KeyID, pub: secret, algs: algs}, err
}

func loadPublic(p PublicKey) (*key, error) {
	text := []byte(p.PEM)
	if p.File != "" {
		if p.PEM != "" {
			return nil, errors.New("set PEM or File, not both")
		}
		b, err := os.ReadFile(p.File)
		if err != nil {
			return nil, err
		}
		text = b
	}
	pub, err := parsePEM(text)
	if err != nil {
		return nil, err
	}
	family, err := familyOf(pub)
	if err != nil {
		return nil, err
	}
	algs, err := narrow(family, p.Algorithms)
	return &key{kid: p.KeyID, pub: pub, algs: algs}, err
}

// narrow pins a key to the listed algorithms, which must belong to its family.
func narrow(family algSet, names []string) (algSet, error) {
	if len(names) == 0 {
		return family, nil
	}
	s, err := parseAlgs(names)
	if err != nil {
		return 0, err
	}
	if s&^family != 0 {
		return 0, fmt.Errorf("algorithms %s do not fit this key (it can verify %s)", s&^family, family)
	}
	return s, nil
}

// Verify checks a token and returns the identity it proves. A refusal is an *Error.
// Safe for concurrent use; it may block up to JWKSConfig.Timeout when the token needs
// keys that must be fetched.
func (v *Verifier) Verify(token string) (*Identity, error) {
	if token == "" {
		return nil, errs[AuthTokenMissing]
	}
	if len(token) > MaxTokenBytes {
		return nil, errs[AuthTokenMalformed]
	}
	c := claims{cfg: &v.cfg}
	_, err := v.parser.ParseWithClaims(token, &c, v.keyFor)
	if err != nil {
		return nil, v.classify(err)
	}
	id := &Identity{User: c.user, Claims: c.raw}
	if c.ExpiresAt != nil {
		id.Exp = c.ExpiresAt.Unix()
	}
	return id, nil
}

// keyFor is the jwt.Keyfunc: it pins the token's alg to the allowed set and to the key it
// names, and returns the key or the keys of that alg (golang-jwt then also checks the
// key's Go type against the method, a second guard against algorithm confusion).
func (v *Verifier) keyFor(t *jwt.Token) (any, error) {
	alg := algBit(t.Method.Alg())
	if alg == 0 || v.allowed&alg == 0 {
		return nil, errs[AuthAlgNotAllowed]
	}
	if kid, ok := t.Header["kid"].(string); ok && kid != "" {
		k := v.static[kid]
		if k == nil && v.jwks != nil {
			var set *keySet
			if k, set = v.jwks.lookup(kid); set == nil {
				return nil, errs[AuthUnavailable]
			}
		}
		if k == nil {
			return nil, newError(AuthKeyUnknown, "kid "+strconv.Quote(kid))
		}
		if k.algs&alg == 0 {
			return nil, newError(AuthAlgNotAllowed, fmt.Sprintf("kid %q verifies %s, token has %s", kid, k.algs, t.Method.Alg()))
		}
		return k.pub, nil
	}
	i := algIndex(alg)
	keys := v.byAlg[i]
	if v.jwks != nil && alg&allAsymm != 0 {
		set := v.jwks.current()
		if set == nil && len(keys) == 0 {
			return nil, errs[AuthUnavailable]
		}
		if set != nil && len(set.byAlg[i]) > 0 {
			keys = append(keys[:len(keys):len(keys)], set.byAlg[i]...)
		}
	}
	switch len(keys) {
	case 0:
		return nil, errs[AuthKeyUnknown]
	case 1:
		return keys[0], nil
	}
	return jwt.VerificationKeySet{Keys: keys}, nil
}

func algIndex(b algSet) int {
	for i := range algNames {
		if b == 1<<i {
			return i
		}
	}
	return -1
}

// classify maps golang-jwt's errors to codes. Faults found before the signature was checked
// (our keyfunc's refusals, malformed input, an unusable alg, a bad signature) come first;
// the library joins the claim faults, and then time wins over our own claim checks (issuer,
// audience, user id), which report one fault each.
func (v *Verifier) classify(err error) *Error {
	var e *Error
	if !errors.Is(err, jwt.ErrTokenInvalidClaims) {
		switch {
		case errors.As(err, &e):
			return e
		case errors.Is(err, jwt.ErrTokenMalformed):
			return errs[AuthTokenMalformed]
		case errors.Is(err, jwt.ErrTokenUnverifiable): // alg unknown or unspecified
			return errs[AuthAlgNotAllowed]
		case errors.Is(err, jwt.ErrTokenSignatureInvalid):
			return errs[AuthSignatureInvalid]
		}
	} else {
		switch {
		case errors.Is(err, jwt.ErrTokenExpired):
			return errs[AuthTokenExpired]
		case errors.Is(err, jwt.ErrTokenNotValidYet), errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
			return errs[AuthTokenNotYetValid]
		case errors.As(err, &e):
			return e
		}
	}
	// Not expected: every golang-jwt error is mapped above. Debug, not Warn: clients choose
	// their tokens, and a log level they can flood would be theirs too.
	v.log.Debug("tier: unclassified token error", "err", err)
	return errs[AuthTokenMalformed]
}

// TokenOf finds the socket's token: the CONNECT auth's AuthField, then (when enabled) the
// Authorization header, then the query parameter. "" when none is there.
func (v *Verifier) TokenOf(s *server.Socket) string {
	h := s.Handshake()
	if raw, ok := sio.ObjectField(h.Auth, v.cfg.AuthField); ok && len(raw) > 0 && raw[0] == '"' {
		if b, err := sio.AppendUnquote(nil, raw); err == nil && len(b) > 0 {
			return string(b)
		}
	}
	if v.cfg.BearerHeader {
		a := h.Headers.Get("Authorization")
		if len(a) > 7 && strings.EqualFold(a[:7], "bearer ") {
			return strings.TrimSpace(a[7:])
		}
	}
	if v.cfg.QueryParam != "" {
		if t := h.Query.Get(v.cfg.QueryParam); t != "" {
			return t
		}
	}
	return ""
}

// Auth returns the connection middleware: a socket without a valid token is refused with a
// connect_error whose data is {code, message}; an accepted one gets its Identity (see
// IdentityOf) and is disconnected when the token expires. Register it first, with
// io.Use(tier.Auth(v)) or nsp.Use, so later middlewares can rely on IdentityOf.
//
// With connection state recovery, set Recovery.RunMiddlewares: otherwise a recovered socket
// skips this middleware and keeps the data of its first connection without an expiry timer.
func Auth(v *Verifier) func(*server.Socket) error {
	return func(s *server.Socket) error {
		id, err := v.Verify(v.TokenOf(s))
		if err != nil {
			e := err.(*Error)
			v.log.Debug("tier: connection refused", "code", e.Code, "nsp", s.Namespace().Name(), "details", e.Details)
			return connectError(e)
		}
		v.attach(s, id)
		s.SetHandshakeAuth(withoutField(s.HandshakeAuth(), v.cfg.AuthField))
		return nil
	}
}

// withoutField returns the JSON object auth without its member field (the token, once
// verified), or auth itself when it has no such member.
// emptyObject is the auth of every socket whose auth held only its token. Shared: the
// socket's auth is read-only (Socket.HandshakeAuth).
var emptyObject = json.RawMessage("{}")

func withoutField(auth json.RawMessage, field string) json.RawMessage {
	if _, ok := sio.ObjectField(auth, field); !ok {
		return auth
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(auth, &m) != nil {
		return auth
	}
	delete(m, field)
	if len(m) == 0 {
		return emptyObject // the usual auth, {token} alone: no allocation kept per socket
	}
	out, err := json.Marshal(m)
	if err != nil {
		return auth
	}
	return out
}
