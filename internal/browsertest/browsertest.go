// Package browsertest finds and starts the headless Chromium that the browser tests drive
// with chromedp (examples/chat/web, server/adminui), and drives their pages (Page).
package browsertest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// Chromium returns a Chromium or Chrome binary: $CHROMIUM if set, else the first of the
// usual names on PATH. Without one the test fails and says how to install it: a browser
// test that skipped would pass where nothing was tested.
func Chromium(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	names := []string{"chromium", "chromium-browser", "google-chrome-stable", "google-chrome"}
	for _, name := range names {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatalf("no Chromium: none of %s is on PATH and $CHROMIUM is not set. Install Debian's "+
		"with `apt-get install -y chromium` (scripts/test.sh does), or set CHROMIUM to a Chrome binary.", strings.Join(names, ", "))
	return ""
}

// LoopbackOnly is a Chromium option under which no host name resolves but 127.0.0.1: a page
// that refers to the internet (a web font, a CDN) cannot reach it from a test.
var LoopbackOnly = chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND , EXCLUDE 127.0.0.1")

// Browser starts a headless Chromium for the test (stopped when it ends) and returns the
// chromedp context of its first tab; extra options follow the defaults.
func Browser(t testing.TB, extra ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(Chromium(t)),
		chromedp.NoSandbox, // as root in a container; the pages are the test's own
	)
	alloc, cancel := chromedp.NewExecAllocator(context.Background(), append(opts, extra...)...)
	t.Cleanup(cancel)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(cancel)
	// The first run on a context starts its browser, which then lives as long as that
	// context: so it runs on ctx itself, not on one with a timeout.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting Chromium: %v", err)
	}
	return ctx
}

// Page is a browser tab under test. Every wait is on a JavaScript condition or an action,
// bounded by Bound; nothing waits for a fixed time. A failure ends the test with what the
// page shows and a screenshot of it. The page's uncaught exceptions are collected for
// NoExceptions.
type Page struct {
	T     testing.TB
	Name  string // whose page, in failures and the failure screenshot's name
	Ctx   context.Context
	Bound time.Duration

	mu         sync.Mutex
	exceptions []string
}

// NewPage returns the page of the chromedp context ctx (a tab that has run once: see
// Browser) and starts collecting its uncaught exceptions.
func NewPage(t testing.TB, ctx context.Context, name string, bound time.Duration) *Page {
	p := &Page{T: t, Name: name, Ctx: ctx, Bound: bound}
	go func() {
		for ev, err := range chromedp.Events(ctx, runtime.ExceptionThrown) {
			if err != nil {
				return // the tab closed
			}
			text := ev.ExceptionDetails.Text
			if e := ev.ExceptionDetails.Exception; e != nil {
				text += " " + e.Description
			}
			p.mu.Lock()
			p.exceptions = append(p.exceptions, text)
			p.mu.Unlock()
		}
	}()
	return p
}

// WaitJS waits until the JavaScript condition cond holds on the page, within Bound.
func (p *Page) WaitJS(what, cond string) {
	p.T.Helper()
	ctx, cancel := context.WithTimeout(p.Ctx, p.Bound+5*time.Second)
	defer cancel()
	_, err := chromedp.Run(ctx, chromedp.Poll[bool](cond,
		chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(p.Bound)))
	if err != nil {
		p.Fail("waiting for %s: %v", what, err)
	}
}

// Eval evaluates a JavaScript expression and returns its value (a promise's, once settled)
// as text.
func (p *Page) Eval(expr string) string {
	p.T.Helper()
	ctx, cancel := context.WithTimeout(p.Ctx, p.Bound)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[any](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		p.Fail("evaluating %s: %v", expr, err)
	}
	if v == nil {
		return ""
	}
	return fmt.Sprint(v)
}

// Do runs actions, within Bound.
func (p *Page) Do(what string, actions ...chromedp.Action[chromedp.Void]) {
	p.T.Helper()
	ctx, cancel := context.WithTimeout(p.Ctx, p.Bound)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		p.Fail("%s: %v", what, err)
	}
}

// Fail ends the test with what the page shows, and a screenshot of it.
func (p *Page) Fail(format string, args ...any) {
	p.T.Helper()
	ctx, cancel := context.WithTimeout(p.Ctx, 5*time.Second)
	defer cancel()
	text, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
	p.Screenshot(p.Name + "-failed.png")
	p.T.Fatalf("%s's page: %s\nthe page shows:\n%s", p.Name, fmt.Sprintf(format, args...), text)
}

// Screenshot saves the tab's viewport as a PNG in the test's artifact directory
// (`go test -artifacts -outputdir DIR` keeps it).
func (p *Page) Screenshot(file string) {
	ctx, cancel := context.WithTimeout(p.Ctx, p.Bound)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		p.T.Errorf("screenshot of %s's page: %v", p.Name, err)
		return
	}
	path := filepath.Join(p.T.ArtifactDir(), file)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		p.T.Error(err)
	}
	p.T.Logf("screenshot: %s", path)
}

// NoExceptions fails the test for every uncaught exception the page's scripts threw.
func (p *Page) NoExceptions() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, e := range p.exceptions {
		p.T.Errorf("%s's page threw: %s", p.Name, e)
	}
}
