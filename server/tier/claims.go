package tier

import (
	"strings"

	"github.com/riptide-io/riptide/codec/sio"
)

// Claims the policies read. The claims JSON is kept on the Identity only with
// JWTConfig.KeepClaims (cmd/riptide turns it on when a policy needs claims); without it every
// lookup below finds nothing, so a policy that needs a claim refuses: deny by default.

// Claim returns the raw JSON of the claim at path (nested objects: "org", "id"), or false.
func (id *Identity) Claim(path ...string) ([]byte, bool) {
	if id == nil || len(id.Claims) == 0 || len(path) == 0 {
		return nil, false
	}
	v := []byte(id.Claims)
	for _, name := range path {
		var ok bool
		if v, ok = sio.ObjectField(v, name); !ok {
			return nil, false
		}
	}
	return v, true
}

// claimText returns a string claim's text (a number claim's literal), decoded into buf when
// it has escapes, or false.
func (id *Identity) claimText(buf []byte, path []string) ([]byte, bool) {
	if path == nil {
		return nil, false
	}
	v, ok := id.Claim(path...)
	if !ok || len(v) == 0 {
		return nil, false
	}
	switch c := v[0]; {
	case c == '"':
		t, err := sio.Unquote(buf, v)
		return t, err == nil
	case c == '-' || (c >= '0' && c <= '9'):
		return v, true
	}
	return nil, false
}

// claimPrefix returns the length of the claim at path (the user id when path is nil) when s
// starts with it, else 0.
func (id *Identity) claimPrefix(path []string, s string) int {
	if path == nil {
		if id.User != "" && strings.HasPrefix(s, id.User) {
			return len(id.User)
		}
		return 0
	}
	var buf [128]byte
	t, ok := id.claimText(buf[:0], path)
	if !ok || len(t) == 0 || len(t) > len(s) || s[:len(t)] != string(t) {
		return 0
	}
	return len(t)
}

// HasPermission reports whether the claim named claim lists perm: an array of strings, or
// one string of space-separated values (OAuth's scope).
func (id *Identity) HasPermission(claim, perm string) bool {
	return id.claimListHas(claim, perm, false)
}

// Granted reports whether the claim named claim grants room: an array of strings (or a
// space-separated string) with the room's name, or a pattern that matches it ("*" for any
// run of characters, e.g. "team:42:*").
func (id *Identity) Granted(claim, room string) bool {
	return id.claimListHas(claim, room, true)
}

// claimListHas reports whether some entry of the list claim equals s, or with glob matches
// it as a pattern. (A callback would make the decoding buffer escape: one allocation per
// check.)
func (id *Identity) claimListHas(claim, s string, glob bool) bool {
	f := func(v []byte) bool {
		if glob {
			return globMatch(v, s)
		}
		return string(v) == s
	}
	v, ok := id.Claim(claim)
	if !ok || len(v) == 0 {
		return false
	}
	var buf [128]byte
	if v[0] == '"' {
		t, err := sio.Unquote(buf[:0], v)
		if err != nil {
			return false
		}
		for len(t) > 0 {
			i := 0
			for i < len(t) && t[i] != ' ' {
				i++
			}
			if i > 0 && f(t[:i]) {
				return true
			}
			t = t[min(i+1, len(t)):]
		}
		return false
	}
	it := sio.NewArrayIter(v)
	for e, ok := it.Next(); ok; e, ok = it.Next() {
		if len(e) == 0 || e[0] != '"' {
			continue
		}
		if t, err := sio.Unquote(buf[:0], e); err == nil && f(t) {
			return true
		}
	}
	return false
}

// globMatch matches s against pattern, where '*' stands for any run of characters (none
// included) and everything else is literal.
func globMatch(pattern []byte, s string) bool {
	star, back := -1, 0
	p, i := 0, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && pattern[p] == '*':
			star, back = p, i
			p++
		case p < len(pattern) && pattern[p] == s[i]:
			p++
			i++
		case star >= 0:
			back++
			p, i = star+1, back
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}
