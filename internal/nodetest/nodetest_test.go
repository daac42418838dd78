package nodetest

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// These tests prove the scripts right: each one runs against the Node
// reference server (js/ref-engine-server.js) and must pass there, with the
// reference's exact answers asserted. riptide's tests run the same scripts.

const runTimeout = 40 * time.Second // scripts bound themselves at 15-20 s

func refURL(port int) string { return fmt.Sprintf("http://127.0.0.1:%d", port) }

func TestDir(t *testing.T) {
	for _, f := range []string{"package.json", "package-lock.json", "ref-engine-server.js", "eio-echo.js"} {
		if _, err := scriptPath(f); err != nil {
			t.Error(err)
		}
	}
}

func TestSetupIsCheapWhenInstalled(t *testing.T) {
	Setup(t)
	if ok, why := installed(Dir()); !ok {
		t.Fatalf("installed() after Setup = false: %s", why)
	}
	begin := time.Now()
	for range 100 {
		if ok, _ := installed(Dir()); !ok {
			t.Fatal("installed() flipped")
		}
	}
	if d := time.Since(begin) / 100; d > 200*time.Millisecond {
		t.Errorf("installed() takes %v, want it cheap", d)
	}
}

// TestRunContract checks Run's failure detection on js/selftest.js.
func TestRunContract(t *testing.T) {
	Setup(t)
	res, err := run(10*time.Second, nil, "selftest.js", "--mode", "ok")
	if err != nil {
		t.Fatal(err)
	}
	if string(res) != `{"ok":true,"answer":42}` {
		t.Errorf("result = %s", res)
	}
	for _, tc := range []struct {
		mode    string
		timeout time.Duration
		want    []string
	}{
		{"fail", 10 * time.Second, []string{"exit status 1", "echo #3 differs", "about to fail"}},
		{"crash", 10 * time.Second, []string{"exit status 1", "boom from selftest"}},
		{"hang", 700 * time.Millisecond, []string{"killed after the 700ms timeout", "hanging"}},
		{"nojson", 10 * time.Second, []string{"not JSON", "not json at all"}},
		{"notok", 10 * time.Second, []string{`no "ok":true`}},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			t.Parallel()
			begin := time.Now()
			_, err := run(tc.timeout, nil, "selftest.js", "--mode", tc.mode)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not mention %q:\n%v", w, err)
				}
			}
			if d := time.Since(begin); d > tc.timeout+3*time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
	if _, err := run(time.Second, nil, "no-such-script.js"); err == nil || !strings.Contains(err.Error(), "no script") {
		t.Errorf("missing script: %v", err)
	}
}

func TestStartContract(t *testing.T) {
	Setup(t)
	p, port, err := start("selftest.js", "--mode", "server")
	if err != nil {
		t.Fatal(err)
	}
	if port != 4242 {
		t.Errorf("port = %d", port)
	}
	// The script logs to stderr right after the port line.
	for deadline := time.Now().Add(5 * time.Second); !strings.Contains(string(p.output()), "server log line"); {
		if time.Now().After(deadline) {
			t.Errorf("stderr not kept: %q", p.output())
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	p.stop()
	select {
	case <-p.exited:
	default:
		t.Error("process still running after stop")
	}
	for mode, want := range map[string]string{
		"server-exit": "exited before listening",
		"server-bad":  "is not {\"port\":N}",
	} {
		p, _, err := start("selftest.js", "--mode", mode)
		if p != nil {
			p.stop()
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want %q", mode, err, want)
		}
	}
}

func TestEcho(t *testing.T) {
	forEachServer(t, serverOpts{}, func(t *testing.T, url string) {
		for _, tc := range []struct {
			name, transports, upgrade string
			initial, final            string
			upgraded                  bool
			upgrades                  []string
		}{
			{"polling", "polling", "true", "polling", "polling", false, []string{"websocket"}},
			{"websocket", "websocket", "true", "websocket", "websocket", false, []string{}},
			{"upgrade", "polling,websocket", "true", "polling", "websocket", true, []string{"websocket"}},
			{"noUpgrade", "polling,websocket", "false", "polling", "polling", false, []string{"websocket"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				r := Decode[EchoResult](t, Run(t, runTimeout, "eio-echo.js", "--url", url, "--transports", tc.transports, "--upgrade", tc.upgrade))
				if r.InitialTransport != tc.initial || r.FinalTransport != tc.final || r.Upgraded != tc.upgraded {
					t.Errorf("transport %s -> %s (upgraded %v), want %s -> %s (%v)", r.InitialTransport, r.FinalTransport, r.Upgraded, tc.initial, tc.final, tc.upgraded)
				}
				if fmt.Sprint(r.Handshake.Upgrades) != fmt.Sprint(tc.upgrades) {
					t.Errorf("handshake upgrades %v, want %v", r.Handshake.Upgrades, tc.upgrades)
				}
				h := r.Handshake
				if h.PingInterval != 25000 || h.PingTimeout != 20000 || h.MaxPayload != 1000000 || h.Sid != r.Sid {
					t.Errorf("handshake %+v: want the reference defaults 25000/20000/1000000", h)
				}
				if r.Totals.Sent != 38 || r.Totals.Received != 38 || r.Totals.SentBinary != 12 || r.Totals.ReceivedBinary != 12 {
					t.Errorf("totals %+v", r.Totals)
				}
				if r.Close == nil || r.Close.Reason != "forced close" {
					t.Errorf("close %+v", r.Close)
				}
				if tc.upgraded {
					if p := r.PollAfterUpgrade; p == nil || p.Status != 400 || p.Body != `{"code":3,"message":"Bad request"}` {
						t.Errorf("polling GET after upgrade: %+v", p)
					}
				}
			})
		}
	})
}

func TestEchoCustomPath(t *testing.T) {
	forEachServer(t, serverOpts{path: "/custom/eio"}, func(t *testing.T, url string) {
		r := Decode[EchoResult](t, Run(t, runTimeout, "eio-echo.js", "--url", url, "--path", "/custom/eio/", "--transports", "polling,websocket"))
		if !r.Upgraded {
			t.Errorf("not upgraded: %+v", r)
		}
	})
}

func TestUpgradeTraffic(t *testing.T) {
	forEachServer(t, serverOpts{}, func(t *testing.T, url string) {
		for _, after := range []int{100, 0} {
			t.Run(fmt.Sprint("probeAfter", after), func(t *testing.T) {
				t.Parallel()
				r := Decode[UpgradeTrafficResult](t, Run(t, runTimeout, "eio-upgrade-traffic.js", "--url", url, "--probe-after", fmt.Sprint(after)))
				if !r.Upgraded || r.FinalTransport != "websocket" || r.Sent < 300 || r.Received != r.Sent {
					t.Errorf("result %+v", r)
				}
				if r.SentBeforeUpgrading < max(after, 1) || r.SentAfterUpgrade < 50 {
					t.Errorf("traffic before/after the upgrade: %+v", r)
				}
			})
		}
	})
}

func TestHeartbeat(t *testing.T) {
	// pingTimeout > pingInterval leaves room for a loaded machine: the client's
	// own timer (pingInterval + pingTimeout after a ping) must not fire first.
	const interval, timeout = 400, 600
	forEachServer(t, serverOpts{pingInterval: interval, pingTimeout: timeout}, func(t *testing.T, url string) {
		for _, transport := range []string{"websocket", "polling"} {
			t.Run(transport, func(t *testing.T) {
				t.Parallel()
				r := Decode[HeartbeatResult](t, Run(t, runTimeout, "eio-heartbeat.js", "--url", url, "--transports", transport,
					"--ping-interval", fmt.Sprint(interval), "--ping-timeout", fmt.Sprint(timeout)))
				if r.PingsAnswered < 3 || r.OpenForMs <= 3*interval {
					t.Errorf("phase 1 too short: %+v", r)
				}
				if r.CloseAfterLastPongMs < interval+timeout-50 || r.CloseAfterLastPongMs > interval+timeout+500 {
					t.Errorf("closed %d ms after the last pong, want ~%d", r.CloseAfterLastPongMs, interval+timeout)
				}
				if r.Close == nil || r.Close.Reason != "transport close" {
					t.Errorf("close %+v, want transport close", r.Close)
				}
				// The reference's ws server closes without a status code.
				if transport == "websocket" && r.Close.WSCloseCode != 1005 {
					t.Errorf("websocket close code %d, want 1005", r.Close.WSCloseCode)
				}
				if transport == "polling" && r.Close.Description != "transport closed by the server" {
					t.Errorf("polling close description %q", r.Close.Description)
				}
			})
		}
	})
}

func TestMaxPayload(t *testing.T) {
	forEachServer(t, serverOpts{maxPayload: 1000}, func(t *testing.T, url string) {
		r := Decode[MaxPayloadResult](t, Run(t, runTimeout, "eio-maxpayload.js", "--url", url, "--max", "1000"))
		if r.HandshakeMaxPayload != 1000 || !r.PollingAtLimit.Echoed || !r.WSAtLimit.Echoed || !r.Fresh.Echoed || !r.Bystander.After.Echoed {
			t.Errorf("result %+v", r)
		}
		if c := r.PollingOverLimit.Close; c == nil || c.Reason != "transport error" || c.ErrorMessage != "xhr post error" || c.HTTPStatus != 413 {
			t.Errorf("polling over limit: %+v", c)
		}
		if c := r.WSOverLimit.Close; c == nil || c.Reason != "transport close" || c.WSCloseCode != 1009 {
			t.Errorf("websocket over limit: %+v", c)
		}
	})
}

func TestHTTPChecks(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts serverOpts
		cors []string
	}{
		{"noCORS", serverOpts{}, nil},
		{"corsOrigin", serverOpts{corsOrigin: "http://example.com", corsCredentials: true}, []string{"--cors-origin", "http://example.com", "--cors-credentials", "true"}},
		{"corsStar", serverOpts{corsOrigin: "*"}, []string{"--cors-origin", "*"}},
		{"corsReflect", serverOpts{corsOrigin: "true"}, []string{"--cors-origin", "true"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			forEachServer(t, tc.opts, func(t *testing.T, url string) {
				args := append([]string{"--url", url, "--expect-reference"}, tc.cors...)
				r := Decode[HTTPChecksResult](t, Run(t, runTimeout, "http-checks.js", args...))
				if r.MismatchCount != 0 || len(r.Order) < 20 {
					t.Errorf("mismatches %d, checks %d", r.MismatchCount, len(r.Order))
				}
				// The Go side can assert on its own too; this is how riptide's tests will.
				c := r.Checks["unknownSidGet"]
				var body struct {
					Code    int    `json:"code"`
					Message string `json:"message"`
				}
				if err := json.Unmarshal(c.Response.JSON, &body); err != nil || c.Response.Status != 400 || body.Code != 1 || body.Message != "Session ID unknown" {
					t.Errorf("unknownSidGet: %d %s (%v)", c.Response.Status, c.Response.Body, err)
				}
				pre := r.Checks["preflight"].Response
				switch tc.name {
				case "noCORS":
					if pre.Status != 400 {
						t.Errorf("preflight without CORS: %d", pre.Status)
					}
				default:
					if pre.Status != 204 || pre.Headers["access-control-allow-methods"] != "GET,HEAD,PUT,PATCH,POST,DELETE" {
						t.Errorf("preflight: %d %v", pre.Status, pre.Headers)
					}
				}
			})
		})
	}
}
