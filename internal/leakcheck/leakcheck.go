// Package leakcheck fails a test binary whose goroutines outlive its tests: TestMain runs
// the tests, then waits a few seconds for the goroutines whose stacks name one of the given
// functions or types to end, and fails the run, printing them, if some do not.
package leakcheck

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// Main runs m and exits: with m's code, or 1 when a goroutine whose stack contains one of
// marks (e.g. "rooms/redis.(*Cluster)") is still alive 5 seconds after the tests passed.
func Main(m *testing.M, marks ...string) {
	code := m.Run()
	if code == 0 {
		deadline := time.Now().Add(5 * time.Second)
		for g := Leaked(marks...); g != ""; g = Leaked(marks...) {
			if time.Now().After(deadline) {
				fmt.Fprintf(os.Stderr, "leaked goroutines:\n%s\n", g)
				code = 1
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	os.Exit(code)
}

// Leaked returns the stacks of the goroutines that contain one of marks, or "".
func Leaked(marks ...string) string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var out []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		for _, m := range marks {
			if strings.Contains(g, m) {
				out = append(out, g)
				break
			}
		}
	}
	return strings.Join(out, "\n\n")
}
