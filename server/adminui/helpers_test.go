package adminui_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/riptide-io/riptide/internal/nodetest"
	"github.com/riptide-io/riptide/internal/servetest"
	"github.com/riptide-io/riptide/server"
	"github.com/riptide-io/riptide/server/adminui"
	"github.com/riptide-io/riptide/server/engine"
)

// The admin credentials of the tests. The hash was made by the bcryptjs npm package (the one
// the Node admin UI server uses: `require("bcryptjs").hashSync("s3cret-admin", 4)`), so the
// tests also show that its $2a$ hashes verify here.
const (
	adminUser = "admin"
	adminPass = "s3cret-admin"
	adminHash = "$2a$04$b11YrwX5VQSNwN1LOrmymeUCjnHM3R1moBbmGa83PODpUOzoKXSt6"
)

// app is the application the UI watches: clients may join and leave rooms and say hello.
func app(io *server.Server) {
	io.On("join", func(s *server.Socket, ev *server.Event) {
		if room, ok := ev.String(0); ok {
			s.Join(room)
		}
		_ = ev.Ack("joined")
	})
	io.On("leave", func(s *server.Socket, ev *server.Event) {
		if room, ok := ev.String(0); ok {
			s.Leave(room)
		}
		_ = ev.Ack("left")
	})
	io.On("hello", func(s *server.Socket, ev *server.Event) { _ = s.Emit("welcome", ev.Args) })
}

// newServer returns a server running app with the admin UI installed (Username, PasswordHash
// and StatsInterval filled in when empty).
func newServer(t testing.TB, opts server.Options, cfg adminui.Config) (*server.Server, *adminui.UI) {
	t.Helper()
	if cfg.Username == "" && !cfg.NoAuth {
		cfg.Username, cfg.PasswordHash = adminUser, adminHash
	}
	if cfg.StatsInterval == 0 {
		cfg.StatsInterval = 200 * time.Millisecond
	}
	io := server.New(opts)
	app(io)
	ui, err := adminui.Install(io, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ui.Close)
	return io, ui
}

// listen serves io on a free port of 127.0.0.1 until the test ends and returns its URL.
func listen(t testing.TB, io *server.Server, cfg engine.ListenConfig) string {
	t.Helper()
	return servetest.Listen(t, io, cfg)
}

// sock is a serialized socket as the UI gets it.
type sock struct {
	ID        string          `json:"id"`
	ClientID  string          `json:"clientId"`
	Transport string          `json:"transport"`
	Nsp       string          `json:"nsp"`
	Data      json.RawMessage `json:"data"`
	Rooms     []string        `json:"rooms"`
	Handshake struct {
		Address string            `json:"address"`
		Headers map[string]string `json:"headers"`
		Query   map[string]any    `json:"query"`
		URL     string            `json:"url"`
		Issued  int64             `json:"issued"`
	} `json:"handshake"`
}

// stats is a server_stats payload.
type stats struct {
	ServerID            string `json:"serverId"`
	Hostname            string `json:"hostname"`
	PID                 int    `json:"pid"`
	Uptime              float64
	ClientsCount        int `json:"clientsCount"`
	PollingClientsCount int `json:"pollingClientsCount"`
	AggregatedEvents    []struct {
		Type    string `json:"type"`
		SubType string `json:"subType"`
		Count   int    `json:"count"`
	} `json:"aggregatedEvents"`
	Namespaces []struct {
		Name         string `json:"name"`
		SocketsCount int    `json:"socketsCount"`
	} `json:"namespaces"`
}

// arg decodes argument i of an expect step's result into v.
func arg(r nodetest.StepResult, i int, v any) error {
	if r.Timeout {
		return fmt.Errorf("timed out")
	}
	if i >= len(r.Args) {
		return fmt.Errorf("%d arguments, want argument %d", len(r.Args), i)
	}
	return json.Unmarshal(r.Args[i], v)
}

// strs decodes the arguments of an expect step as strings (non-strings are left empty).
func strs(r nodetest.StepResult) []string {
	out := make([]string, len(r.Args))
	for i, a := range r.Args {
		_ = json.Unmarshal(a, &out[i])
	}
	return out
}

// wantArgs checks the leading string arguments of an expect step, and that the last one is
// a JavaScript date.
func wantArgs(r nodetest.StepResult, want ...string) error {
	if r.Timeout {
		return fmt.Errorf("timed out")
	}
	got := strs(r)
	if len(got) != len(want)+1 || !slices.Equal(got[:len(want)], want) {
		return fmt.Errorf("got %s, want %q and a date", r.Args, want)
	}
	if _, err := time.Parse(time.RFC3339Nano, got[len(want)]); err != nil {
		return fmt.Errorf("timestamp %q: %v", got[len(want)], err)
	}
	return nil
}

func findSock(socks []sock, id string) *sock {
	for i := range socks {
		if socks[i].ID == id {
			return &socks[i]
		}
	}
	return nil
}
