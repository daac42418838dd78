package http1

import (
	"errors"
	"strconv"
	"time"
)

// AppendStatusLine appends "HTTP/1.1 <code> <reason>\r\n" to dst, with Node's
// reason phrase (http.STATUS_CODES) or an empty one for codes Node does not
// know. code must be 100..999. Does not allocate when dst has room.
func AppendStatusLine(dst []byte, code int) []byte {
	dst = append(dst, "HTTP/1.1 "...)
	dst = strconv.AppendInt(dst, int64(code), 10)
	dst = append(dst, ' ')
	dst = append(dst, StatusText(code)...)
	return append(dst, "\r\n"...)
}

// AppendHeader appends "name: value\r\n" to dst. Neither may contain CR or LF;
// values copied from a parsed Request are safe (Parse rejects both).
func AppendHeader(dst []byte, name, value string) []byte {
	dst = append(dst, name...)
	dst = append(dst, ": "...)
	dst = append(dst, value...)
	return append(dst, "\r\n"...)
}

// AppendHeaderBytes is AppendHeader with a []byte value, e.g. an Origin to echo
// in Access-Control-Allow-Origin.
func AppendHeaderBytes(dst []byte, name string, value []byte) []byte {
	dst = append(dst, name...)
	dst = append(dst, ": "...)
	dst = append(dst, value...)
	return append(dst, "\r\n"...)
}

// AppendContentLength appends "Content-Length: n\r\n" to dst.
func AppendContentLength(dst []byte, n int) []byte {
	dst = append(dst, "Content-Length: "...)
	dst = strconv.AppendInt(dst, int64(n), 10)
	return append(dst, "\r\n"...)
}

// TimeFormat is the IMF-fixdate layout of the Date header (RFC 9110 5.6.7).
const TimeFormat = "Mon, 02 Jan 2006 15:04:05 GMT"

// AppendDate appends "Date: <t in UTC as IMF-fixdate>\r\n" to dst. Node sends
// Date on every response; the server formats it once per second per loop and
// reuses the bytes (this package reads no clock).
func AppendDate(dst []byte, t time.Time) []byte {
	dst = append(dst, "Date: "...)
	dst = t.UTC().AppendFormat(dst, TimeFormat)
	return append(dst, "\r\n"...)
}

// StatusFor returns the status code to answer a Parse or ChunkedState.Scan
// error with: 431 for a head too large (ErrHeadTooLarge, ErrTooManyHeaders,
// as Node answers HPE_HEADER_OVERFLOW), 413 for ErrBodyTooLarge, 501 for
// ErrUnsupportedTransferCoding (RFC 9112 6.1), 400 for everything else. It
// returns 0 for nil and ErrIncomplete, which are not answered.
func StatusFor(err error) int {
	switch {
	case err == nil, errors.Is(err, ErrIncomplete):
		return 0
	case errors.Is(err, ErrHeadTooLarge), errors.Is(err, ErrTooManyHeaders):
		return 431
	case errors.Is(err, ErrBodyTooLarge):
		return 413
	case errors.Is(err, ErrUnsupportedTransferCoding):
		return 501
	}
	return 400
}

// AppendErrorResponse appends the bodyless response Node writes before closing
// a connection whose request it cannot parse, e.g.
// "HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n". Write it, then close.
func AppendErrorResponse(dst []byte, code int) []byte {
	dst = AppendStatusLine(dst, code)
	return append(dst, "Connection: close\r\n\r\n"...)
}

// StatusText returns Node's reason phrase for code (http.STATUS_CODES in
// Node 20), or "" when Node has none.
func StatusText(code int) string {
	switch code {
	case 100:
		return "Continue"
	case 101:
		return "Switching Protocols"
	case 102:
		return "Processing"
	case 103:
		return "Early Hints"
	case 200:
		return "OK"
	case 201:
		return "Created"
	case 202:
		return "Accepted"
	case 203:
		return "Non-Authoritative Information"
	case 204:
		return "No Content"
	case 205:
		return "Reset Content"
	case 206:
		return "Partial Content"
	case 207:
		return "Multi-Status"
	case 208:
		return "Already Reported"
	case 226:
		return "IM Used"
	case 300:
		return "Multiple Choices"
	case 301:
		return "Moved Permanently"
	case 302:
		return "Found"
	case 303:
		return "See Other"
	case 304:
		return "Not Modified"
	case 305:
		return "Use Proxy"
	case 307:
		return "Temporary Redirect"
	case 308:
		return "Permanent Redirect"
	case 400:
		return "Bad Request"
	case 401:
		return "Unauthorized"
	case 402:
		return "Payment Required"
	case 403:
		return "Forbidden"
	case 404:
		return "Not Found"
	case 405:
		return "Method Not Allowed"
	case 406:
		return "Not Acceptable"
	case 407:
		return "Proxy Authentication Required"
	case 408:
		return "Request Timeout"
	case 409:
		return "Conflict"
	case 410:
		return "Gone"
	case 411:
		return "Length Required"
	case 412:
		return "Precondition Failed"
	case 413:
		return "Payload Too Large"
	case 414:
		return "URI Too Long"
	case 415:
		return "Unsupported Media Type"
	case 416:
		return "Range Not Satisfiable"
	case 417:
		return "Expectation Failed"
	case 418:
		return "I'm a Teapot"
	case 421:
		return "Misdirected Request"
	case 422:
		return "Unprocessable Entity"
	case 423:
		return "Locked"
	case 424:
		return "Failed Dependency"
	case 425:
		return "Too Early"
	case 426:
		return "Upgrade Required"
	case 428:
		return "Precondition Required"
	case 429:
		return "Too Many Requests"
	case 431:
		return "Request Header Fields Too Large"
	case 451:
		return "Unavailable For Legal Reasons"
	case 500:
		return "Internal Server Error"
	case 501:
		return "Not Implemented"
	case 502:
		return "Bad Gateway"
	case 503:
		return "Service Unavailable"
	case 504:
		return "Gateway Timeout"
	case 505:
		return "HTTP Version Not Supported"
	case 506:
		return "Variant Also Negotiates"
	case 507:
		return "Insufficient Storage"
	case 508:
		return "Loop Detected"
	case 509:
		return "Bandwidth Limit Exceeded"
	case 510:
		return "Not Extended"
	case 511:
		return "Network Authentication Required"
	}
	return ""
}
