package eio

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"testing"
)

func addPacketSeeds(f *testing.F) {
	for _, tc := range textCases {
		f.Add([]byte(tc.wire))
	}
	for _, tc := range binaryCases {
		f.Add([]byte(tc.wire))
	}
	for _, tc := range badCases {
		f.Add([]byte(tc.wire))
	}
}

// FuzzParsePollingPacket: whatever parses re-encodes to the canonical wire form and parses back
// to the same packet; text packets re-encode byte for byte.
func FuzzParsePollingPacket(f *testing.F) {
	addPacketSeeds(f)
	f.Fuzz(func(t *testing.T, in []byte) {
		orig := bytes.Clone(in)
		p, err := ParsePollingPacket(in)
		if len(orig) == 0 || orig[0] != 'b' {
			// Text form: ParsePacket agrees and nothing was written.
			q, qerr := ParsePacket(orig)
			if qerr != err || (err == nil && !samePacket(p, q)) {
				t.Fatalf("ParsePacket(%q) = %+v, %v; ParsePollingPacket = %+v, %v", orig, q, qerr, p, err)
			}
			if !bytes.Equal(in, orig) {
				t.Fatalf("text packet %q modified to %q", orig, in)
			}
		}
		if err != nil {
			return
		}
		if err := p.Validate(); err != nil {
			t.Fatalf("decoded %q to invalid %+v: %v", orig, p, err)
		}
		enc := AppendPollingPacket(nil, p)
		if len(enc) != PollingPacketLen(p) {
			t.Fatalf("PollingPacketLen %d, encoded %d", PollingPacketLen(p), len(enc))
		}
		switch {
		case !p.Binary:
			if !bytes.Equal(enc, orig) {
				t.Fatalf("text %q re-encoded as %q", orig, enc)
			}
		case !bytes.Equal(enc, orig):
			// Only the padding may differ: the input was unpadded.
			if !bytes.HasPrefix(enc, orig) || len(bytes.TrimLeft(enc[len(orig):], "=")) != 0 {
				t.Fatalf("binary %q re-encoded as %q", orig, enc)
			}
		}
		q, err := ParsePollingPacket(bytes.Clone(enc))
		if err != nil || !samePacket(p, q) {
			t.Fatalf("%q -> %+v -> %q -> %+v, %v", orig, p, enc, q, err)
		}
	})
}

// FuzzPayload: splitting and decoding any payload in place never panics, splits as
// engine.io-parser does up to the first empty packet, and never writes past the packet decoded.
func FuzzPayload(f *testing.F) {
	for _, tc := range payloadCases {
		f.Add([]byte(tc.payload))
	}
	f.Add(AppendPayload(nil, []Packet{text(Message, "hello"), binary(1, 2, 3), binary(), text(Noop, "")}))
	f.Fuzz(func(t *testing.T, payload []byte) {
		orig := bytes.Clone(payload)
		var pkts []string
		steps := 0
		for pkt, rest, ok := NextPacket(payload); ok; pkt, rest, ok = NextPacket(rest) {
			if steps++; steps > len(orig)+1 {
				t.Fatalf("NextPacket does not terminate on %q", orig)
			}
			pkts = append(pkts, string(pkt))
			tail := bytes.Clone(rest)
			p, err := ParsePollingPacket(pkt)
			if !bytes.Equal(rest, tail) {
				t.Fatalf("decoding %q wrote into the rest of the payload", pkt)
			}
			if err == nil && p.Validate() != nil {
				t.Fatalf("invalid packet %+v", p)
			}
		}
		checkSplitPrefix(t, string(orig), pkts)
	})
}

// FuzzParseOpen: whatever parses re-encodes to valid JSON that parses back to the same handshake.
func FuzzParseOpen(f *testing.F) {
	f.Add(bytes.Clone(textCases[0].pkt.Data))
	f.Add([]byte(`{"sid":"abc","upgrades":[],"pingInterval":300,"pingTimeout":200,"maxPayload":100000000}`))
	f.Add([]byte(`{"sid":"a\"b\\c\u0000\ud800é","upgrades":["websocket","x"],"pingInterval":-1}`))
	f.Add([]byte(`{"sid":"x","extra":{"a":[1,2,null]},"pingTimeout":1e3}`))
	f.Add([]byte(`null`))
	f.Add([]byte(`{"sid":"x"`))
	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := ParseOpen(data)
		if err != nil {
			return
		}
		enc := AppendOpen(nil, h)
		if enc[0] != '0' || !json.Valid(enc[1:]) {
			t.Fatalf("AppendOpen(%+v) = %q, not JSON", h, enc)
		}
		h2, err := ParseOpen(enc[1:])
		if err != nil || !sameHandshake(h, h2) {
			t.Fatalf("%q -> %+v -> %q -> %+v, %v", data, h, enc, h2, err)
		}
	})
}

// FuzzDecodeBase64 checks the in-place decoder against encoding/base64's strict decoders, which
// accept the same language except that they skip '\r' and '\n'.
func FuzzDecodeBase64(f *testing.F) {
	for _, s := range []string{"", "AQ==", "AQ", "AQI=", "AQID", "A", "A===", "AR==", "AQ\n==", "//79/A=="} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		orig := bytes.Clone(in)
		n, err := decodeBase64InPlace(in)
		enc := base64.StdEncoding
		if len(orig)%4 != 0 || bytes.IndexByte(orig, '=') < 0 {
			enc = base64.RawStdEncoding
		}
		want, werr := enc.Strict().DecodeString(string(orig))
		if bytes.ContainsAny(orig, "\r\n") {
			if err == nil {
				t.Fatalf("accepted newline in %q", orig)
			}
			return
		}
		if (err == nil) != (werr == nil) {
			t.Fatalf("decode %q: err %v, encoding/base64 %v", orig, err, werr)
		}
		if err == nil && !bytes.Equal(in[:n], want) {
			t.Fatalf("decode %q = %x, want %x", orig, in[:n], want)
		}
	})
}
