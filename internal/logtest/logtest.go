// Package logtest is a log sink for tests that read what a server logs while the server's
// goroutines (event loops, workers, the Redis subscriber) write to it.
package logtest

import (
	"bytes"
	"sync"
)

// Buffer collects writes. Safe for concurrent use.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write implements io.Writer.
func (l *Buffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// String returns what was written so far.
func (l *Buffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
