// Package nodetest runs the real npm clients (engine.io-client 6.6) and the Node
// reference server (engine.io 6.6) from Go tests, so riptide is checked against
// the code its users actually run rather than against our reading of the spec.
//
// The model: every scenario is a Node script in js/ (see Dir) that takes its
// configuration from argv flags (--url http://127.0.0.1:PORT --path /engine.io/ ...),
// bounds itself with its own hard timeout, and prints exactly one JSON line as the
// last line of stdout: {"ok":true,...} or {"ok":false,"error":"..."}; the exit code
// is 0 only when ok is true. Progress goes to stderr. Run executes a script to
// completion and returns that line; Start launches a long-running script (a
// reference server) that prints {"port":N} first, and kills it, by PID, when the
// test ends.
//
// A test proves a script right by running it against js/ref-engine-server.js (the
// reference, see nodetest_test.go), then runs the same script against riptide.
// Where the reference and riptide may legitimately differ, scripts report instead
// of asserting (http-checks.js lists "mismatches" per check) and the Go test decides.
//
// Setup installs js/node_modules with `npm ci` when package-lock.json says it is
// missing or stale. Several test binaries run in parallel (go test ./...), so the
// install is serialized by an flock on js/.npm-install.lock and done at most once
// per process; when nothing changed it costs a few file reads.
package nodetest
