package http1

// Request heads shared by tests, fuzz seeds and benchmarks. The first four were
// captured from engine.io-client 6.6 / ws 8 under Node 20 (a raw TCP server
// logging what the client wrote); the browser ones follow Chrome 131 and
// Firefox 133 traffic to a Socket.IO server.

const (
	// engine.io-client handshake over xmlhttprequest-ssl (agent: false, hence Connection: close).
	nodePollingGET = "GET /engine.io/?EIO=4&transport=polling&t=zp595612 HTTP/1.1\r\n" +
		"User-Agent: node-XMLHttpRequest\r\n" +
		"Accept: */*\r\n" +
		"Host: 127.0.0.1:38821\r\n" +
		"Connection: close\r\n\r\n"
	nodePollingPOSTHead = "POST /engine.io/?EIO=4&transport=polling&t=zp59fqyz&sid=lv_VI97HAXpY6yYWAAAC HTTP/1.1\r\n" +
		"User-Agent: node-XMLHttpRequest\r\n" +
		"Accept: */*\r\n" +
		"Content-type: text/plain;charset=UTF-8\r\n" +
		"Host: 127.0.0.1:38821\r\n" +
		"Content-Length: 6\r\n" +
		"Connection: close\r\n\r\n"
	nodePollingPOST = nodePollingPOSTHead + "4hello"
	// ws 8 client (engine.io-client's websocket transport under Node).
	nodeWSUpgrade = "GET /engine.io/?EIO=4&transport=websocket&sid=lv_VI97HAXpY6yYWAAAC HTTP/1.1\r\n" +
		"Sec-WebSocket-Version: 13\r\n" +
		"Sec-WebSocket-Key: a9MBC3l204puQ/T1V3myvg==\r\n" +
		"Connection: Upgrade\r\n" +
		"Upgrade: websocket\r\n" +
		"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n" +
		"Host: 127.0.0.1:38821\r\n\r\n"

	chromePollingGET = "GET /socket.io/?EIO=4&transport=polling&t=PGz8sXk&sid=Xk2Zr4nGhQ3bFZ5pAAAB HTTP/1.1\r\n" +
		"Host: localhost:3000\r\n" +
		"Connection: keep-alive\r\n" +
		"sec-ch-ua-platform: \"Linux\"\r\n" +
		"User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36\r\n" +
		"sec-ch-ua: \"Google Chrome\";v=\"131\", \"Chromium\";v=\"131\", \"Not_A Brand\";v=\"24\"\r\n" +
		"sec-ch-ua-mobile: ?0\r\n" +
		"Accept: */*\r\n" +
		"Origin: http://localhost:8080\r\n" +
		"Sec-Fetch-Site: same-site\r\n" +
		"Sec-Fetch-Mode: cors\r\n" +
		"Sec-Fetch-Dest: empty\r\n" +
		"Referer: http://localhost:8080/\r\n" +
		"Accept-Encoding: gzip, deflate, br, zstd\r\n" +
		"Accept-Language: en-US,en;q=0.9\r\n" +
		"Cookie: io=Xk2Zr4nGhQ3bFZ5pAAAB\r\n\r\n"
	// Preflight Chrome sends before a polling POST when extraHeaders set Authorization.
	chromePreflight = "OPTIONS /socket.io/?EIO=4&transport=polling&t=PGz8sXp HTTP/1.1\r\n" +
		"Host: localhost:3000\r\n" +
		"Connection: keep-alive\r\n" +
		"Accept: */*\r\n" +
		"Access-Control-Request-Method: GET\r\n" +
		"Access-Control-Request-Headers: authorization\r\n" +
		"Origin: http://localhost:8080\r\n" +
		"User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36\r\n" +
		"Sec-Fetch-Mode: cors\r\n" +
		"Sec-Fetch-Site: same-site\r\n" +
		"Sec-Fetch-Dest: empty\r\n" +
		"Referer: http://localhost:8080/\r\n" +
		"Accept-Encoding: gzip, deflate, br, zstd\r\n" +
		"Accept-Language: en-US,en;q=0.9\r\n\r\n"
	chromeWSUpgrade = "GET /socket.io/?EIO=4&transport=websocket&sid=Xk2Zr4nGhQ3bFZ5pAAAB HTTP/1.1\r\n" +
		"Host: localhost:3000\r\n" +
		"Connection: Upgrade\r\n" +
		"Pragma: no-cache\r\n" +
		"Cache-Control: no-cache\r\n" +
		"User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36\r\n" +
		"Upgrade: websocket\r\n" +
		"Origin: http://localhost:8080\r\n" +
		"Sec-WebSocket-Version: 13\r\n" +
		"Accept-Encoding: gzip, deflate, br, zstd\r\n" +
		"Accept-Language: en-US,en;q=0.9\r\n" +
		"Cookie: io=Xk2Zr4nGhQ3bFZ5pAAAB\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
		"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n"
	firefoxWSUpgrade = "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n" +
		"Host: localhost:3000\r\n" +
		"User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0\r\n" +
		"Accept: */*\r\n" +
		"Accept-Language: en-US,en;q=0.5\r\n" +
		"Accept-Encoding: gzip, deflate, br, zstd\r\n" +
		"Sec-WebSocket-Version: 13\r\n" +
		"Origin: http://localhost:8080\r\n" +
		"Sec-WebSocket-Extensions: permessage-deflate\r\n" +
		"Sec-WebSocket-Key: x3JJHMbDL1EzLkh9GBhXDw==\r\n" +
		"Connection: keep-alive, Upgrade\r\n" +
		"Sec-Fetch-Dest: empty\r\n" +
		"Sec-Fetch-Mode: websocket\r\n" +
		"Sec-Fetch-Site: same-site\r\n" +
		"Pragma: no-cache\r\n" +
		"Cache-Control: no-cache\r\n" +
		"Upgrade: websocket\r\n\r\n"
	curlHealthz = "GET /healthz HTTP/1.1\r\n" +
		"Host: 127.0.0.1:8080\r\n" +
		"User-Agent: curl/8.5.0\r\n" +
		"Accept: */*\r\n\r\n"
	// curl -d @big: Expect: 100-continue above 1 KiB.
	curlExpectPOST = "POST /socket.io/?EIO=4&transport=polling&sid=abc HTTP/1.1\r\n" +
		"Host: 127.0.0.1:8080\r\n" +
		"User-Agent: curl/8.5.0\r\n" +
		"Accept: */*\r\n" +
		"Content-Length: 2048\r\n" +
		"Content-Type: application/x-www-form-urlencoded\r\n" +
		"Expect: 100-continue\r\n\r\n"
	// HAProxy "option httpchk" default.
	haproxyCheck = "OPTIONS / HTTP/1.0\r\n\r\n"
)

// validCase is a complete head (plus anything after it) and what Parse must report.
type validCase struct {
	name   string
	in     string
	n      int // head length, 0 for len(in); the rest of in is body / next request
	method string
	target string
	path   string
	query  string
	host   string // "<nil>" when absent
	minor  int
	nhdr   int
	cl     int64
	chunk  bool
	ka     bool
	up     bool
	expect bool
}

var validCases = []validCase{
	{name: "node-polling-get", in: nodePollingGET, method: "GET",
		target: "/engine.io/?EIO=4&transport=polling&t=zp595612", path: "/engine.io/",
		query: "EIO=4&transport=polling&t=zp595612", host: "127.0.0.1:38821", minor: 1, nhdr: 4, cl: -1},
	{name: "node-polling-post", in: nodePollingPOST, n: len(nodePollingPOSTHead), method: "POST",
		target: "/engine.io/?EIO=4&transport=polling&t=zp59fqyz&sid=lv_VI97HAXpY6yYWAAAC", path: "/engine.io/",
		query: "EIO=4&transport=polling&t=zp59fqyz&sid=lv_VI97HAXpY6yYWAAAC", host: "127.0.0.1:38821",
		minor: 1, nhdr: 6, cl: 6},
	{name: "node-ws-upgrade", in: nodeWSUpgrade, method: "GET",
		target: "/engine.io/?EIO=4&transport=websocket&sid=lv_VI97HAXpY6yYWAAAC", path: "/engine.io/",
		query: "EIO=4&transport=websocket&sid=lv_VI97HAXpY6yYWAAAC", host: "127.0.0.1:38821",
		minor: 1, nhdr: 6, cl: -1, ka: true, up: true},
	{name: "chrome-polling-get", in: chromePollingGET, method: "GET",
		target: "/socket.io/?EIO=4&transport=polling&t=PGz8sXk&sid=Xk2Zr4nGhQ3bFZ5pAAAB", path: "/socket.io/",
		query: "EIO=4&transport=polling&t=PGz8sXk&sid=Xk2Zr4nGhQ3bFZ5pAAAB", host: "localhost:3000",
		minor: 1, nhdr: 15, cl: -1, ka: true},
	{name: "chrome-preflight", in: chromePreflight, method: "OPTIONS",
		target: "/socket.io/?EIO=4&transport=polling&t=PGz8sXp", path: "/socket.io/",
		query: "EIO=4&transport=polling&t=PGz8sXp", host: "localhost:3000", minor: 1, nhdr: 13, cl: -1, ka: true},
	{name: "chrome-ws-upgrade", in: chromeWSUpgrade, method: "GET",
		target: "/socket.io/?EIO=4&transport=websocket&sid=Xk2Zr4nGhQ3bFZ5pAAAB", path: "/socket.io/",
		query: "EIO=4&transport=websocket&sid=Xk2Zr4nGhQ3bFZ5pAAAB", host: "localhost:3000",
		minor: 1, nhdr: 13, cl: -1, ka: true, up: true},
	{name: "firefox-ws-upgrade", in: firefoxWSUpgrade, method: "GET",
		target: "/socket.io/?EIO=4&transport=websocket", path: "/socket.io/",
		query: "EIO=4&transport=websocket", host: "localhost:3000", minor: 1, nhdr: 16, cl: -1, ka: true, up: true},
	{name: "curl-healthz", in: curlHealthz, method: "GET", target: "/healthz",
		path: "/healthz", host: "127.0.0.1:8080", minor: 1, nhdr: 3, cl: -1, ka: true},
	{name: "curl-expect", in: curlExpectPOST, method: "POST",
		target: "/socket.io/?EIO=4&transport=polling&sid=abc", path: "/socket.io/",
		query: "EIO=4&transport=polling&sid=abc", host: "127.0.0.1:8080", minor: 1, nhdr: 6, cl: 2048,
		ka: true, expect: true},
	{name: "haproxy-check-1.0", in: haproxyCheck, method: "OPTIONS", target: "/",
		path: "/", host: "<nil>", minor: 0, nhdr: 0, cl: -1},
	{name: "http10-keepalive", in: "GET /a HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", method: "GET",
		target: "/a", path: "/a", host: "<nil>", nhdr: 1, cl: -1, ka: true},
	{name: "http10-upgrade-ignored", in: "GET / HTTP/1.0\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n",
		method: "GET", target: "/", path: "/", host: "<nil>", nhdr: 2, cl: -1},
	{name: "http10-expect-ignored", in: "GET / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n",
		method: "GET", target: "/", path: "/", host: "<nil>", nhdr: 1, cl: -1},
	{name: "conn-close-and-keepalive", in: "GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n",
		method: "GET", target: "/", path: "/", host: "a", minor: 1, nhdr: 3, cl: -1},
	{name: "conn-list-odd-spacing", in: "GET / HTTP/1.1\r\nHost: a\r\nConnection: ,  KEEP-ALIVE ,\tuPgRaDe,\r\nUpgrade: h2c, WebSocket\r\n\r\n",
		method: "GET", target: "/", path: "/", host: "a", minor: 1, nhdr: 3, cl: -1, ka: true, up: true},
	{name: "upgrade-without-connection-token", in: "GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive\r\nUpgrade: websocket\r\n\r\n",
		method: "GET", target: "/", path: "/", host: "a", minor: 1, nhdr: 3, cl: -1, ka: true},
	{name: "connection-upgrade-substring", in: "GET / HTTP/1.1\r\nHost: a\r\nConnection: upgraded\r\nUpgrade: websocket\r\n\r\n",
		method: "GET", target: "/", path: "/", host: "a", minor: 1, nhdr: 3, cl: -1, ka: true},
	{name: "chunked", in: "POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
		n: 57, method: "POST", target: "/x", path: "/x", host: "a", minor: 1, nhdr: 2, cl: -1, chunk: true, ka: true},
	{name: "chunked-list-odd-spacing", in: "POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: , \t CHUNKED \r\n\r\n0\r\n\r\n",
		n: 62, method: "POST", target: "/x", path: "/x", host: "a", minor: 1, nhdr: 2, cl: -1, chunk: true, ka: true},
	{name: "leading-empty-lines", in: "\r\n\r\nGET /x HTTP/1.1\r\nHost: a\r\n\r\n", method: "GET",
		target: "/x", path: "/x", host: "a", minor: 1, nhdr: 1, cl: -1, ka: true},
	{name: "absolute-form", in: "GET http://a:80/p/q?x=1#f HTTP/1.1\r\nHost: a\r\n\r\n", method: "GET",
		target: "http://a:80/p/q?x=1#f", path: "/p/q", query: "x=1", host: "a", minor: 1, nhdr: 1, cl: -1, ka: true},
	{name: "absolute-form-no-path", in: "GET https://a HTTP/1.1\r\nHost: a\r\n\r\n", method: "GET",
		target: "https://a", host: "a", minor: 1, nhdr: 1, cl: -1, ka: true},
	{name: "asterisk", in: "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", method: "OPTIONS",
		target: "*", path: "*", host: "a", minor: 1, nhdr: 1, cl: -1, ka: true},
	{name: "connect", in: "CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n", method: "CONNECT",
		target: "a:443", host: "a:443", minor: 1, nhdr: 1, cl: -1, ka: true},
	{name: "fragment-and-empty-query", in: "GET /p?#x?y HTTP/1.1\r\nHost: a\r\n\r\n", method: "GET",
		target: "/p?#x?y", path: "/p", host: "a", minor: 1, nhdr: 1, cl: -1, ka: true},
	{name: "empty-host-obs-text-tabs", in: "GET / HTTP/1.1\r\nHost:\r\nX-A:\t a\xffb \t\r\nX-Empty:   \r\n\r\n",
		method: "GET", target: "/", path: "/", host: "", minor: 1, nhdr: 3, cl: -1, ka: true},
	{name: "content-length-zero-pipelined", in: "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\nGET / HTTP/1.1\r\n",
		n: 47, method: "POST", target: "/", path: "/", host: "a", minor: 1, nhdr: 2, cl: 0, ka: true},
	{name: "content-length-max", in: "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 999999999999999999\r\n\r\n",
		method: "POST", target: "/", path: "/", host: "a", minor: 1, nhdr: 2, cl: 999999999999999999, ka: true},
	{name: "lowercase-method", in: "get / HTTP/1.1\r\nHost: a\r\n\r\n", method: "get",
		target: "/", path: "/", host: "a", minor: 1, nhdr: 1, cl: -1, ka: true},
}

// malformedCase is an input Parse must reject with err (also when given whole
// and with anything appended).
type malformedCase struct {
	name string
	in   string
	err  error
}

var malformedCases = []malformedCase{
	{"empty-method", " / HTTP/1.1\r\nHost: a\r\n\r\n", ErrMalformed},
	{"two-spaces", "GET  / HTTP/1.1\r\nHost: a\r\n\r\n", ErrMalformed},
	{"tab-separator", "GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n", ErrMalformed},
	{"missing-version", "GET /\r\nHost: a\r\n\r\n", ErrMalformed},
	{"missing-target", "GET HTTP/1.1\r\nHost: a\r\n\r\n", ErrMalformed},
	{"trailing-space", "GET / HTTP/1.1 \r\nHost: a\r\n\r\n", ErrMalformed},
	{"lowercase-http", "GET / http/1.1\r\nHost: a\r\n\r\n", ErrMalformed},
	{"version-letters", "GET / HTTP/x.y\r\nHost: a\r\n\r\n", ErrMalformed},
	{"version-long", "GET / HTTP/1.10\r\nHost: a\r\n\r\n", ErrMalformed},
	{"http2", "GET / HTTP/2.0\r\nHost: a\r\n\r\n", ErrUnsupportedVersion},
	{"http12", "GET / HTTP/1.2\r\nHost: a\r\n\r\n", ErrUnsupportedVersion},
	{"http09", "GET / HTTP/0.9\r\nHost: a\r\n\r\n", ErrUnsupportedVersion},
	{"h2-preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", ErrUnsupportedVersion},
	{"relative-target", "GET foo HTTP/1.1\r\nHost: a\r\n\r\n", ErrMalformed},
	{"bad-scheme", "GET 1http://a/ HTTP/1.1\r\nHost: a\r\n\r\n", ErrMalformed},
	{"non-ascii-target", "GET /a\xffb HTTP/1.1\r\nHost: a\r\n\r\n", ErrMalformed},
	{"ctl-in-target", "GET /a\x01b HTTP/1.1\r\nHost: a\r\n\r\n", ErrMalformed},
	{"bad-method-char", "GE(T / HTTP/1.1\r\nHost: a\r\n\r\n", ErrMalformed},
	{"tls-client-hello", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", ErrMalformed},
	{"bare-lf-request-line", "GET / HTTP/1.1\nHost: a\n\n", ErrMalformed},
	{"bare-lf-header", "GET / HTTP/1.1\r\nHost: a\nX: b\r\n\r\n", ErrMalformed},
	{"bare-cr-header", "GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n", ErrMalformed},
	{"bare-cr-request-line", "GET / HTTP/1.1\rHost: a\r\n\r\n", ErrMalformed},
	{"header-no-colon", "GET / HTTP/1.1\r\nHost a\r\n\r\n", ErrMalformed},
	{"space-before-colon", "GET / HTTP/1.1\r\nHost : a\r\n\r\n", ErrMalformed},
	{"tab-before-colon", "GET / HTTP/1.1\r\nHost\t: a\r\n\r\n", ErrMalformed},
	{"empty-name", "GET / HTTP/1.1\r\nHost: a\r\n: b\r\n\r\n", ErrMalformed},
	{"leading-space-name", "GET / HTTP/1.1\r\n Host: a\r\n\r\n", ErrMalformed},
	{"obs-fold", "GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n c\r\n\r\n", ErrMalformed},
	{"obs-fold-tab", "GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n\tc\r\n\r\n", ErrMalformed},
	{"ctl-in-value", "GET / HTTP/1.1\r\nHost: a\r\nX-A: a\x01b\r\n\r\n", ErrMalformed},
	{"nul-in-value", "GET / HTTP/1.1\r\nHost: a\r\nX-A: a\x00b\r\n\r\n", ErrMalformed},
	{"del-in-value", "GET / HTTP/1.1\r\nHost: a\r\nX-A: a\x7fb\r\n\r\n", ErrMalformed},
	{"non-token-name", "GET / HTTP/1.1\r\nHost: a\r\nX(A): b\r\n\r\n", ErrMalformed},
	{"utf8-name", "GET / HTTP/1.1\r\nHost: a\r\nX-\xc3\xa9: b\r\n\r\n", ErrMalformed},
	{"no-host-11", "GET / HTTP/1.1\r\nAccept: */*\r\n\r\n", ErrMissingHost},
	{"two-hosts", "GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n", ErrMissingHost},
	// Node 20.20 (llhttp 9.3) answers 400 to every case below but te-gzip-chunked
	// (accepted), te-empty and te-http10 (both accepted: RFC 9112 is followed there).
	{"cl-dup-same", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\na", ErrDuplicateContentLength},
	{"cl-dup-diff", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\ncontent-length: 2\r\n\r\nab", ErrDuplicateContentLength},
	{"cl-list", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1, 1\r\n\r\na", ErrBadContentLength},
	{"cl-list-diff", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 6\r\n\r\nabcdef", ErrBadContentLength},
	{"cl-plus", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +1\r\n\r\na", ErrBadContentLength},
	{"cl-minus", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", ErrBadContentLength},
	{"cl-empty", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: \r\n\r\n", ErrBadContentLength},
	{"cl-hex", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x10\r\n\r\n", ErrBadContentLength},
	{"cl-inner-space", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1 0\r\n\r\n", ErrBadContentLength},
	{"cl-overflow", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 9999999999999999999\r\n\r\n", ErrBadContentLength},
	{"cl-and-chunked", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", ErrLengthConflict},
	{"chunked-and-cl", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n", ErrLengthConflict},
	{"te-gzip", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", ErrBadTransferEncoding},
	{"te-chunked-gzip", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", ErrBadTransferEncoding},
	{"te-gzip-chunked", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", ErrUnsupportedTransferCoding},
	{"te-gzip-line-chunked-line", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n", ErrUnsupportedTransferCoding},
	{"te-chunked-line-gzip-line", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n", ErrBadTransferEncoding},
	{"te-twice", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", ErrBadTransferEncoding},
	{"te-chunked-chunked", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", ErrBadTransferEncoding},
	{"te-chunked-comma", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked,\r\n\r\n", ErrBadTransferEncoding},
	{"te-chunkedx", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunkedx\r\n\r\n", ErrBadTransferEncoding},
	{"te-param", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked;q=1\r\n\r\n", ErrBadTransferEncoding},
	{"te-empty", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \r\n\r\n", ErrBadTransferEncoding},
	{"te-commas", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: , ,\r\n\r\n", ErrBadTransferEncoding},
	{"te-gzip-and-cl", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\nContent-Length: 5\r\n\r\nhello", ErrLengthConflict},
	{"te-gzip-chunked-and-cl", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", ErrLengthConflict},
	{"te-http10", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", ErrBadTransferEncoding},
}
