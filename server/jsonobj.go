package server

// objectIter walks the members of a JSON object that is known to be valid (it came through
// sio.Decode or our own encoder): raw key (quoted) and raw value.
type objectIter struct {
	b []byte
	i int
}

func newObjectIter(obj []byte) objectIter {
	i := 0
	for i < len(obj) && obj[i] != '{' {
		i++
	}
	return objectIter{b: obj, i: i + 1}
}

func (it *objectIter) Next() (key, val []byte, ok bool) {
	b := it.b
	it.skipSpace()
	if it.i < len(b) && b[it.i] == ',' {
		it.i++
		it.skipSpace()
	}
	if it.i >= len(b) || b[it.i] != '"' {
		return nil, nil, false
	}
	ks := it.i
	it.i = skipValue(b, it.i)
	key = b[ks:it.i]
	it.skipSpace()
	it.i++ // ':'
	it.skipSpace()
	vs := it.i
	it.i = skipValue(b, it.i)
	return key, b[vs:it.i], true
}

func (it *objectIter) skipSpace() {
	for it.i < len(it.b) && isSpace(it.b[it.i]) {
		it.i++
	}
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// skipValue returns the index just past the JSON value starting at i.
func skipValue(b []byte, i int) int {
	if i >= len(b) {
		return i
	}
	switch b[i] {
	case '"':
		for i++; i < len(b); i++ {
			switch b[i] {
			case '\\':
				i++
			case '"':
				return i + 1
			}
		}
		return i
	case '{', '[':
		depth := 0
		for ; i < len(b); i++ {
			switch b[i] {
			case '"':
				i = skipValue(b, i) - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
		}
		return i
	}
	for i < len(b) && b[i] != ',' && b[i] != '}' && b[i] != ']' && !isSpace(b[i]) {
		i++
	}
	return i
}
