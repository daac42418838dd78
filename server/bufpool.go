package server

import "github.com/valyala/bytebufferpool"

func getBuf() *bytebufferpool.ByteBuffer  { return bytebufferpool.Get() }
func putBuf(b *bytebufferpool.ByteBuffer) { bytebufferpool.Put(b) }
