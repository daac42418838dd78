// Package browsertest finds and starts the headless Chromium that the browser tests drive
// with chromedp (examples/chat/web, server/adminui).
package browsertest

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"

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
