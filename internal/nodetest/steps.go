package nodetest

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// Scenario is a script for tier-steps.js: real socket.io-client sockets, named, driven one
// step at a time on one transport. See the script's header for the steps.
type Scenario struct {
	URL       string               `json:"url"`
	Transport string               `json:"transport"`
	Clients   map[string]ClientDef `json:"clients,omitempty"`
	Steps     []Step               `json:"steps"`
}

// ClientDef is one client's connect options.
type ClientDef struct {
	URL   string            `json:"url,omitempty"` // default: the scenario's
	Nsp   string            `json:"nsp,omitempty"` // a namespace appended to the URL ("/admin")
	Auth  any               `json:"auth,omitempty"`
	Query map[string]string `json:"query,omitempty"`
}

// Step is one step of a Scenario; set the fields of one kind of step.
type Step struct {
	C                string    `json:"c,omitempty"`
	Connect          bool      `json:"connect,omitempty"`
	Emit             string    `json:"emit,omitempty"`
	Args             []any     `json:"args,omitempty"`
	Ack              bool      `json:"ack,omitempty"`
	Expect           string    `json:"expect,omitempty"`
	With             string    `json:"with,omitempty"` // Expect: only an event whose arguments hold this text ("$id:NAME" allowed)
	None             string    `json:"none,omitempty"`
	Ms               int       `json:"ms,omitempty"`
	Disconnect       bool      `json:"disconnect,omitempty"`
	ExpectDisconnect bool      `json:"expectDisconnect,omitempty"`
	Sleep            int       `json:"sleep,omitempty"`
	HTTP             *HTTPStep `json:"http,omitempty"`
}

// HTTPStep is an HTTP request a scenario makes between client steps.
type HTTPStep struct {
	Method  string            `json:"method,omitempty"`
	URL     string            `json:"url"`
	Body    any               `json:"body,omitempty"`
	Headers map[string]string `json:"headers,omitempty"`
}

// StepResult is what a step saw; which fields are set depends on the step.
type StepResult struct {
	Connected bool              `json:"connected"`
	ID        string            `json:"id"`
	Error     *ConnectErrorSeen `json:"error"`
	Ack       []json.RawMessage `json:"ack"`
	Args      []json.RawMessage `json:"args"`
	Got       []json.RawMessage `json:"got"`
	Reason    string            `json:"reason"`
	Timeout   bool              `json:"timeout"`
	Status    int               `json:"status"` // an HTTP step's
	Body      json.RawMessage   `json:"body"`
}

// ConnectErrorSeen is a connect_error as the client saw it.
type ConnectErrorSeen struct {
	Message string          `json:"message"`
	Data    json.RawMessage `json:"data"`
}

// RunScenario runs sc with tier-steps.js and returns one result per step.
func RunScenario(t testing.TB, sc Scenario) []StepResult {
	t.Helper()
	b, err := json.Marshal(sc)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "scenario.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	raw := Run(t, 90*time.Second, "tier-steps.js", "--scenario", path, "--timeout", "80000")
	out := Decode[struct {
		Results []StepResult `json:"results"`
	}](t, raw)
	if len(out.Results) != len(sc.Steps) {
		t.Fatalf("tier-steps.js: %d results for %d steps", len(out.Results), len(sc.Steps))
	}
	return out.Results
}

// Check is one step of a scenario and what its result must be (Want nil: anything).
type Check struct {
	Step Step
	Want func(r StepResult) error
}

// RunChecks runs the checks as one scenario on polling and on WebSocket, each against the
// server start returns (its URL), and reports every check that fails.
func RunChecks(t *testing.T, start func(t *testing.T) string, clients map[string]ClientDef, checks []Check) {
	for _, tr := range []string{"polling", "websocket"} {
		t.Run(tr, func(t *testing.T) {
			sc := Scenario{URL: start(t), Transport: tr, Clients: clients}
			for _, c := range checks {
				sc.Steps = append(sc.Steps, c.Step)
			}
			res := RunScenario(t, sc)
			for i, c := range checks {
				if c.Want == nil {
					continue
				}
				if err := c.Want(res[i]); err != nil {
					b, _ := json.Marshal(c.Step)
					t.Errorf("step %d %s: %v", i, b, err)
				}
			}
		})
	}
}

// Obj decodes a JSON object, or returns nil.
func Obj(raw json.RawMessage) map[string]any {
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	return m
}

// Connect connects client c, which must succeed.
func Connect(c string) Check {
	return Check{Step{C: c, Connect: true}, func(r StepResult) error {
		if !r.Connected {
			return fmt.Errorf("not connected: %+v", r.Error)
		}
		return nil
	}}
}

// Emit emits event without an ack.
func Emit(c, event string, args ...any) Check {
	return Check{Step{C: c, Emit: event, Args: args}, nil}
}

// EmitAck emits event with an ack, which must carry {ok: true, ...}; more checks the rest.
func EmitAck(c, event string, args []any, more func(m map[string]any) error) Check {
	return Check{Step{C: c, Emit: event, Args: args, Ack: true}, func(r StepResult) error {
		if r.Timeout || len(r.Ack) == 0 {
			return fmt.Errorf("no ack")
		}
		m := Obj(r.Ack[0])
		if m["ok"] != true {
			return fmt.Errorf("ack %s, want ok", r.Ack[0])
		}
		if more != nil {
			return more(m)
		}
		return nil
	}}
}

// Refused emits event with an ack, which must be {error: {code, message}}.
func Refused(c, event string, args []any, code, message string) Check {
	return Check{Step{C: c, Emit: event, Args: args, Ack: true}, func(r StepResult) error {
		if r.Timeout || len(r.Ack) == 0 {
			return fmt.Errorf("no ack, want %s", code)
		}
		e, _ := Obj(r.Ack[0])["error"].(map[string]any)
		if e == nil || e["code"] != code || e["message"] != message {
			return fmt.Errorf("ack %s, want error %s %q", r.Ack[0], code, message)
		}
		return nil
	}}
}

// ErrorEvent waits for an "error" event {code, message}.
func ErrorEvent(c, code, message string) Check {
	return Check{Step{C: c, Expect: "error"}, func(r StepResult) error {
		if r.Timeout {
			return fmt.Errorf("no error event, want %s", code)
		}
		m := Obj(r.Args[0])
		if m["code"] != code || m["message"] != message {
			return fmt.Errorf("error event %s, want %s %q", r.Args, code, message)
		}
		return nil
	}}
}

// Expect waits for event on c and checks its arguments with f.
func Expect(c, event string, f func(args []json.RawMessage) error) Check {
	return Check{Step{C: c, Expect: event}, func(r StepResult) error {
		if r.Timeout {
			return fmt.Errorf("no %q event", event)
		}
		if f == nil {
			return nil
		}
		return f(r.Args)
	}}
}

// None checks that c gets no event named event within a short while.
func None(c, event string) Check {
	return Check{Step{C: c, None: event}, func(r StepResult) error {
		if !r.Timeout {
			return fmt.Errorf("unexpected %q event %s", event, r.Got)
		}
		return nil
	}}
}
