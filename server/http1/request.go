package http1

import (
	"bytes"
	"strings"
)

// HeaderValue returns the value of the first header named name (ASCII
// case-insensitive), or nil when there is none; a present but empty header
// gives an empty non-nil slice. The result points into the parsed buffer (see
// Request). It does not allocate; a linear scan beats a map for ~20 headers.
func (r *Request) HeaderValue(name string) []byte {
	for i := range r.Headers {
		h := &r.Headers[i]
		if len(h.Name) == len(name) && equalFold(h.Name, name) {
			return h.Value
		}
	}
	return nil
}

// QueryValue returns the first value of key in r.RawQuery, still
// percent-encoded, and whether key is present. See LookupQuery.
func (r *Request) QueryValue(key string) ([]byte, bool) {
	return LookupQuery(r.RawQuery, key)
}

// LookupQuery returns the raw (still percent-encoded) value of the first
// "key=value" or bare "key" pair of query whose key equals key byte for byte,
// and whether there is one. Pairs are separated by '&' only, as Node's
// querystring (used by engine.io) does; keys are compared undecoded, which is
// what Engine.IO clients send (EIO, transport, sid, t, b64). A bare key or
// "key=" yields an empty non-nil value. The value aliases query. Does not allocate.
func LookupQuery(query []byte, key string) ([]byte, bool) {
	if strings.IndexByte(key, '=') >= 0 {
		return nil, false // no pair has such a key
	}
	for len(query) > 0 {
		pair := query
		if i := bytes.IndexByte(query, '&'); i >= 0 {
			pair, query = query[:i], query[i+1:]
		} else {
			query = query[len(query):]
		}
		if len(pair) < len(key) || string(pair[:len(key)]) != key {
			continue
		}
		switch {
		case len(pair) == len(key):
			if len(pair) == 0 {
				continue // "a&&b": an empty pair is no key at all
			}
			return pair[len(pair):], true
		case pair[len(key)] == '=':
			return pair[len(key)+1:], true
		}
	}
	return nil, false
}

// HasToken reports whether the comma-separated list v (as in Connection or
// Upgrade) holds token, ignoring ASCII case and optional whitespace around
// elements. Does not allocate.
func HasToken(v []byte, token string) bool {
	for t, rest := nextToken(v); t != nil; t, rest = nextToken(rest) {
		if len(t) == len(token) && equalFold(t, token) {
			return true
		}
	}
	return false
}

// nextToken returns the first non-empty element of the comma-separated list v,
// trimmed of spaces and tabs, and the rest of the list; tok is nil at the end.
func nextToken(v []byte) (tok, rest []byte) {
	for len(v) > 0 {
		i := bytes.IndexByte(v, ',')
		if i < 0 {
			tok, v = v, v[len(v):]
		} else {
			tok, v = v[:i], v[i+1:]
		}
		if tok = trimOWS(tok); len(tok) > 0 {
			return tok, v
		}
	}
	return nil, nil
}

// equalFold reports whether b and s (same length) are equal ignoring ASCII case.
func equalFold(b []byte, s string) bool {
	for i := 0; i < len(s); i++ {
		if lower[b[i]] != lower[s[i]] {
			return false
		}
	}
	return true
}
