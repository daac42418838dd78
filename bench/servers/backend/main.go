// Command backend is the application backend of the bench's proxied servers
// (riptide-proxy and node-proxy): the least a backend can do, so that what
// the bench measures is the cost of handing an event over HTTP, not the
// backend's work. It answers every POST of riptide's event proxy shape
// ({"socket": {...}, "event": "ping", "args": [...], "ack": true}) with
// {"ack": <the request's args>}, the echo of the event, over HTTP/1.1 with
// keep-alive (net/http's default: a connection stays open between requests,
// with no idle timeout). It checks no signature: neither server signs.
//
// GET answers {"requests": N}, the events answered so far, so the bench can
// check that every round trip went through the backend.
//
// Usage: backend [--addr 127.0.0.1:0]; prints {"port":N} on stdout once
// listening and exits on SIGTERM/SIGINT.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"
)

// maxBody bounds a request's body, as riptide's backend.max_reply_bytes
// bounds the reply.
const maxBody = 1 << 20

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	flag.Parse()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("{\"port\":%d}\n", ln.Addr().(*net.TCPAddr).Port)
	srv := &http.Server{Handler: new(echo), ReadHeaderTimeout: 10 * time.Second}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	go func() { <-sig; srv.Close() }()
	if err := srv.Serve(ln); err != http.ErrServerClosed {
		log.Fatal(err)
	}
}

// echo is the handler; it counts the events it answered.
type echo struct{ requests atomic.Int64 }

func (e *echo) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"requests":` + strconv.FormatInt(e.requests.Load(), 10) + "}"))
		return
	}
	if r.Method != http.MethodPost {
		http.Error(w, "POST an event", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	var req struct {
		Args json.RawMessage `json:"args"`
	}
	if err == nil {
		err = json.Unmarshal(body, &req)
	}
	if err != nil || len(req.Args) == 0 || req.Args[0] != '[' {
		http.Error(w, "want {\"args\": [...]}", http.StatusBadRequest)
		return
	}
	e.requests.Add(1)
	w.Header().Set("Content-Type", "application/json")
	reply := make([]byte, 0, len(req.Args)+8)
	reply = append(append(append(reply, `{"ack":`...), req.Args...), '}')
	_, _ = w.Write(reply)
}
