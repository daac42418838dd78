package adminui_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/riptide-io/riptide/internal/browsertest"
	"github.com/riptide-io/riptide/internal/nodetest"
	"github.com/riptide-io/riptide/server"
	"github.com/riptide-io/riptide/server/adminui"
	"github.com/riptide-io/riptide/server/engine"
)

// waitBound bounds every wait for something the page shows or a client sees; nothing waits
// for a fixed time.
const waitBound = 30 * time.Second

// TestBrowser runs the real Admin UI (the npm package's static build) in headless Chromium,
// driven with chromedp, against riptide. The UI is served by an HTTP server of its own, on
// another origin than riptide's, as https://admin.socket.io would be. Alice (socket.io-client)
// connects before the UI logs in, so the UI learns of her from all_sockets; Bob and Carol
// after, so from the feed. The UI's connection form is filled in; the dashboard, the server,
// socket and room lists must show them; clicking Bob's disconnect button must disconnect him
// ("io server disconnect" on his client) and no one else. The screenshots go to the test's
// artifact directory (`go test -artifacts -outputdir DIR`): admin-ui.png, admin-ui-sockets.png
// and admin-ui-rooms.png are the ones in docs/img.
func TestBrowser(t *testing.T) {
	nodetest.Setup(t)
	uiURL := serveUI(t)
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
	out := filepath.Join(t.TempDir(), "disconnects.jsonl")
	clients := func(spec string) map[string]string {
		raw := nodetest.StartJSON(t, "adminui-clients.js", "--url", url, "--clients", spec, "--out", out)
		return nodetest.Decode[struct{ IDs map[string]string }](t, raw).IDs
	}
	ids := clients("alice:room-a")

	p := page{browsertest.NewPage(t, browsertest.Browser(t, browsertest.LoopbackOnly), "admin", waitBound)}
	p.Do("open the UI", chromedp.EmulateViewport(1280, 800), chromedp.Navigate(uiURL+"/"))
	field := func(label string) chromedp.Search {
		return chromedp.Search(fmt.Sprintf(`//div[contains(@class,"v-dialog")]//label[normalize-space()=%q]/following-sibling::input`, label))
	}
	p.WaitJS("the connection form", `[...document.querySelectorAll(".v-dialog--active label")].some((l) => l.textContent.trim() === "Server URL")`)
	p.Do("fill in the connection form",
		chromedp.SendKeys(field("Server URL"), url),
		chromedp.SendKeys(field("Username"), adminUser),
		chromedp.SendKeys(field("Password"), adminPass),
		chromedp.Click(chromedp.CSS(`.v-dialog button[type="submit"]`)))
	p.WaitJS("the form to close on connection", `!document.querySelector(".v-dialog--active")`)
	for name, id := range clients("bob:room-b,carol:room-a") {
		ids[name] = id
	}

	p.waitText("the dashboard", "Namespaces", "/admin", "HEALTHY")
	// Every client upgraded to WebSocket (socket_updated): no one left on polling.
	p.WaitJS("no client on polling", `[...document.querySelectorAll("tr")].some((tr) => tr.innerText.includes("HTTP long-polling") && tr.querySelectorAll("td")[1]?.innerText.trim().startsWith("0"))`)
	p.screenshot("admin-ui.png")
	p.show("#/servers")
	p.waitText("the servers page", "riptide-1")
	p.show("#/sockets")
	p.waitText("the sockets page", ids["alice"], ids["bob"], ids["carol"])
	p.screenshot("admin-ui-sockets.png")
	p.show("#/rooms")
	p.waitText("the rooms page", "room-a", "room-b")
	p.screenshot("admin-ui-rooms.png")

	p.show("#/sockets")
	p.waitText("the sockets page again", ids["bob"])
	p.Do("click Bob's disconnect button", chromedp.Click(chromedp.Search(fmt.Sprintf(`//tr[td[normalize-space()=%q]]//button`, ids["bob"]))))
	if got := waitDisconnect(t, out, "bob"); got != "io server disconnect" {
		t.Errorf("Bob's client saw %q, want io server disconnect", got)
	}
	// The click also reaches the row, which opens Bob's details: back to the list.
	p.show("#/sockets")
	p.waitText("Alice and Carol still listed", ids["alice"], ids["carol"])
	p.WaitJS("Bob gone from the list", fmt.Sprintf(`![...document.querySelectorAll("tbody tr")].some((tr) => tr.innerText.includes(%q))`, ids["bob"]))
	mu.Lock()
	got := reasons[ids["bob"]]
	others := len(reasons)
	mu.Unlock()
	if got != server.ReasonServerDisconnect || others != 1 {
		t.Errorf("the server saw %v disconnect, want Bob (%s) alone with %q", reasons, ids["bob"], server.ReasonServerDisconnect)
	}
	p.NoExceptions()
}

// serveUI serves the UI's static build on a free loopback port until the test ends and
// returns its URL. Its index.html is served as is but for its two external stylesheets: the
// Material Design icons come from the @mdi/font npm package (the UI's buttons are icons),
// and Google's Roboto gives way to the browser's sans-serif.
func serveUI(t *testing.T) string {
	t.Helper()
	modules := filepath.Join(nodetest.Dir(), "node_modules")
	dist := filepath.Join(modules, "@socket.io", "admin-ui", "ui", "dist")
	index, err := os.ReadFile(filepath.Join(dist, "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	const mdi, roboto = "https://cdn.jsdelivr.net/npm/@mdi/font@latest/", "https://fonts.googleapis.com/css?family=Roboto:100,300,400,500,700,900"
	if !bytes.Contains(index, []byte(mdi)) || !bytes.Contains(index, []byte(roboto)) {
		t.Fatalf("the UI's index.html no longer links %s and %s: %s", mdi, roboto, index)
	}
	index = bytes.ReplaceAll(index, []byte(mdi), []byte("/mdi/"))
	index = bytes.ReplaceAll(index, []byte(`<link rel="stylesheet" href="`+roboto+`">`), nil)
	mux := http.NewServeMux()
	mux.Handle("/", http.FileServer(http.Dir(dist)))
	mux.HandleFunc("/{$}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write(index)
	})
	mux.Handle("/mdi/", http.StripPrefix("/mdi/", http.FileServer(http.Dir(filepath.Join(modules, "@mdi", "font")))))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return "http://" + ln.Addr().String()
}

// waitDisconnect waits, within waitBound, for adminui-clients.js to write down how client
// name disconnected, and returns the reason.
func waitDisconnect(t *testing.T, out, name string) string {
	t.Helper()
	deadline := time.Now().Add(waitBound)
	for {
		if f, err := os.Open(out); err == nil {
			sc := bufio.NewScanner(f)
			for sc.Scan() {
				var d struct{ Name, Reason string }
				if json.Unmarshal(sc.Bytes(), &d) == nil && d.Name == name {
					f.Close()
					return d.Reason
				}
			}
			f.Close()
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s's client did not disconnect within %v", name, waitBound)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// page is the browser tab showing the UI.
type page struct{ *browsertest.Page }

// show goes to a view of the UI (its router uses the URL's hash).
func (p page) show(hash string) {
	p.T.Helper()
	p.Do("show "+hash, chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`location.hash = %q`, hash)))
}

// waitText waits until the page's text holds every one of texts.
func (p page) waitText(what string, texts ...string) {
	p.T.Helper()
	list, _ := json.Marshal(texts)
	p.WaitJS(what, fmt.Sprintf(`%s.every((s) => document.body.innerText.includes(s))`, list))
}

// screenshot waits for the UI to hold still, then saves the viewport: the page transitions
// (Vue's *-enter-active and *-leave-active classes) have ended, and the charts' canvases did
// not change between two polls (their animations are over).
func (p page) screenshot(file string) {
	p.T.Helper()
	p.WaitJS("the page transitions to end", `!document.querySelector('[class*="-enter-active"], [class*="-leave-active"]')`)
	p.WaitJS("the charts to hold still", `(() => {
		const now = [...document.querySelectorAll("canvas")].map((c) => c.toDataURL()).join();
		const still = window.__riptideCharts === now;
		window.__riptideCharts = now;
		return still;
	})()`)
	p.Screenshot(file)
}
