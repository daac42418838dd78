#!/usr/bin/env bash
# Runs every riptide test on a fresh machine: installs what the tests need (Node.js and the
# npm clients), then vet, the unit and integration tests with the race detector, and a short
# run of every fuzz target. Usage: scripts/test.sh   (FUZZTIME=30s scripts/test.sh for longer fuzzing)
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v node >/dev/null 2>&1 || need_apt+=(nodejs)
command -v npm >/dev/null 2>&1 || need_apt+=(npm)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "== installing ${need_apt[*]} (apt)"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}"
fi
command -v go >/dev/null 2>&1 || { echo "go is required (https://go.dev/dl)"; exit 1; }
# The Redis adapter's tests start their own redis-server processes (internal/redistest).
if ! command -v redis-server >/dev/null 2>&1; then
  echo "== installing redis-server (apt)"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server
fi
# cmd/riptide's TestHAProxy runs deploy/haproxy.cfg with a real HAProxy (2.2 or later;
# Debian 12 has 2.6). Debian's package also installs a service whose default configuration
# listens on no port.
if ! command -v haproxy >/dev/null 2>&1; then
  echo "== installing haproxy (apt)"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq haproxy
fi
# The second, independent Socket.IO client (examples/chat/python_test.go): Debian's python3-socketio.
if ! /usr/bin/python3 -c "import socketio, requests, websocket" >/dev/null 2>&1; then
  echo "== installing python3-socketio (apt)"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-socketio python3-requests python3-websocket
fi

# An independent JWT minter for server/tier's authentication tests: Debian's PyJWT.
if ! /usr/bin/python3 -c "import jwt, cryptography" >/dev/null 2>&1; then
  echo "== installing python3-jwt (apt)"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-jwt python3-cryptography
fi

# promtool checks deploy/prometheus/riptide-alerts.yml and the dashboard's queries with
# Prometheus's own parser and unit-tests the alerts (cmd/riptide TestDashboardAndAlerts).
# Only the tool is taken from Debian's prometheus package, unpacked: installing the package
# would also enable a Prometheus server.
if ! command -v promtool >/dev/null 2>&1; then
  echo "== installing promtool (from Debian's prometheus package)"
  pdir=$(mktemp -d)
  apt-get update -qq && (cd "$pdir" && apt-get download -qq prometheus 2>/dev/null) &&
    dpkg -x "$pdir"/prometheus_*.deb "$pdir/x" && install -m 0755 "$pdir/x/usr/bin/promtool" /usr/local/bin/promtool
  rm -rf "$pdir"
fi

# The browser tests (examples/chat/web, and server/adminui's with the Socket.IO Admin UI)
# drive a headless Chromium; they fail, and say so, without one. Debian's wrapper is
# /usr/bin/chromium; Chrome or $CHROMIUM does too.
if [ -z "${CHROMIUM:-}" ] && ! command -v chromium >/dev/null 2>&1 && ! command -v chromium-browser >/dev/null 2>&1 &&
  ! command -v google-chrome-stable >/dev/null 2>&1 && ! command -v google-chrome >/dev/null 2>&1; then
  echo "== installing chromium (apt)"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium
fi

echo "== npm clients (internal/nodetest/js)"
(cd internal/nodetest/js && npm ci --no-audit --no-fund --loglevel=error)

echo "== go vet"
go vet ./...

echo "== go test -race"
# -p 1: the interop tests measure protocol timing (heartbeats, volatile drops); packages
# running side by side on a 2-core machine would make them flaky, not faster.
testlog=$(mktemp)
trap 'rm -f "$testlog"' EXIT
go test -race -count=1 -p 1 -timeout 30m ./... 2>&1 | tee "$testlog"

echo "== fuzz (${FUZZTIME:-5s} per target)"
fuzz() { # package target
  # A finding is written to testdata/fuzz: that is a bug and fails the run at once. Without
  # one, the fuzzing engine itself failed: a worker killed on a loaded machine, or Go's
  # fuzzer ending a clean run with "context deadline exceeded" as its time is up (seen
  # about once per full run here, on an idle machine too). Such a target is tried 3 times.
  local out try
  out=$(mktemp)
  for try in 1 2 3; do
    if go test -run '^$' -fuzz "^$2\$" -fuzztime "${FUZZTIME:-5s}" "$1" >"$out" 2>&1; then
      echo "fuzz $1 $2: ok"
      rm -f "$out"
      return
    fi
    cat "$out"
    if [ -n "$(git status --porcelain -- "$1/testdata/fuzz" 2>/dev/null)" ]; then
      echo "fuzz $1 $2: FAILED with a finding (see $1/testdata/fuzz)"
      exit 1
    fi
    echo "fuzz $1 $2: the fuzzing engine failed without a finding (attempt $try of 3)"
  done
  exit 1
}
while read -r pkg target; do
  fuzz "$pkg" "$target"
done < <(grep -rho --include='*_test.go' '^func Fuzz[A-Za-z0-9_]*' . --with-filename |
  sed -E 's#^\./(.*)/[^/]+_test\.go:func (Fuzz[A-Za-z0-9_]*)#./\1 \2#' | sort -u)
echo "all tests passed"
echo "packages: $(grep -c '^ok' "$testlog") passed, 0 failed"
