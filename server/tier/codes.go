package tier

import "github.com/riptide-io/riptide/server/engine"

// Code names why the tier refused something. A client sees it as err.data.code of a
// connect_error, or as the code of an "error" event; the codes and their messages are the
// table in docs/tier.md. Codes are stable: clients branch on them, so a code is never
// renamed or reused for another refusal. Messages are fixed texts that say what the client
// can fix; they never carry a library's error text, a key or a claim value.
type Code string

// Authentication (JWT) refusals: see docs/tier.md, "Authentication (JWT)".
const (
	// No token where the configuration looks for one (auth.token, and the Authorization
	// header or query parameter when enabled).
	AuthTokenMissing Code = "AUTH_TOKEN_MISSING"
	// Not a JWT: wrong number of segments, bad base64 or JSON, a claim of the wrong type,
	// or longer than MaxTokenBytes.
	AuthTokenMalformed Code = "AUTH_TOKEN_MALFORMED"
	// The token's alg is not one the configuration allows, or not one the key it names
	// (kid) was configured for: "none", an unknown alg, and algorithm confusion (an HS256
	// token presented where only RSA keys are trusted, a kid naming an RSA key with alg
	// HS256).
	AuthAlgNotAllowed Code = "AUTH_ALG_NOT_ALLOWED"
	// The token's kid names no configured key, nor one the JWKS endpoint serves.
	AuthKeyUnknown Code = "AUTH_KEY_UNKNOWN"
	// The signature does not verify with any key the token may use.
	AuthSignatureInvalid Code = "AUTH_SIGNATURE_INVALID"
	// exp (plus the leeway) has passed, at connect time or while connected.
	AuthTokenExpired Code = "AUTH_TOKEN_EXPIRED"
	// nbf or iat (minus the leeway) is still in the future.
	AuthTokenNotYetValid Code = "AUTH_TOKEN_NOT_YET_VALID"
	// iss differs from the configured issuer, or is absent while one is required.
	AuthIssuerInvalid Code = "AUTH_ISSUER_INVALID"
	// aud does not contain the configured audience, or is absent while one is required.
	AuthAudienceInvalid Code = "AUTH_AUDIENCE_INVALID"
	// The user-id claim (sub unless configured otherwise) is absent, empty or not a
	// string or number.
	AuthClaimMissing Code = "AUTH_CLAIM_MISSING"
	// The token names keys served by the JWKS endpoint, and no key set was ever fetched
	// from it (the endpoint has been unreachable since start). A set fetched once is kept
	// while the endpoint is down, so this code means "never", not "right now".
	AuthUnavailable Code = "AUTH_UNAVAILABLE"
)

// Connection refusals and disconnects of the tier's limits: see docs/tier.md.
const (
	// The server holds engine.Options.MaxSessions sessions (HTTP 503 on the handshake).
	ConnLimitNode Code = engine.CodeConnLimitNode
	// The client's address holds engine.Options.MaxSessionsPerAddress sessions (HTTP 429).
	ConnLimitAddress Code = engine.CodeConnLimitAddress
	// The user (the token's user id) already has Limits.MaxPerUser sockets on this node.
	ConnLimitUser Code = "CONN_LIMIT_USER"
	// No event from the client for Limits.IdleTimeout: the socket gets this as an "error"
	// event and is disconnected (heartbeats do not count).
	IdleTimeout Code = "IDLE_TIMEOUT"
)

// messages holds the one text each code is sent with.
var messages = map[Code]string{
	AuthTokenMissing:     "authentication token required",
	AuthTokenMalformed:   "authentication token is malformed",
	AuthAlgNotAllowed:    "token signing algorithm not allowed",
	AuthKeyUnknown:       "token signing key unknown",
	AuthSignatureInvalid: "token signature invalid",
	AuthTokenExpired:     "token expired",
	AuthTokenNotYetValid: "token not yet valid",
	AuthIssuerInvalid:    "token issuer not accepted",
	AuthAudienceInvalid:  "token audience not accepted",
	AuthClaimMissing:     "token has no user id claim",
	AuthUnavailable:      "authentication temporarily unavailable",
	ConnLimitNode:        "the server is at its connection limit",
	ConnLimitAddress:     "too many connections from this address",
	ConnLimitUser:        "too many connections for this user",
	IdleTimeout:          "disconnected after a period without activity",
}

// Message returns the code's fixed human text ("" for an unknown code).
func (c Code) Message() string { return messages[c] }

// Error is a refusal as the client sees it: {"code":..., "message":...}. Details is for
// the server's log only (which key, which claim, the library's text) and is never sent.
type Error struct {
	Code    Code   `json:"code"`
	Message string `json:"message"`
	Details string `json:"-"`
}

// Error implements error: the code and message, without the details.
func (e *Error) Error() string { return string(e.Code) + ": " + e.Message }

// newError returns the code's error with details for the log.
func newError(c Code, details string) *Error {
	return &Error{Code: c, Message: c.Message(), Details: details}
}

// errs holds one shared *Error per code, for refusals with nothing to log: a flood of bad
// tokens does not allocate an error each.
var errs = func() map[Code]*Error {
	m := make(map[Code]*Error, len(messages))
	for c, msg := range messages {
		m[c] = &Error{Code: c, Message: msg}
	}
	return m
}()
