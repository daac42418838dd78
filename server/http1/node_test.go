package http1

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// nodeServer is Node's http server with its defaults (llhttp strict mode,
// 16 KiB heads), answering 200 and the body it read; parse errors get Node's
// own 400/431. It exits by itself after 30 s in case the test dies.
const nodeServer = `
const http = require('http');
const srv = http.createServer((req, res) => {
  const parts = [];
  req.on('data', d => parts.push(d));
  req.on('end', () => res.end(Buffer.concat(parts)));
});
srv.listen(0, '127.0.0.1', () => console.log(srv.address().port));
setTimeout(() => process.exit(0), 30000).unref();
`

// startNode runs nodeServer and returns its address; the process is killed,
// by its own handle, when the test ends.
func startNode(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node not on PATH")
	}
	cmd := exec.Command("node", "-e", nodeServer)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	port, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("node did not start: %v", err)
	}
	return "127.0.0.1:" + strings.TrimSpace(port)
}

// nodeVerdict sends raw to Node on a fresh connection and returns its status
// and body, or status 0 when Node answers nothing within wait (it is waiting
// for more of the body).
func nodeVerdict(t *testing.T, addr, raw string, wait time.Duration) (int, string) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(wait))
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatal(err)
	}
	resp, _ := io.ReadAll(c) // until Node closes (Connection: close) or the deadline
	var code int
	if _, err := fmt.Sscanf(string(resp), "HTTP/1.1 %d", &code); err != nil {
		return 0, ""
	}
	_, body, _ := strings.Cut(string(resp), "\r\n\r\n")
	return code, body
}

// ourVerdict is what the engine does with raw: Parse, Scan a chunked body
// (max 1 MiB), decode. It returns the status an error maps to, or 200 and the body.
func ourVerdict(raw string) (int, string) {
	buf := []byte(raw)
	var r Request
	n, err := Parse(buf, &r, 0)
	if err != nil {
		return StatusFor(err), ""
	}
	if !r.Chunked {
		return 200, string(buf[n : n+int(max(r.ContentLength, 0))])
	}
	var st ChunkedState
	done, m, err := st.Scan(buf[n:], 1<<20)
	switch {
	case err != nil:
		return StatusFor(err), ""
	case !done:
		return 0, ""
	}
	return 200, string(DecodeChunkedInPlace(buf[n : n+m]))
}

// TestAgainstNode sends the framing cases to Node 20's own http server and
// checks that we accept what it accepts (with the same body) and refuse what
// it refuses, but for the listed places where we follow RFC 9112 instead.
func TestAgainstNode(t *testing.T) {
	addr := startNode(t)
	const chunkedHead = "POST / HTTP/1.1\r\nHost: a\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n"
	// Node's verdict where ours differs on purpose; our own is in the cases.
	nodeDiffers := map[string]int{
		"te-gzip-chunked":           200, // RFC 9112 6.1: 501 for a coding we cannot decode
		"te-gzip-line-chunked-line": 200,
		"te-empty":                  200, // RFC 9110 5.6.1: Transfer-Encoding is 1#coding
		"te-http10":                 200, // RFC 9112 6.1: faulty framing in HTTP/1.0
		"double-semi":               200, // RFC 9112 7.1.1: empty extension name
		"empty-value":               200, // RFC 9112 7.1.1: empty extension value
		"overflow-2^63":             0,   // Node waits for the data
		"cl-overflow":               0,   // llhttp takes lengths up to 2^64-1 and waits
	}
	type probe struct{ name, raw string }
	var probes []probe
	for _, tc := range malformedCases {
		if strings.HasPrefix(tc.name, "te-") || strings.HasPrefix(tc.name, "cl-") || strings.Contains(tc.name, "chunked") {
			raw := strings.Replace(tc.in, "Host: a\r\n", "Host: a\r\nConnection: close\r\n", 1)
			if strings.HasSuffix(raw, "chunked\r\n\r\n") {
				raw += "0\r\n\r\n" // a body, so that Node answers if it accepts the head
			}
			probes = append(probes, probe{tc.name, raw})
		}
	}
	for _, tc := range validCases {
		if tc.chunk {
			probes = append(probes, probe{tc.name, strings.Replace(tc.in, "Host: a\r\n", "Host: a\r\nConnection: close\r\n", 1)})
		}
	}
	for _, tc := range chunkedCases {
		if tc.max == 0 && tc.consumed == 0 {
			probes = append(probes, probe{tc.name, chunkedHead + tc.in})
		}
	}
	for _, tc := range malformedChunkedCases {
		if tc.max == 0 && tc.err != ErrBodyTooLarge { // Node has no body limit
			probes = append(probes, probe{tc.name, chunkedHead + tc.in})
		}
	}
	probes = append(probes, probe{"node-streamed-post", strings.Replace(nodeChunkedPOSTHead, "keep-alive", "close", 1) + nodeChunkedBody})

	for _, p := range probes {
		ours, ourBody := ourVerdict(p.raw)
		want, diff := nodeDiffers[p.name]
		wait := 2 * time.Second
		if diff && want == 0 || ours == 0 {
			wait = 300 * time.Millisecond // Node is expected to wait: do not wait long for it
		}
		node, nodeBody := nodeVerdict(t, addr, p.raw, wait)
		switch {
		case diff:
			if node != want {
				t.Errorf("%s: Node answers %d, listed as %d (we answer %d)", p.name, node, want, ours)
			}
			if ours == node {
				t.Errorf("%s: listed as a difference but both answer %d", p.name, ours)
			}
		case ours != node && !(ours >= 400 && node >= 400):
			t.Errorf("%s: we answer %d, Node %d", p.name, ours, node)
		case ours == 200 && ourBody != nodeBody:
			t.Errorf("%s: body %q, Node's %q", p.name, ourBody, nodeBody)
		}
		if testing.Verbose() {
			t.Logf("%-28s ours %d node %d", p.name, ours, node)
		}
	}
}
