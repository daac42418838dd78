package adminui_test

import (
	"context"
	"flag"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/riptide-io/riptide/internal/nodetest"
	"github.com/riptide-io/riptide/server"
	"github.com/riptide-io/riptide/server/adminui"
	"github.com/riptide-io/riptide/server/engine"
)

// screenshots keeps the browser test's screenshots (admin-ui.png, the dashboard;
// admin-ui-sockets.png; admin-ui-rooms.png) in a directory; by default they go to the test's
// temporary directory. docs/img holds the set docs/admin-ui.md shows, made with
// go test ./server/adminui -run TestBrowser -screenshots ../../docs/img
var screenshots = flag.String("screenshots", "", "directory for the browser test's screenshots")

// TestBrowser runs the real Admin UI (the npm package's static build, unchanged) in headless
// Chromium against riptide: the UI is served by an HTTP server of its own, on another
// origin, as https://admin.socket.io would be. Its connection form is filled in, the
// dashboard, socket list and room list must show the clients, and the disconnect button of
// one of them must disconnect it ("io server disconnect" on the client).
func TestBrowser(t *testing.T) {
	nodetest.Setup(t)
	chromium := nodetest.Chromium(t)

	dist := filepath.Join(nodetest.Dir(), "node_modules", "@socket.io", "admin-ui", "ui", "dist")
	uiLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	uiSrv := &http.Server{Handler: http.FileServer(http.Dir(dist)), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = uiSrv.Serve(uiLn) }()
	t.Cleanup(func() { _ = uiSrv.Close() })
	uiURL := "http://" + uiLn.Addr().String()

	// The UI's origin must pass CORS (with credentials: the UI sends them) for its first,
	// polling requests.
	opts := server.Options{Engine: engine.Options{CORS: &engine.CORS{Origins: []string{uiURL}, Credentials: true}}}
	io, _ := newServer(t, opts, adminui.Config{ServerID: "riptide-1", StatsInterval: time.Second})
	var mu sync.Mutex
	reasons := map[string]server.DisconnectReason{}
	io.Of("/").OnDisconnect(func(s *server.Socket, r server.DisconnectReason) {
		mu.Lock()
		reasons[s.ID()] = r
		mu.Unlock()
	})
	url := listen(t, io, engine.ListenConfig{})

	dir := *screenshots
	if dir == "" {
		dir = t.TempDir()
	}
	dir, _ = filepath.Abs(dir)
	raw := nodetest.Run(t, 170*time.Second, "adminui-browser.js",
		"--ui", uiURL+"/", "--server", url, "--username", adminUser, "--password", adminPass,
		"--server-id", "riptide-1", "--clients", "alice:room-a,bob:room-b,carol:room-a",
		"--disconnect", "bob", "--chromium", chromium, "--screenshots", dir, "--timeout", "150000")
	res := nodetest.Decode[struct {
		IDs              map[string]string `json:"ids"`
		DisconnectReason string            `json:"disconnectReason"`
	}](t, raw)
	if res.DisconnectReason != "io server disconnect" {
		t.Errorf("bob saw %q, want io server disconnect", res.DisconnectReason)
	}
	// The clients are gone once the script ended; bob was the one the UI disconnected.
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		got := reasons[res.IDs["bob"]]
		mu.Unlock()
		if got == server.ReasonServerDisconnect {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server saw bob (%s) leave with %q, want %q", res.IDs["bob"], got, server.ReasonServerDisconnect)
		}
		time.Sleep(20 * time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = uiSrv.Shutdown(ctx)
}
