package tier

import (
	"fmt"
	"strings"
)

// Pattern is a compiled room or event pattern: literal text, "*" (one or more characters of
// any kind) and placeholders "{name}" (one or more characters other than ':'), which must
// equal the caller's claim of that name for the pattern to admit the caller:
//
//	chat:*               chat:lobby, chat:eu:general
//	user:{sub}           user:42 for the socket whose user id (the sub claim) is 42
//	org:{claims.org}:*   org:acme:general for a token with "org": "acme"
//
// "{user}" and "{sub}" name the socket's user id; "{claims.a.b}" (or "{a.b}") a claim,
// nested objects separated by dots. Matching does not allocate.
type Pattern struct {
	src   string
	parts []part
}

type partKind uint8

const (
	partLit  partKind = iota
	partStar          // "*": one or more characters
	partVar           // "{claim}": one or more characters other than ':'
)

type part struct {
	kind  partKind
	lit   string   // partLit
	claim []string // partVar: the claim path; nil for the user id
}

// CompilePattern parses a pattern; the error names what is wrong with it.
func CompilePattern(src string) (*Pattern, error) {
	if src == "" {
		return nil, fmt.Errorf("empty pattern")
	}
	p := &Pattern{src: src}
	for i := 0; i < len(src); {
		switch c := src[i]; c {
		case '*':
			if n := len(p.parts); n > 0 && p.parts[n-1].kind != partLit {
				return nil, fmt.Errorf("pattern %q: a wildcard or placeholder must be separated from the one before it by literal text", src)
			}
			p.parts = append(p.parts, part{kind: partStar})
			i++
		case '{':
			end := strings.IndexByte(src[i:], '}')
			if end < 0 {
				return nil, fmt.Errorf("pattern %q: unclosed {", src)
			}
			name := src[i+1 : i+end]
			if n := len(p.parts); n > 0 && p.parts[n-1].kind != partLit {
				return nil, fmt.Errorf("pattern %q: a wildcard or placeholder must be separated from the one before it by literal text", src)
			}
			path, err := claimPath(name)
			if err != nil {
				return nil, fmt.Errorf("pattern %q: %v", src, err)
			}
			p.parts = append(p.parts, part{kind: partVar, claim: path})
			i += end + 1
		case '}':
			return nil, fmt.Errorf("pattern %q: } without {", src)
		default:
			j := i
			for j < len(src) && src[j] != '*' && src[j] != '{' && src[j] != '}' {
				j++
			}
			p.parts = append(p.parts, part{kind: partLit, lit: src[i:j]})
			i = j
		}
	}
	return p, nil
}

// claimPath turns a placeholder's name into a claim path: nil for the user id.
func claimPath(name string) ([]string, error) {
	if name == "user" || name == "sub" {
		return nil, nil
	}
	name = strings.TrimPrefix(name, "claims.")
	if name == "" {
		return nil, fmt.Errorf("empty placeholder")
	}
	path := strings.Split(name, ".")
	for _, seg := range path {
		if seg == "" {
			return nil, fmt.Errorf("placeholder {%s}: empty claim name", name)
		}
	}
	return path, nil
}

// String returns the pattern as written.
func (p *Pattern) String() string { return p.src }

// HasPlaceholders reports whether the pattern names claims of the caller.
func (p *Pattern) HasPlaceholders() bool {
	for _, pt := range p.parts {
		if pt.kind == partVar {
			return true
		}
	}
	return false
}

// NeedsClaims reports whether matching needs claims besides the user id.
func (p *Pattern) NeedsClaims() bool {
	for _, pt := range p.parts {
		if pt.kind == partVar && pt.claim != nil {
			return true
		}
	}
	return false
}

// Match reports whether s has the pattern's shape, placeholders standing for any value.
func (p *Pattern) Match(s string) bool { return p.match(s, 0, nil) }

// MatchFor reports whether s has the pattern's shape with every placeholder equal to the
// caller's claim; a caller without an identity matches no pattern with placeholders.
func (p *Pattern) MatchFor(s string, id *Identity) bool {
	if id == nil && p.HasPlaceholders() {
		return false
	}
	return p.match(s, 0, id)
}

// match matches s against p.parts[k:]. With id nil, placeholders match any value.
func (p *Pattern) match(s string, k int, id *Identity) bool {
	for ; k < len(p.parts); k++ {
		pt := &p.parts[k]
		switch pt.kind {
		case partLit:
			if !strings.HasPrefix(s, pt.lit) {
				return false
			}
			s = s[len(pt.lit):]
		case partStar:
			if k == len(p.parts)-1 {
				return len(s) > 0
			}
			// The next part is a literal (CompilePattern guarantees it): try each of its
			// occurrences after at least one character.
			for i := 1; i <= len(s); i++ {
				if p.match(s[i:], k+1, id) {
					return true
				}
			}
			return false
		case partVar:
			lim := strings.IndexByte(s, ':')
			if lim < 0 {
				lim = len(s)
			}
			if id != nil {
				n := id.claimPrefix(pt.claim, s[:lim])
				return n > 0 && p.match(s[n:], k+1, id)
			}
			for n := lim; n >= 1; n-- {
				if p.match(s[n:], k+1, nil) {
					return true
				}
			}
			return false
		}
	}
	return s == ""
}
