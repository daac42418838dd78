package wsframe

import "github.com/gobwas/ws"

// Unmask XORs payload in place with a client frame's mask (h.Mask). Applying it
// twice restores the masked bytes, so unmask a frame only when it will be
// consumed: if it stays in gnet's buffer, the next parse would see it unmasked.
func Unmask(payload []byte, mask [4]byte) {
	ws.Cipher(payload, mask, 0)
}

// UnmaskAt is Unmask for a piece of a payload that starts offset bytes into the
// frame's payload, for a server that unmasks a large frame as it arrives.
func UnmaskAt(payload []byte, mask [4]byte, offset int) {
	ws.Cipher(payload, mask, offset)
}
