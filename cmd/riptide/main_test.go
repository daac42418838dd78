package main

import (
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/riptide-io/riptide/internal/servetest"
	"github.com/riptide-io/riptide/server"
)

// The binary's defaults serve a health check and Engine.IO handshakes on /socket.io/.
func TestDefaultsServe(t *testing.T) {
	base, srv := serveConfig(t, flags(t, "--addr", "127.0.0.1:0", "--cors-origin", "http://app.example"))
	if o := srv.Engine().Options(); o.PingInterval != 25*time.Second || o.PingTimeout != 20*time.Second || o.MaxHTTPBufferSize != 1e6 {
		t.Fatalf("defaults %+v", o)
	}
	resp, err := http.Get(base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "ok" {
		t.Fatalf("healthz: %d %q", resp.StatusCode, body)
	}
	req, _ := http.NewRequest("GET", base+"/socket.io/?EIO=4&transport=polling", nil)
	req.Header.Set("Origin", "http://app.example")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(string(body), `0{"sid":"`) ||
		resp.Header.Get("Access-Control-Allow-Origin") != "http://app.example" {
		t.Fatalf("handshake: %d %q %v", resp.StatusCode, body, resp.Header)
	}
}

// serveConfig starts the binary's server from c until the test ends and returns its base URL.
// What start leaves in the package's variables (the cluster, the admin UI) ends with it.
func serveConfig(t *testing.T, c *Config) (string, *server.Server) {
	t.Helper()
	l, srv, err := start(c, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	base := servetest.Serve(t, l, func() {
		if adminUI != nil {
			adminUI.Close()
			adminUI = nil
		}
		if redisCluster != nil {
			_ = redisCluster.Close()
			redisCluster = nil
		}
	})
	return base, srv
}

// flags loads a configuration from the defaults and args alone, as the binary does with no
// file and no RIPTIDE_* variables.
func flags(t *testing.T, args ...string) *Config {
	t.Helper()
	c, err := load(args, func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
