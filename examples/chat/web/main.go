// Command web is the chat demo in a browser: riptide as the realtime tier of a chat app,
// configured by deploy/riptide.chat.yaml, and a page that uses the official socket.io-client
// browser bundle. One command from the repository:
//
//	go run ./examples/chat/web            # then open http://127.0.0.1:8080
//
// It builds cmd/riptide and starts it beside itself with that configuration and a fresh HS256
// secret (RIPTIDE_AUTH_JWT_HMAC_SECRET), and serves what the chat app keeps for itself: the
// page (static/, embedded) and POST /token {name} -> {token, tierPort}, a one-hour JWT whose
// sub is the name. The browser then talks to riptide directly, over WebSocket or polling
// (riptide answers the page's origin with CORS), as it would in production. Open the page in
// several tabs; add ?transport=polling (or websocket) to pin one transport.
package main

import (
	"context"
	"crypto/rand"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/golang-jwt/jwt/v5"
)

//go:embed static
var static embed.FS

// tokenTTL is a token's lifetime. The page fetches a new token for every connection attempt,
// so a socket whose token expires (riptide says AUTH_TOKEN_EXPIRED and disconnects it)
// comes back at once with a fresh one.
const tokenTTL = time.Hour

// maxName bounds a user name, in characters.
const maxName = 32

// options are the demo's settings; the zero value of each field is its default.
type options struct {
	Addr     string    // the page's address; default 127.0.0.1:8080
	TierAddr string    // riptide's address; default the page's host, any free port
	Riptide  string    // the riptide binary; default: built from this module
	Config   string    // riptide's configuration; default deploy/riptide.chat.yaml
	Log      io.Writer // riptide's log lines and the demo's; default os.Stderr
}

// demo is a running demo: the page's HTTP server and riptide beside it.
type demo struct {
	secret []byte
	tier   *tierProc
	ln     net.Listener
	srv    *http.Server
	served chan error
}

func main() {
	var o options
	flag.StringVar(&o.Addr, "addr", "127.0.0.1:8080", "the page's listen address")
	flag.StringVar(&o.TierAddr, "tier-addr", "", "riptide's listen address (default: the page's host, any free port)")
	flag.StringVar(&o.Riptide, "riptide", "", "a riptide binary to run (default: go build ./cmd/riptide)")
	flag.StringVar(&o.Config, "config", "", "riptide's configuration file (default: deploy/riptide.chat.yaml)")
	flag.Parse()
	d, err := start(o)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("chat demo: open %s (riptide at %s)\n", d.URL(), d.tier.addr)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	select {
	case <-ctx.Done():
	case <-d.tier.done:
		err = fmt.Errorf("riptide exited: %v", d.tier.err)
	case err = <-d.served:
	}
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		log.Fatal(err)
	}
}

// start listens for the page, then starts riptide with the page's origins allowed.
func start(o options) (*demo, error) {
	if o.Addr == "" {
		o.Addr = "127.0.0.1:8080"
	}
	if o.Log == nil {
		o.Log = os.Stderr
	}
	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return nil, err
	}
	host, port, _ := net.SplitHostPort(ln.Addr().String())
	if o.TierAddr == "" {
		h, _, _ := net.SplitHostPort(o.Addr)
		o.TierAddr = net.JoinHostPort(h, "0")
	}
	key := make([]byte, 32)
	_, _ = rand.Read(key) // never fails (crypto/rand)
	secret := hex.EncodeToString(key)
	d := &demo{secret: []byte(secret), ln: ln, served: make(chan error, 1)} // riptide keys on the text
	d.tier, err = startTier(o, []string{
		"RIPTIDE_AUTH_JWT_HMAC_SECRET=" + secret,
		"RIPTIDE_LISTEN_ADDR=" + o.TierAddr,
		"RIPTIDE_LISTEN_CORS_ORIGINS=" + strings.Join(origins(host, port), ","),
	})
	if err != nil {
		ln.Close()
		return nil, err
	}
	pages, _ := fs.Sub(static, "static")
	mux := http.NewServeMux()
	mux.Handle("GET /", http.FileServerFS(pages))
	mux.HandleFunc("POST /token", d.token)
	d.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { d.served <- d.srv.Serve(ln) }()
	return d, nil
}

// origins are the page's origins that riptide must allow for polling (browsers send CORS
// requests for it; WebSocket needs none). On a loopback address the page may be opened by
// name or by number; on any other, the demo cannot know the name, so any origin is allowed.
func origins(host, port string) []string {
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return []string{"http://" + net.JoinHostPort(host, port), "http://localhost:" + port}
	}
	return []string{"*"}
}

// URL is the page's address.
func (d *demo) URL() string { return "http://" + d.ln.Addr().String() + "/" }

// Close stops the page's server, then riptide.
func (d *demo) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := d.srv.Shutdown(ctx)
	if terr := d.tier.stop(); err == nil {
		err = terr
	}
	return err
}

// token is the chat app's sign-in: a name in, a JWT for riptide out. A real app would check a
// password or a session here; the demo trusts the name, and the user id is the name.
func (d *demo) token(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Name string `json:"name"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1024)).Decode(&req); err != nil {
		reply(w, http.StatusBadRequest, map[string]any{"error": "send a JSON object {name}"})
		return
	}
	name := strings.TrimSpace(req.Name)
	if err := checkName(name); err != nil {
		reply(w, http.StatusBadRequest, map[string]any{"error": err.Error()})
		return
	}
	now := time.Now()
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"sub": name, "iat": now.Unix(), "exp": now.Add(tokenTTL).Unix(),
	}).SignedString(d.secret)
	if err != nil {
		reply(w, http.StatusInternalServerError, map[string]any{"error": "signing failed"})
		return
	}
	_, port, _ := net.SplitHostPort(d.tier.addr)
	p, _ := strconv.Atoi(port)
	reply(w, http.StatusOK, map[string]any{"token": tok, "tierPort": p})
}

var (
	errNameLength = fmt.Errorf("a name has 1 to %d characters", maxName)
	errNameChars  = errors.New("a name has letters, digits, spaces and punctuation only")
)

func checkName(name string) error {
	if n := utf8.RuneCountInString(name); n < 1 || n > maxName {
		return errNameLength
	}
	for _, c := range name {
		if !unicode.IsPrint(c) {
			return errNameChars
		}
	}
	return nil
}

func reply(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
