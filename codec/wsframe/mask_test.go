package wsframe

import (
	"bytes"
	"testing"
)

func naiveXOR(p []byte, mask [4]byte, offset int) {
	for i := range p {
		p[i] ^= mask[(offset+i)%4]
	}
}

func TestUnmask(t *testing.T) {
	masks := [][4]byte{{0, 0, 0, 0}, maskRFC, {0xff, 0xff, 0xff, 0xff}, {1, 2, 3, 4}}
	for _, mask := range masks {
		for _, n := range []int{0, 1, 3, 4, 5, 15, 16, 17, 31, 64, 100, 1024, 1027} {
			src := make([]byte, n)
			for i := range src {
				src[i] = byte(i*7 + 3)
			}
			want := bytes.Clone(src)
			naiveXOR(want, mask, 0)
			got := bytes.Clone(src)
			Unmask(got, mask)
			if !bytes.Equal(got, want) {
				t.Fatalf("mask %x n %d", mask, n)
			}
			Unmask(got, mask)
			if !bytes.Equal(got, src) {
				t.Fatalf("mask %x n %d: twice is not identity", mask, n)
			}
			// Unmasking in two pieces, split at every offset, equals the whole.
			for cut := 0; cut <= n; cut++ {
				got := bytes.Clone(src)
				UnmaskAt(got[:cut], mask, 0)
				UnmaskAt(got[cut:], mask, cut)
				if !bytes.Equal(got, want) {
					t.Fatalf("mask %x n %d cut %d", mask, n, cut)
				}
			}
		}
	}
}
