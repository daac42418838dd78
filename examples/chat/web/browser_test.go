package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/riptide-io/riptide/internal/browsertest"
	"github.com/riptide-io/riptide/internal/nodetest"
)

// waitBound bounds every wait for something a page shows; nothing waits for a fixed time.
const waitBound = 20 * time.Second

// TestBrowserChat runs the demo as a user does (`go run ./examples/chat/web` builds and starts
// riptide with deploy/riptide.chat.yaml) and drives pages of one headless Chromium with
// chromedp: Ana (polling, then the upgrade to WebSocket), Ben (WebSocket only) and Cy
// (?transport=polling, so every packet is a cross-origin HTTP request that riptide answers
// with CORS). They sign in, join chat:general and see each other in the member list, see a
// typing notice and each other's messages, get the refusals' codes (a room no pattern
// declares, a room not joined), come back into the room after losing the connection, and
// see a member leave; a fourth page, Dee's, is refused with CONN_LIMIT_USER. Every step waits
// on what the pages show, within waitBound. The screenshots go to the test's artifact
// directory: `go test -artifacts -outputdir DIR` keeps them (chat-demo.png is
// docs/img/chat-demo.png).
func TestBrowserChat(t *testing.T) {
	exe := browsertest.Chromium(t)
	d, err := start(options{Addr: "127.0.0.1:0", Log: testLog{t}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := d.Close(); err != nil {
			t.Errorf("closing the demo: %v", err)
		}
	})
	alloc, cancel := chromedp.NewExecAllocator(context.Background(), append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.NoSandbox, // as root in a container; the pages are the test's own
		chromedp.WindowSize(1200, 720),
	)...)
	t.Cleanup(cancel)
	browser, cancel := chromedp.NewContext(alloc)
	t.Cleanup(cancel)

	tab := func() context.Context { // another tab of the browser Ana's page started
		ctx, cancel := chromedp.NewContext(browser)
		t.Cleanup(cancel)
		return ctx
	}
	ana := openPage(t, browser, "Ana", d.URL())
	ben := openPage(t, tab(), "Ben", d.URL()+"?transport=websocket")
	cy := openPage(t, tab(), "Cy", d.URL()+"?transport=polling")
	pages := []*page{ana, ben, cy}
	defer func() {
		for _, p := range pages {
			p.Screenshot(p.Name + ".png")
			p.NoExceptions()
		}
	}()

	for _, p := range pages {
		p.signIn()
		// A typing notice ends 3 s after the last key (and 6 s after the last notice): on a
		// loaded machine the test might look later than that. Here it ends when the message
		// is sent, by user-stop-typing.
		p.Eval(`chat.config.typingIdle = chat.config.typingShown = 600000`)
	}
	ana.waitStatus("Connected over websocket") // upgraded
	ben.waitStatus("Connected over websocket")
	cy.waitStatus("Connected over polling")

	const room = "chat:general"
	ana.join(room)
	ana.waitMembers("Ana")
	ben.join(room)
	ben.waitMembers("Ana", "Ben")
	ana.waitMembers("Ana", "Ben")
	ana.waitNote("Ben joined")
	cy.join(room)
	for _, p := range pages {
		p.waitMembers("Ana", "Ben", "Cy")
	}

	// Typing, then the message: the others see the notice, then the message, and the notice
	// goes with user-stop-typing.
	ana.typeMessage("hello everyone")
	ben.waitTyping("Ana is typing…")
	cy.waitTyping("Ana is typing…")
	ana.send()
	for _, p := range pages {
		p.waitMessage("Ana", "hello everyone")
	}
	ben.waitTyping("")
	cy.waitTyping("")
	cy.say("hi from polling")
	ana.waitMessage("Cy", "hi from polling")
	ben.waitMessage("Cy", "hi from polling")
	ben.say("hey both")
	ana.waitMessage("Ben", "hey both")
	cy.waitMessage("Ben", "hey both")

	// Refusals, with their codes: a room no pattern declares (the join's ack), and a
	// message to a room not joined (an "error" event).
	ben.join("lobby")
	ben.waitError("ROOM_UNKNOWN", "no such room (joining lobby)")
	ben.WaitJS("chat:general shown again, lobby not listed", `document.getElementById("room-title").textContent === "chat:general" && `+
		`[...document.querySelectorAll("#room-list button")].map((b) => b.textContent).join() === "chat:general"`)
	ben.Eval(`chat.send("chat:random", "anyone here?")`)
	ben.waitError("ROOM_NOT_MEMBER", "join the room before publishing to it")

	cy.typeMessage("brb")
	ben.waitTyping("Cy is typing…")
	ana.waitTyping("Cy is typing…")
	ben.Screenshot("chat-demo.png") // all of it on one page
	cy.send()
	ana.waitMessage("Cy", "brb")
	ben.waitMessage("Cy", "brb")

	// Cy loses the connection: the client reconnects by itself and the page joins the room
	// again; the others see Cy leave and come back.
	cy.Eval(`void chat.socket.io.engine.close()`)
	ana.waitNote("Cy left")
	cy.waitStatus("Connected over polling")
	ana.WaitJS("Cy joined twice", `[...document.querySelectorAll("#messages li.note")].filter((li) => li.textContent === "Cy joined").length === 2`)
	cy.waitMembers("Ana", "Ben", "Cy")
	cy.say("back again")
	ana.waitMessage("Cy", "back again")
	ben.waitMessage("Cy", "back again")

	// Ben leaves: the others' lists shrink, and Ben's page has no room.
	ben.Do("leave", chromedp.Click(chromedp.ID("leave")))
	ana.waitMembers("Ana", "Cy")
	cy.waitMembers("Ana", "Cy")
	ana.waitNote("Ben left")
	ben.WaitJS("no room", `document.getElementById("room-title").textContent === "No room yet"`)

	// A refused connection: Dee has five sockets already (limits.max_connections_per_user),
	// so the page's own is refused, and the page says why and offers to reconnect.
	dee := openPage(t, tab(), "Dee", d.URL())
	pages = append(pages, dee)
	if n := dee.Eval(fiveSockets); n != "5" {
		t.Fatalf("Dee's five other sockets: %s", n)
	}
	dee.signIn()
	dee.waitError("CONN_LIMIT_USER", "too many connections for this user (connecting)")
	dee.waitStatus("Connection refused")
	dee.WaitJS("the Reconnect button", `!document.getElementById("reconnect").hidden`)

	// The transports the pages asked for are the ones they use.
	for _, c := range []struct {
		p    *page
		want string
	}{{ana, "websocket"}, {ben, "websocket"}, {cy, "polling"}} {
		if got := c.p.Eval(`chat.socket.io.engine.transport.name`); got != c.want {
			t.Errorf("%s's transport is %q, want %q", c.p.Name, got, c.want)
		}
	}
}

// fiveSockets connects five sockets as Dee, beside the page's, and resolves to their number.
const fiveSockets = `(async () => {
	const res = await fetch("token", {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify({name: "Dee"})});
	const {token, tierPort} = await res.json();
	window.others = [];
	for (let i = 0; i < 5; i++) {
		const s = io("http://" + location.hostname + ":" + tierPort, {transports: ["websocket"], auth: {token}, forceNew: true});
		await new Promise((ok, fail) => { s.once("connect", ok); s.once("connect_error", fail); });
		others.push(s);
	}
	return others.length;
})()`

// TestVendoredClient checks that static/socket.io.min.js is the npm package's browser bundle,
// byte for byte, of the version internal/nodetest/js pins (license header included).
func TestVendoredClient(t *testing.T) {
	nodetest.Setup(t)
	npm := filepath.Join(nodetest.Dir(), "node_modules", "socket.io-client", "dist", "socket.io.min.js")
	want, err := os.ReadFile(npm)
	if err != nil {
		t.Fatal(err)
	}
	got, err := static.ReadFile("static/socket.io.min.js")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("static/socket.io.min.js differs from %s: copy it again", npm)
	}
	if !bytes.HasPrefix(got, []byte("/*!\n * Socket.IO v")) || !bytes.Contains(got[:200], []byte("Released under the MIT License.")) {
		t.Fatalf("the bundle's license header is missing: %q", got[:120])
	}
}

// page is one browser tab showing the demo, as one user.
type page struct{ *browsertest.Page }

// openPage opens url in the tab of ctx, a chromedp context (the first starts the browser).
func openPage(t *testing.T, ctx context.Context, name, url string) *page {
	t.Helper()
	// The first run on a context starts its browser or tab, which then lives as long as that
	// context: so it runs on ctx itself, not on one with a timeout.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting Chromium for %s: %v", name, err)
	}
	p := &page{browsertest.NewPage(t, ctx, name, waitBound)}
	p.Do("open "+url, chromedp.Navigate(url))
	p.WaitJS("the page's script", `typeof window.chat === "object"`)
	return p
}

func (p *page) signIn() {
	p.T.Helper()
	p.Do("sign in", chromedp.SendKeys(chromedp.ID("name"), p.Name), chromedp.Click(chromedp.CSS("#sign-in button")))
	p.WaitJS("the chat view", `!document.getElementById("chat-view").hidden`)
}

func (p *page) join(room string) {
	p.T.Helper()
	p.Do("join "+room, chromedp.SetValue(chromedp.ID("room"), room), chromedp.Click(chromedp.CSS("#join button")))
}

// typeMessage types text into the message box, key by key, without sending it.
func (p *page) typeMessage(text string) {
	p.T.Helper()
	p.WaitJS("the message box enabled", `!document.getElementById("message").disabled`)
	p.Do("type", chromedp.SendKeys(chromedp.ID("message"), text))
}

func (p *page) send() {
	p.T.Helper()
	p.Do("send", chromedp.Click(chromedp.CSS("#composer button")))
	p.WaitJS("the message box emptied", `document.getElementById("message").value === ""`)
}

// say types text and sends it; the page shows it as the user's own.
func (p *page) say(text string) {
	p.T.Helper()
	p.typeMessage(text)
	p.send()
	p.WaitJS("own message "+text, fmt.Sprintf(`[...document.querySelectorAll("#messages li.msg.mine p")].some((e) => e.textContent === %s)`, js(text)))
}

func (p *page) waitStatus(want string) {
	p.T.Helper()
	p.WaitJS("status "+want, `document.getElementById("status").textContent === `+js(want))
}

func (p *page) waitMembers(names ...string) {
	p.T.Helper()
	p.WaitJS("members "+strings.Join(names, ", "),
		`[...document.querySelectorAll("#members li")].map((li) => li.firstChild.textContent).join(",") === `+js(strings.Join(names, ",")))
}

func (p *page) waitMessage(from, text string) {
	p.T.Helper()
	p.WaitJS(fmt.Sprintf("message %s: %s", from, text), fmt.Sprintf(
		`[...document.querySelectorAll("#messages li.msg")].some((li) => li.querySelector(".from").textContent === %s && li.querySelector("p").textContent === %s)`,
		js(from), js(text)))
}

func (p *page) waitNote(text string) {
	p.T.Helper()
	p.WaitJS("note "+text, `[...document.querySelectorAll("#messages li.note")].some((li) => li.textContent === `+js(text)+`)`)
}

func (p *page) waitTyping(want string) {
	p.T.Helper()
	p.WaitJS(fmt.Sprintf("typing notice %q", want), `document.getElementById("typing").textContent === `+js(want))
}

// waitError waits for an error shown with its code and message.
func (p *page) waitError(code, message string) {
	p.T.Helper()
	p.WaitJS("error "+code, fmt.Sprintf(
		`[...document.querySelectorAll("#errors li")].some((li) => li.querySelector("code").textContent === %s && li.querySelector("span").textContent.trim() === %s)`,
		js(code), js(message)))
}

// js quotes s as a JavaScript string literal.
func js(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// testLog writes the demo's and riptide's log lines to the test log.
type testLog struct{ t *testing.T }

func (w testLog) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(b), "\n"))
	return len(b), nil
}
