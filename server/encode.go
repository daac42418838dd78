package server

import "github.com/riptide-io/riptide/codec/sio"

// The JSON of emitted values is written by codec/sio (AppendValue): one encoder, fuzzed and
// checked against Node's JSON.stringify there. What is left here is the server's own
// convention: an Args value alone is the arguments, not one argument.

// Object is a JSON object whose keys keep their order (a Go map sorts them). Values may hold
// binary ([]byte) and Args.
type Object = sio.Object

// Field is one key of an Object.
type Field = sio.Field

// appendArgs appends args as elements of a JSON array being built in dst (without the
// brackets; a leading comma is written before each element unless first), moving []byte
// values into attachments (see sio.AppendValue). An Args value as the only argument is
// spliced as its elements (echo without re-encoding). On error, dst and atts may hold part of
// the arguments; callers drop both.
func appendArgs(dst []byte, atts [][]byte, first bool, args []any) ([]byte, [][]byte, error) {
	if len(args) == 1 {
		if spread, ok := args[0].(Args); ok {
			return spread.appendElems(dst, atts, first)
		}
	}
	var err error
	for _, a := range args {
		if !first {
			dst = append(dst, ',')
		}
		first = false
		if dst, atts, err = sio.AppendValue(dst, atts, a); err != nil {
			return dst, atts, err
		}
	}
	return dst, atts, nil
}

// appendElems appends the arguments as elements of an array being built in dst, their
// placeholders renumbered after the attachments already in atts, and their attachments to
// atts.
func (a Args) appendElems(dst []byte, atts [][]byte, first bool) ([]byte, [][]byte, error) {
	offset := len(atts)
	it := sio.NewArrayIter(a.JSON())
	for v, ok := it.Next(); ok; v, ok = it.Next() {
		if !first {
			dst = append(dst, ',')
		}
		first = false
		var err error
		if dst, err = appendRenumbered(dst, v, len(a.atts), offset); err != nil {
			return dst, atts, err
		}
	}
	return dst, append(atts, a.atts...), it.Err()
}

// AppendJSON appends the arguments to dst as a JSON array and their attachments to atts,
// numbering the placeholders after the len(atts) attachments already there. It implements
// sio.Appender: Args inside an emitted value (an Object field, a []any element) are copied,
// not decoded and encoded again.
func (a Args) AppendJSON(dst []byte, atts [][]byte) ([]byte, [][]byte, error) {
	dst, err := appendRenumbered(dst, a.JSON(), len(a.atts), len(atts))
	if err != nil {
		return dst, atts, err
	}
	return dst, append(atts, a.atts...), nil
}

// appendRenumbered copies the JSON value v, whose placeholders name n attachments, adding
// offset to their numbers. With nothing to renumber it copies v unchecked.
func appendRenumbered(dst, v []byte, n, offset int) ([]byte, error) {
	if offset == 0 || n == 0 {
		return append(dst, v...), nil
	}
	return sio.AppendRenumbered(dst, v, n, offset)
}
