package sio

// ArrayIter walks the elements of a JSON array in place. Each element is validated as it is
// reached; the first problem ends the walk and is reported by Err. It does not allocate.
//
//	it := sio.NewArrayIter(data)
//	for elem, ok := it.Next(); ok; elem, ok = it.Next() { ... }
//	if err := it.Err(); err != nil { ... }
type ArrayIter struct {
	b     []byte
	i     int
	state iterState
	err   error
}

type iterState uint8

const (
	iterOpen iterState = iota // before '['
	iterMore                  // after an element: ',' or ']' follows
	iterDone
)

// NewArrayIter returns an iterator over the elements of the JSON array arr (whitespace around
// it is allowed). The elements it returns alias arr.
func NewArrayIter(arr []byte) ArrayIter {
	return ArrayIter{b: arr}
}

// ArgsIter returns an iterator over the elements in rest, the tail of an array after its first
// element as EventName returns it: "]" or ", elem, ...]". Elements alias rest.
func ArgsIter(rest []byte) ArrayIter {
	return ArrayIter{b: rest, state: iterMore}
}

// Next returns the next element as raw JSON without surrounding whitespace, or ok == false at
// the end of the array or on error (then Err is non-nil). The element aliases the iterated
// bytes.
func (it *ArrayIter) Next() (elem []byte, ok bool) {
	b := it.b
	var i int
	switch it.state {
	case iterDone:
		return nil, false
	case iterOpen:
		i = skipWS(b, 0)
		if i >= len(b) || b[i] != '[' {
			return it.fail()
		}
		i = skipWS(b, i+1)
		if i < len(b) && b[i] == ']' {
			return it.finish(i + 1)
		}
	case iterMore:
		i = skipWS(b, it.i)
		if i >= len(b) {
			return it.fail()
		}
		if b[i] == ']' {
			return it.finish(i + 1)
		}
		if b[i] != ',' {
			return it.fail()
		}
		i = skipWS(b, i+1)
	}
	end, valid := scanValue(b, i, maxDepth-1)
	if !valid {
		return it.fail()
	}
	it.i, it.state = end, iterMore
	return b[i:end:end], true
}

// finish ends the walk at the closing ']' (i is past it); only whitespace may follow.
func (it *ArrayIter) finish(i int) ([]byte, bool) {
	if skipWS(it.b, i) != len(it.b) {
		return it.fail()
	}
	it.state = iterDone
	return nil, false
}

func (it *ArrayIter) fail() ([]byte, bool) {
	it.state, it.err = iterDone, ErrInvalidJSON
	return nil, false
}

// Err returns ErrInvalidJSON once the walk has stopped on malformed JSON, nil otherwise.
func (it *ArrayIter) Err() error {
	return it.err
}

// EventName splits an EVENT payload (a JSON array) into its first element, the event name, and
// the rest. name is the raw JSON of that element: a string literal with its quotes (decode it with
// Unquote) or a number. rest is the array after the name, starting at the ',' before the first
// argument or at the closing ']': iterate the arguments with ArgsIter(rest), or write them as an
// array of their own with AppendArgsArray. Both alias data; nothing is copied.
//
// EventName validates the name but not the arguments (Decode has validated the whole payload;
// ArgsIter checks them otherwise). It returns ErrInvalidPayload for an empty array or a name that
// is neither a string nor a number, and ErrInvalidJSON for malformed JSON. It does not allocate.
func EventName(data []byte) (name, rest []byte, err error) {
	i := skipWS(data, 0)
	if i >= len(data) || data[i] != '[' {
		return nil, nil, ErrInvalidPayload
	}
	i = skipWS(data, i+1)
	if i < len(data) && data[i] == ']' {
		return nil, nil, ErrInvalidPayload
	}
	end, ok := scanValue(data, i, maxDepth-1)
	if !ok {
		return nil, nil, ErrInvalidJSON
	}
	if c := data[i]; c != '"' && c != '-' && !isDigit(c) {
		return nil, nil, ErrInvalidPayload
	}
	j := skipWS(data, end)
	if j >= len(data) || data[j] != ',' && data[j] != ']' {
		return nil, nil, ErrInvalidJSON
	}
	return data[i:end:end], data[j:], nil
}

// AppendArgsArray appends the elements of rest (as returned by EventName) as a JSON array:
// "[]" for "]", and '[' followed by rest after its ',' otherwise. It does not allocate when dst has
// room for len(rest)+1 bytes.
func AppendArgsArray(dst, rest []byte) []byte {
	if len(rest) == 0 || rest[0] != ',' {
		return append(dst, '[', ']')
	}
	dst = append(dst, '[')
	return append(dst, trimWS(rest[1:])...)
}

// ObjectField returns the raw JSON value of the top-level member key of the JSON object obj,
// without surrounding whitespace; it aliases obj. Keys are compared after unescaping, and when a
// key appears twice the last one wins, as with JSON.parse. ok is false when the key is absent
// or obj is not a valid JSON object. It does not allocate.
func ObjectField(obj []byte, key string) (val []byte, ok bool) {
	i := skipWS(obj, 0)
	if i >= len(obj) || obj[i] != '{' {
		return nil, false
	}
	i = skipWS(obj, i+1)
	if i < len(obj) && obj[i] == '}' {
		return nil, false
	}
	for {
		if i >= len(obj) || obj[i] != '"' {
			return nil, false
		}
		kend, valid := scanString(obj, i)
		if !valid {
			return nil, false
		}
		match := strEqual(obj[i:kend], key)
		i = skipWS(obj, kend)
		if i >= len(obj) || obj[i] != ':' {
			return nil, false
		}
		i = skipWS(obj, i+1)
		vend, valid := scanValue(obj, i, maxDepth-1)
		if !valid {
			return nil, false
		}
		if match {
			val = obj[i:vend:vend]
		}
		i = skipWS(obj, vend)
		if i >= len(obj) {
			return nil, false
		}
		if obj[i] == '}' {
			if skipWS(obj, i+1) != len(obj) {
				return nil, false
			}
			return val, val != nil
		}
		if obj[i] != ',' {
			return nil, false
		}
		i = skipWS(obj, i+1)
	}
}
