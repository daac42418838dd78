package nodetest

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// TestChat runs the everyday patterns of an Express + Socket.IO chat app
// (js/chat/chat-*.js, real socket.io-client 4.8 clients) against the Node
// reference app (js/chat/ref-chat-server.js, Express 4 + socket.io 4.8), which
// proves the scenarios right, and against riptide's Go version of the same app
// (examples/chat), once per transport setup. One server per (app, transport);
// the scenarios of a transport share it and run in parallel, which they are
// written for: each run's user and room names carry a random tag, and events
// about another run's names are ignored, while anything else a client did not
// expect fails the scenario.
//
// RIPTIDE_SKIP_CHAT=1 skips the riptide half (for working on the scripts
// before examples/chat exists).
func TestChat(t *testing.T) {
	Setup(t)
	t.Run("node", func(t *testing.T) {
		t.Parallel()
		runChatScenarios(t, func(t *testing.T) int {
			return Start(t, "chat/ref-chat-server.js", "--addr", "127.0.0.1:0")
		})
	})
	t.Run("riptide", func(t *testing.T) {
		t.Parallel()
		if os.Getenv("RIPTIDE_SKIP_CHAT") == "1" {
			t.Skip("RIPTIDE_SKIP_CHAT=1")
		}
		bin := BuildGo(t, "./examples/chat")
		runChatScenarios(t, func(t *testing.T) int {
			return StartBinary(t, bin, "--addr", "127.0.0.1:0")
		})
	})
}

// chatScenarios are the scripts in js/chat/; each documents what it asserts.
var chatScenarios = []string{
	"chat-presence.js", // healthz, welcome, user-connected, user-disconnected
	"chat-messages.js", // chat + ack, whisper, question/answer, invalid chat
	"chat-rooms.js",    // join/leave acks, user-joined/left, room-message
	"chat-auth.js",     // missing token, banned, admin names
	"chat-kick.js",     // admin:kick refused and honoured
}

var chatTransports = []struct{ name, flag string }{
	{"polling", "polling"},
	{"websocket", "websocket"},
	{"upgrade", "polling,websocket"}, // the client's default: polling, then upgrade
}

// chatResult is the part of a chat-*.js result the test reports on.
type chatResult struct {
	Scenario string   `json:"scenario"`
	Steps    []string `json:"steps"`
}

func runChatScenarios(t *testing.T, start func(t *testing.T) int) {
	for _, tr := range chatTransports {
		t.Run(tr.name, func(t *testing.T) {
			t.Parallel()
			url := fmt.Sprintf("http://127.0.0.1:%d", start(t))
			for _, script := range chatScenarios {
				t.Run(strings.TrimSuffix(strings.TrimPrefix(script, "chat-"), ".js"), func(t *testing.T) {
					t.Parallel()
					// The script's own 20 s deadline fires first and reports
					// how far it got; a healthy run takes 1-2 s.
					raw := Run(t, 30*time.Second, "chat/"+script,
						"--url", url, "--transports", tr.flag, "--timeout", "20000", "--wait", "5000")
					res := Decode[chatResult](t, raw)
					if len(res.Steps) == 0 || res.Steps[len(res.Steps)-1] != "transports" {
						t.Fatalf("%s: steps %q do not end with the transports check", script, res.Steps)
					}
				})
			}
		})
	}
}
