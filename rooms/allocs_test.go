//go:build !race

// The race detector makes sync.Pool drop items at random, so allocation counts are only
// meaningful without it.

package rooms

import (
	"testing"

	"github.com/riptide-io/riptide/internal/allocs"
)

func TestBroadcastToOneRoomDoesNotAllocate(t *testing.T) {
	h := &countingHost{}
	a := NewMemory(h, MemoryOptions{})
	populate(a, 1000, "big")
	p := &Packet{Type: 2, Data: []byte(`["m",1]`), ID: -1}
	opts := &Options{Rooms: []Room{"big"}}
	a.Broadcast(p, opts) // warm the slice pool
	allocs.MustNotAllocate(t, func() { a.Broadcast(p, opts) })
	if h.n.Load() < 1000 {
		t.Fatalf("delivered to %d members", h.n.Load())
	}
}
