package main

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/riptide-io/riptide/internal/nodetest"
)

// A bcrypt hash of "s3cret-admin" (bcryptjs, cost 4).
const testAdminHash = "$2a$04$b11YrwX5VQSNwN1LOrmymeUCjnHM3R1moBbmGa83PODpUOzoKXSt6"

// --admin-ui serves the admin namespace: the UI's origin passes CORS next to
// listen.cors_origins, its credentials are checked, the hash never shows in `riptide config`.
func TestAdminUI(t *testing.T) {
	nodetest.Setup(t)
	c := flags(t, "--addr", "127.0.0.1:0", "--cors-origin", "http://app.example", "--admin-ui",
		"--admin-ui-password-hash", testAdminHash, "--admin-ui-origin", "http://ui.example", "--admin-ui-read-only")
	l, _, err := start(c, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer stopStarted(l)
	base := "http://" + l.Addr()
	for _, origin := range []string{"http://ui.example", "http://app.example"} {
		req, _ := http.NewRequest("GET", base+"/socket.io/?EIO=4&transport=polling", nil)
		req.Header.Set("Origin", origin)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("Access-Control-Allow-Origin") != origin || resp.Header.Get("Access-Control-Allow-Credentials") != "true" {
			t.Errorf("handshake from %s: %d %v", origin, resp.StatusCode, resp.Header)
		}
	}
	res := nodetest.RunScenario(t, nodetest.Scenario{URL: base, Transport: "websocket",
		Clients: map[string]nodetest.ClientDef{
			"admin": {Nsp: "/admin", Auth: map[string]string{"username": "admin", "password": "s3cret-admin"}},
			"bad":   {Nsp: "/admin", Auth: map[string]string{"username": "admin", "password": "guess"}},
		},
		Steps: []nodetest.Step{{C: "bad", Connect: true}, {C: "admin", Connect: true}, {C: "admin", Expect: "config"}}})
	if res[0].Connected || res[0].Error == nil || res[0].Error.Message != "invalid credentials" {
		t.Errorf("a wrong password: %+v", res[0])
	}
	if !res[1].Connected || len(res[2].Args) != 1 || !bytes.Contains(res[2].Args[0], []byte(`"supportedFeatures":["AGGREGATED_EVENTS","ALL_EVENTS"]`)) {
		t.Errorf("admin (read-only): %+v, config %s", res[1], res[2].Args)
	}

	var out bytes.Buffer
	writeYAML(&out, c.options(), false)
	if !strings.Contains(out.String(), "  password_hash: \"***\"\n") || strings.Contains(out.String(), testAdminHash) {
		t.Errorf("the password hash is not redacted:\n%s", out.String())
	}
}

// admin_ui.* is checked only when the UI is enabled, and then the hash must be bcrypt.
func TestAdminUIValidation(t *testing.T) {
	if _, err := load([]string{"--admin-ui-mode", "loud"}, env(), io.Discard); err != nil {
		t.Errorf("a disabled admin UI was validated: %v", err)
	}
	_, err := load([]string{"--admin-ui", "--admin-ui-password-hash", "plain", "--admin-ui-mode", "loud",
		"--admin-ui-origin", "ui.example", "--admin-ui-namespace", "/"}, env(), io.Discard)
	if err == nil {
		t.Fatal("no error")
	}
	got := strings.Split(err.Error(), "\n")
	for _, want := range []string{
		`admin_ui.password_hash (flag --admin-ui-password-hash): must be a bcrypt hash ($2a$, $2b$ or $2y$...) when admin_ui.enabled is true`,
		`admin_ui.namespace (flag --admin-ui-namespace): "/" must start with / and not be /`,
		`admin_ui.origins (flag --admin-ui-origin): "ui.example" is not an origin (scheme://host[:port], e.g. https://app.example.com) or *`,
		`admin_ui.mode (flag --admin-ui-mode): "loud" is not development or production`,
	} {
		if !slices.Contains(got, want) {
			t.Errorf("missing %q in\n%s", want, err)
		}
	}
}
