package nodetest

import (
	"os"
	"os/exec"
	"testing"
)

// Chromium returns the path of the Chromium (or Chrome) executable the browser tests drive:
// $RIPTIDE_CHROMIUM when set, else the first of chromium, chromium-browser, google-chrome and
// google-chrome-stable on PATH. scripts/test.sh installs Debian's chromium when none is
// there. Without one the test fails, saying so: a browser test is never skipped silently.
func Chromium(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("RIPTIDE_CHROMIUM"); p != "" {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("nodetest: RIPTIDE_CHROMIUM=%s: %v", p, err)
		}
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("nodetest: no Chromium found: install it (Debian: apt-get install -y chromium, as scripts/test.sh does) or set RIPTIDE_CHROMIUM to its path")
	return ""
}
