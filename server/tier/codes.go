package tier

import (
	"sync/atomic"

	"github.com/riptide-io/riptide/server"
	"github.com/riptide-io/riptide/server/engine"
)

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

// Room refusals (join, leave, publish): see docs/tier.md, "Rooms".
const (
	// The room argument is missing, not a string, empty or longer than MaxRoomBytes.
	RoomInvalid Code = "ROOM_INVALID"
	// The room matches no declared pattern: rooms are deny by default.
	RoomUnknown Code = "ROOM_UNKNOWN"
	// The room's pattern does not let this socket join it: it needs an identity, the
	// placeholders do not match the caller's claims, the room is not granted by the
	// caller's claim, the pattern allows server-side joins only, or the room is another
	// socket's own id room.
	RoomForbidden Code = "ROOM_FORBIDDEN"
	// The room holds its pattern's max_members (counted across the cluster).
	RoomFull Code = "ROOM_FULL"
	// Publishing to a room the socket has not joined, where the pattern requires it.
	RoomNotMember Code = "ROOM_NOT_MEMBER"
	// The member store (Redis) did not answer: the join was not made.
	RoomUnavailable Code = "ROOM_UNAVAILABLE"
)

// Event refusals: see docs/tier.md, "Events".
const (
	// Strict mode: the event is not declared.
	EventUnknown Code = "EVENT_UNKNOWN"
	// The event needs a permission the caller's claims do not grant.
	EventForbidden Code = "EVENT_FORBIDDEN"
	// The event's arguments are larger than its max_payload.
	EventTooLarge Code = "EVENT_TOO_LARGE"
	// The event's arguments are not what it takes (e.g. publish without an event name).
	EventInvalid Code = "EVENT_INVALID"
	// Over the event's or the socket's rate; after max_violations of these the socket is
	// disconnected.
	RateLimited Code = "RATE_LIMITED"
)

// Backend refusals (the event, connect and join proxies): see docs/tier.md, "A backend in
// any language". A backend may also refuse with codes of its own.
const (
	// The backend could not be asked or did not answer in time: down, slow, over its
	// in-flight bound, 5xx, or the circuit breaker is open after repeated failures.
	BackendUnavailable Code = "BACKEND_UNAVAILABLE"
	// The backend answered something the tier cannot use: not 2xx, not the expected JSON,
	// over the reply size cap.
	BackendError Code = "BACKEND_ERROR"
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
	RoomInvalid:          "room name missing or invalid",
	RoomUnknown:          "no such room",
	RoomForbidden:        "not allowed to join this room",
	RoomFull:             "room is full",
	RoomNotMember:        "join the room before publishing to it",
	RoomUnavailable:      "rooms temporarily unavailable",
	EventUnknown:         "unknown event",
	EventForbidden:       "not allowed to send this event",
	EventTooLarge:        "event payload too large",
	EventInvalid:         "event arguments invalid",
	RateLimited:          "too many events, slow down",
	BackendUnavailable:   "service temporarily unavailable",
	BackendError:         "service error",
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

// refusals counts the refusals of each code (a fixed set, so the map is read-only after
// init and the counters need no lock).
var refusals = func() map[Code]*atomic.Uint64 {
	m := make(map[Code]*atomic.Uint64, len(messages))
	for c := range messages {
		m[c] = new(atomic.Uint64)
	}
	return m
}()

// counted returns the shared error of code c, counting one refusal.
func counted(c Code) *Error {
	refusals[c].Add(1)
	return errs[c]
}

// count records one refusal with e and returns it.
func count(e *Error) *Error {
	if n := refusals[e.Code]; n != nil {
		n.Add(1)
	}
	return e
}

// EachRefusal calls fn with every code and how many refusals the tier made with it since
// the process started (connect_errors, "error" events and refused acks alike), for
// metrics.
func EachRefusal(fn func(code Code, n uint64)) {
	for c, n := range refusals {
		fn(c, n.Load())
	}
}

// connectError is the connect_error a refused connection gets: err.message is the code's
// message and err.data is {code, message}.
func connectError(e *Error) *server.ConnectError {
	count(e)
	return &server.ConnectError{Message: e.Message, Data: e}
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
