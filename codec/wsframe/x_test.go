package wsframe
import "testing"
func BenchmarkXParse(b *testing.B) {
	buf := encodeClient(b, headerCases[0].h)
	var s int64
	for b.Loop() {
		h, n, _ := ParseHeader(buf, 0)
		s += h.Length + int64(n)
	}
	_ = s
}
