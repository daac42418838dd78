package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"
)

// The binary's defaults serve a health check and Engine.IO handshakes on /socket.io/.
func TestDefaultsServe(t *testing.T) {
	c := flags(t, "--addr", "127.0.0.1:0", "--cors-origin", "http://app.example")
	l, srv, err := start(c, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = l.Close(ctx)
	}()
	if o := srv.Engine().Options(); o.PingInterval != 25*time.Second || o.PingTimeout != 20*time.Second || o.MaxHTTPBufferSize != 1e6 {
		t.Fatalf("defaults %+v", o)
	}
	base := "http://" + l.Addr()
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
