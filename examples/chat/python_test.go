package main

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/riptide-io/riptide/server/engine"
)

// TestPythonClient drives the chat example with a second, independent client: the Debian
// package python3-socketio (scripts/test.sh installs it). It connects, emits, gets acks and
// receives broadcasts on both transports.
func TestPythonClient(t *testing.T) {
	python := "/usr/bin/python3"
	if out, err := exec.Command(python, "-c", "import socketio, requests, websocket").CombinedOutput(); err != nil {
		t.Fatalf("python3-socketio is not installed (scripts/test.sh installs it): %v\n%s", err, out)
	}
	io := newChat()
	l, err := io.Listen("127.0.0.1:0", engine.ListenConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = l.Close(ctx)
	}()
	for _, transport := range []string{"polling", "websocket"} {
		t.Run(transport, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, python, filepath.Join("testdata", "client.py"), "http://"+l.Addr(), transport)
			out, err := cmd.CombinedOutput()
			lines := strings.Split(strings.TrimSpace(string(out)), "\n")
			last := lines[len(lines)-1]
			if err != nil || !strings.HasPrefix(last, `{"ok": true`) {
				t.Fatalf("python client failed: %v\n%s", err, out)
			}
			t.Log(last)
		})
	}
}
