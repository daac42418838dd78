package http1

// Chunked bodies (the bytes after the head) shared by tests, fuzz seeds and
// benchmarks.

// nodeChunkedPOSTHead and nodeChunkedBody are what Node 20's http.request sends
// for a streamed polling POST (req.write('4hello'); req.write('\x1e');
// req.write('42["chat","héllo"]'); req.end()), captured with a raw TCP server:
// one chunk per write, lower-case hex, no extensions, no trailers.
const (
	nodeChunkedPOSTHead = "POST /engine.io/?EIO=4&transport=polling&sid=abc HTTP/1.1\r\n" +
		"content-type: text/plain;charset=UTF-8\r\n" +
		"Host: 127.0.0.1:33849\r\n" +
		"Connection: keep-alive\r\n" +
		"Transfer-Encoding: chunked\r\n\r\n"
	nodeChunkedBody = "6\r\n4hello\r\n1\r\n\x1e\r\n13\r\n42[\"chat\",\"h\xc3\xa9llo\"]\r\n0\r\n\r\n"
)

// chunkedCase is a body Scan must accept: consumed is its length (0 for
// len(in); the rest of in is the next request) and want the decoded content.
type chunkedCase struct {
	name     string
	in       string
	consumed int
	want     string
	max      int64 // 0 for 1 MiB
}

var chunkedCases = []chunkedCase{
	{name: "node-streamed", in: nodeChunkedBody, want: "4hello\x1e42[\"chat\",\"h\xc3\xa9llo\"]"},
	{name: "empty", in: "0\r\n\r\n", want: ""},
	{name: "one", in: "5\r\nhello\r\n0\r\n\r\n", want: "hello"},
	{name: "pipelined", in: "5\r\nhello\r\n0\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", consumed: 15, want: "hello"},
	{name: "upper-hex-leading-zeros", in: "000A\r\n0123456789\r\n00000\r\n\r\n", want: "0123456789"},
	{name: "data-holds-crlf", in: "4\r\n\r\n\r\n\r\n3\r\n0\r\n\r\n0\r\n\r\n", want: "\r\n\r\n0\r\n"},
	{name: "extensions", in: "5;a=b;c;Name=\"x y\\\"z\\\\\";q=\"\t\xff\"\r\nhello\r\n0;last\r\n\r\n", want: "hello"},
	{name: "trailers", in: "5\r\nhello\r\n0\r\nX-T: v\r\nY:  w \r\nContent-Lengthx: 1\r\nHost: b\r\nTE: x\r\n\r\n", want: "hello"},
	{name: "max-exact", in: "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n", want: "abcde", max: 5},
	{name: "max-zero-empty", in: "0\r\n\r\n", want: "", max: -1},
}

// malformedChunkedCase is a body Scan must refuse with err, given whole, in
// two pieces split anywhere and a byte at a time.
type malformedChunkedCase struct {
	name string
	in   string
	err  error
	max  int64 // 0 for 1 MiB
}

// Node 20.20 (llhttp 9.3) answers 400 to each of these but the ones marked.
var malformedChunkedCases = []malformedChunkedCase{
	{"no-digits", "\r\nhello\r\n0\r\n\r\n", ErrBadChunkSize, 0},
	{"bad-hex", "5g\r\nhello\r\n0\r\n\r\n", ErrBadChunkSize, 0},
	{"0x", "0x5\r\nhello\r\n0\r\n\r\n", ErrBadChunkSize, 0},
	{"negative", "-5\r\nhello\r\n0\r\n\r\n", ErrBadChunkSize, 0},
	{"plus", "+5\r\nhello\r\n0\r\n\r\n", ErrBadChunkSize, 0},
	{"space-after-size", "5 \r\nhello\r\n0\r\n\r\n", ErrBadChunkSize, 0},
	{"tab-after-size", "5\t\r\nhello\r\n0\r\n\r\n", ErrBadChunkSize, 0},
	{"space-before-size", " 5\r\nhello\r\n0\r\n\r\n", ErrBadChunkSize, 0},
	{"space-before-semi", "5 ;a\r\nhello\r\n0\r\n\r\n", ErrBadChunkSize, 0},
	{"overflow", "10000000000000000\r\nhello\r\n0\r\n\r\n", ErrChunkSizeOverflow, 0},
	{"overflow-2^63", "8000000000000000\r\n", ErrChunkSizeOverflow, 0}, // Node waits for 2^63 bytes
	{"space-after-semi", "5; a\r\nhello\r\n0\r\n\r\n", ErrBadChunkExtension, 0},
	{"space-around-eq", "5;a = b\r\nhello\r\n0\r\n\r\n", ErrBadChunkExtension, 0},
	{"empty-ext", "5;\r\nhello\r\n0\r\n\r\n", ErrBadChunkExtension, 0},
	{"double-semi", "5;;a\r\nhello\r\n0\r\n\r\n", ErrBadChunkExtension, 0}, // Node accepts; RFC 9112 7.1.1 does not
	{"empty-value", "5;a=\r\nhello\r\n0\r\n\r\n", ErrBadChunkExtension, 0}, // Node accepts; RFC 9112 7.1.1 does not
	{"ext-bad-name", "5;a@b\r\nhello\r\n0\r\n\r\n", ErrBadChunkExtension, 0},
	{"ext-bad-value", "5;a=b@c\r\nhello\r\n0\r\n\r\n", ErrBadChunkExtension, 0},
	{"ext-token-then-quote", "5;a=b\"\r\nhello\r\n0\r\n\r\n", ErrBadChunkExtension, 0},
	{"ext-unterminated-quote", "5;a=\"b\r\nhello\r\n0\r\n\r\n", ErrBadChunkExtension, 0},
	{"ext-after-quote", "5;a=\"b\"c\r\nhello\r\n0\r\n\r\n", ErrBadChunkExtension, 0},
	{"ext-ctl-in-quote", "5;a=\"b\x01\"\r\nhello\r\n0\r\n\r\n", ErrBadChunkExtension, 0},
	{"ext-escaped-ctl", "5;a=\"b\\\x01\"\r\nhello\r\n0\r\n\r\n", ErrBadChunkExtension, 0},
	{"ext-lf-in-quote", "5;a=\"b\nc\"\r\nhello\r\n0\r\n\r\n", ErrBadChunkExtension, 0},
	{"bare-lf-size", "5\nhello\r\n0\r\n\r\n", ErrChunkCRLF, 0},
	{"bare-lf-ext", "5;a=b\nhello\r\n0\r\n\r\n", ErrChunkCRLF, 0},
	{"bare-cr-size", "5\rhello\r\n0\r\n\r\n", ErrChunkCRLF, 0},
	{"bare-lf-data", "5\r\nhello\n0\r\n\r\n", ErrChunkCRLF, 0},
	{"data-too-long", "5\r\nhello!\r\n0\r\n\r\n", ErrChunkCRLF, 0},
	{"data-bare-cr", "5\r\nhello\r0\r\n\r\n", ErrChunkCRLF, 0},
	{"bare-lf-last", "5\r\nhello\r\n0\n\r\n", ErrChunkCRLF, 0},
	{"bare-lf-final", "5\r\nhello\r\n0\r\n\n", ErrChunkCRLF, 0},
	{"cr-x-final", "5\r\nhello\r\n0\r\n\rx", ErrChunkCRLF, 0},
	{"trailer-bare-lf", "5\r\nhello\r\n0\r\nX-T: v\n\r\n", ErrChunkCRLF, 0},
	{"trailer-space-colon", "5\r\nhello\r\n0\r\nX-T : v\r\n\r\n", ErrBadTrailer, 0},
	{"trailer-no-colon", "5\r\nhello\r\n0\r\nX-T\r\n\r\n", ErrBadTrailer, 0},
	{"trailer-fold", "5\r\nhello\r\n0\r\nX-T: v\r\n w\r\n\r\n", ErrBadTrailer, 0},
	{"trailer-ctl", "5\r\nhello\r\n0\r\nX-T: v\x01\r\n\r\n", ErrBadTrailer, 0},
	{"trailer-empty-name", "5\r\nhello\r\n0\r\n: v\r\n\r\n", ErrBadTrailer, 0},
	{"trailer-content-length", "5\r\nhello\r\n0\r\ncontent-LENGTH: 5\r\n\r\n", ErrBadTrailer, 0},
	{"trailer-transfer-encoding", "5\r\nhello\r\n0\r\nTransfer-Encoding: chunked\r\n\r\n", ErrBadTrailer, 0},
	{"too-large", "3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\n", ErrBodyTooLarge, 5},
	{"too-large-before-data", "100001\r\n", ErrBodyTooLarge, 0},
	{"too-large-with-ext", "100001;a=b\r\n", ErrBodyTooLarge, 0},
	{"too-large-empty-allowed", "1\r\n", ErrBodyTooLarge, -1},
}
