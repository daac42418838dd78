package adminui

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/riptide-io/riptide/server"
)

// errInvalidCredentials is what the UI is told: it shows its own text for this message.
var errInvalidCredentials = &server.ConnectError{Message: "invalid credentials"}

// authenticator checks the UI's credentials and issues its session ids.
//
// Session ids are signed, not stored: an expiry and an HMAC of it, keyed by the username and
// the password hash. Every node of a cluster configured alike accepts every other node's
// session ids without a shared store (the Node package needs its RedisStore for that),
// nothing grows with logins, and changing the password ends every session.
type authenticator struct {
	username string
	hash     []byte
	key      []byte
	ttl      time.Duration
}

func newAuthenticator(username, hash string, ttl time.Duration) (*authenticator, error) {
	if username == "" || hash == "" {
		return nil, ErrNoAuth
	}
	if _, err := bcrypt.Cost([]byte(hash)); err != nil {
		return nil, ErrBadHash
	}
	mac := hmac.New(sha256.New, []byte("riptide admin-ui session"))
	mac.Write([]byte(username))
	mac.Write([]byte{0})
	mac.Write([]byte(hash))
	return &authenticator{username: username, hash: []byte(hash), key: mac.Sum(nil), ttl: ttl}, nil
}

// sessionSize is the expiry (8 bytes) and the truncated MAC (16 bytes).
const sessionSize = 8 + 16

// newSession returns a session id valid until now+ttl, as hex.
func (a *authenticator) newSession(now time.Time) string {
	var b [sessionSize]byte
	binary.BigEndian.PutUint64(b[:8], uint64(now.Add(a.ttl).Unix()))
	copy(b[8:], a.sign(b[:8]))
	return hex.EncodeToString(b[:])
}

func (a *authenticator) sign(expiry []byte) []byte {
	mac := hmac.New(sha256.New, a.key)
	mac.Write(expiry)
	return mac.Sum(nil)[:16]
}

// validSession reports whether id is a session id of this authenticator, not expired.
func (a *authenticator) validSession(id string, now time.Time) bool {
	var b [sessionSize]byte
	if len(id) != 2*sessionSize {
		return false
	}
	if _, err := hex.Decode(b[:], []byte(id)); err != nil {
		return false
	}
	if !hmac.Equal(b[8:], a.sign(b[:8])) {
		return false
	}
	return now.Unix() < int64(binary.BigEndian.Uint64(b[:8]))
}

// credentials is the auth payload of the UI's CONNECT.
type credentials struct {
	SessionID string `json:"sessionId,omitempty"`
	Username  string `json:"username,omitempty"`
	Password  string `json:"password,omitempty"`
}

// check reports whether c is a valid session or the right username and password. The
// password is checked with bcrypt even for a wrong username, so the answer takes as long
// either way.
func (a *authenticator) check(c *credentials, now time.Time) bool {
	if c.SessionID != "" && a.validSession(c.SessionID, now) {
		return true
	}
	if c.Password == "" {
		return false
	}
	userOK := subtle.ConstantTimeCompare([]byte(c.Username), []byte(a.username)) == 1
	passOK := bcrypt.CompareHashAndPassword(a.hash, []byte(c.Password)) == nil
	return userOK && passOK
}

// authenticate is the admin namespace's middleware. It runs on a worker: bcrypt's deliberate
// slowness (tens of milliseconds at cost 10) delays this connection only. The socket keeps
// only a fresh session id in place of the password, which onAdmin sends to the UI.
func (u *UI) authenticate(s *server.Socket) error {
	if u.closed.Load() {
		return &server.ConnectError{Message: "admin UI closed"}
	}
	if u.auth == nil {
		return nil
	}
	var c credentials
	_ = json.Unmarshal(s.HandshakeAuth(), &c)
	now := time.Now()
	if !u.auth.check(&c, now) {
		return errInvalidCredentials
	}
	auth, _ := json.Marshal(credentials{SessionID: u.auth.newSession(now)})
	s.SetHandshakeAuth(auth)
	return nil
}
