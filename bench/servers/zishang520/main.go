// Command zishang520 is a peer server for riptide's bench tool: the Go port
// github.com/zishang520/socket.io v3 (servers/socket/v3) with default
// options (pingInterval 25 s, pingTimeout 20 s, path /socket.io/), running
// the same default protocol as cmd/riptide:
//
//	"join"    (room, ack)         the socket joins room; ack()
//	"leave"   (room, ack)         the socket leaves room; ack()
//	"publish" (room, event, ...)  everyone in room except the sender gets event(...)
//	"ping"    (..., ack)          ack(...)
//
// It lives in its own module so that its dependencies never enter riptide's
// go.mod. Usage: zishang520 [--port N] [--host H]; prints {"port":N} on
// stdout once listening and exits on SIGTERM/SIGINT.
package main

import (
	"encoding/json"
	"flag"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"

	"github.com/zishang520/socket.io/servers/socket/v3"
)

func main() {
	host := flag.String("host", "127.0.0.1", "listen host")
	port := flag.Int("port", 0, "listen port (0: any free port)")
	flag.Parse()

	io := socket.NewServer(nil, nil)
	io.On("connection", func(clients ...any) {
		s := clients[0].(*socket.Socket)
		s.On("join", func(args ...any) {
			if room, ok := arg[string](args, 0); ok {
				s.Join(socket.Room(room))
			}
			ack(args, nil)
		})
		s.On("leave", func(args ...any) {
			if room, ok := arg[string](args, 0); ok {
				s.Leave(socket.Room(room))
			}
			ack(args, nil)
		})
		s.On("ping", func(args ...any) {
			if n := len(args); n > 0 {
				if fn, ok := args[n-1].(socket.Ack); ok {
					fn(args[:n-1], nil)
				}
			}
		})
		s.On("publish", func(args ...any) {
			room, ok1 := arg[string](args, 0)
			event, ok2 := arg[string](args, 1)
			if ok1 && ok2 {
				rest := args[2:]
				if n := len(rest); n > 0 {
					if _, isAck := rest[n-1].(socket.Ack); isAck {
						rest = rest[:n-1]
					}
				}
				_ = s.To(socket.Room(room)).Emit(event, rest...)
			}
		})
	})

	ln, err := net.Listen("tcp", net.JoinHostPort(*host, strconv.Itoa(*port)))
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", io.ServeHandler(nil))
	go func() {
		if err := http.Serve(ln, mux); err != nil {
			log.Fatal(err)
		}
	}()
	_ = json.NewEncoder(os.Stdout).Encode(map[string]int{"port": ln.Addr().(*net.TCPAddr).Port})

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
	os.Exit(0)
}

// arg returns args[i] as a T.
func arg[T any](args []any, i int) (T, bool) {
	var zero T
	if i >= len(args) {
		return zero, false
	}
	v, ok := args[i].(T)
	return v, ok
}

// ack calls the acknowledgement callback, if the client asked for one (it
// is then the last argument), with reply.
func ack(args []any, reply []any) {
	if n := len(args); n > 0 {
		if fn, ok := args[n-1].(socket.Ack); ok {
			fn(reply, nil)
		}
	}
}
