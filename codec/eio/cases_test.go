package eio

// Wire examples shared by the tests, the fuzz seed corpora and the benchmarks. The payloads were
// produced by engine.io-parser 5.2.3's encodePayload under Node (the encoder engine.io-client and
// the engine.io server both use), e.g.
//
//	encodePayload([{type:"message",data:"hello"},{type:"message",data:Buffer.from([1,2,3])},{type:"ping"}])

type packetCase struct {
	name string
	wire string // polling form; also the text form when !pkt.Binary
	pkt  Packet
}

func text(t Type, data string) Packet { return Packet{Type: t, Data: []byte(data)} }
func binary(data ...byte) Packet      { return Packet{Type: Message, Binary: true, Data: data} }

var textCases = []packetCase{
	{"open", `0{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`,
		text(Open, `{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`)},
	{"close", "1", text(Close, "")},
	{"ping", "2", text(Ping, "")},
	{"ping probe", "2probe", text(Ping, "probe")},
	{"pong", "3", text(Pong, "")},
	{"pong probe", "3probe", text(Pong, "probe")},
	{"message empty", "4", text(Message, "")},
	{"message", "4hello", text(Message, "hello")},
	{"message utf8", "4€ é 😀", text(Message, "€ é 😀")},
	{"message digit data", "44", text(Message, "4")},
	{"message with b", "4bAQID", text(Message, "bAQID")},
	{"message separator-free control bytes", "4\x00\x1f\x7f", text(Message, "\x00\x1f\x7f")},
	{"sio connect", "40", text(Message, "0")},
	{"sio connect ns auth", `40/admin,{"token":"abc"}`, text(Message, `0/admin,{"token":"abc"}`)},
	{"sio event", `42["chat message","hi"]`, text(Message, `2["chat message","hi"]`)},
	{"sio binary event", `451-["upload",{"_placeholder":true,"num":0}]`, text(Message, `51-["upload",{"_placeholder":true,"num":0}]`)},
	{"upgrade", "5", text(Upgrade, "")},
	{"noop", "6", text(Noop, "")},
}

var binaryCases = []packetCase{
	{"empty", "b", binary()},
	{"1 byte", "b/w==", binary(0xff)},
	{"2 bytes", "b//4=", binary(0xff, 0xfe)},
	{"3 bytes", "bAQID", binary(1, 2, 3)},
	{"4 bytes", "b//79/A==", binary(0xff, 0xfe, 0xfd, 0xfc)},
	{"ascii", "bYWJj", binary('a', 'b', 'c')},
	{"zeros", "bAAAAAA==", binary(0, 0, 0, 0)},
	{"separator byte", "bHg==", binary(Separator)},
}

var badCases = []struct {
	name string
	wire string
	err  error
}{
	{"empty", "", ErrEmptyPacket},
	{"type 7", "7", ErrUnknownType},
	{"type 9", "9data", ErrUnknownType},
	{"below digits", "/", ErrUnknownType},
	{"letter", "x", ErrUnknownType},
	{"space", " 4", ErrUnknownType},
	{"separator", "\x1e", ErrUnknownType},
	{"high byte", "\xff", ErrUnknownType},
	{"B uppercase", "BAQID", ErrUnknownType},
	{"base64 dangling char", "bA", ErrBadBase64},
	{"base64 5 chars", "bAQIDB", ErrBadBase64},
	{"base64 bad char", "bAQ.D", ErrBadBase64},
	{"base64 whitespace", "bAQ ID", ErrBadBase64},
	{"base64 newline", "bAQID\n", ErrBadBase64},
	{"base64 url-safe", "b-_8=", ErrBadBase64},
	{"base64 pad only", "b====", ErrBadBase64},
	{"base64 pad 3", "bA===", ErrBadBase64},
	{"base64 pad mid", "bAQ==AQID", ErrBadBase64},
	{"base64 pad short", "bAQ=", ErrBadBase64},
	{"base64 trailing bits 1", "bAR==", ErrBadBase64},
	{"base64 trailing bits 2", "bAAF=", ErrBadBase64},
	{"base64 trailing bits unpadded", "bAR", ErrBadBase64},
	{"base64 nul", "bAQI\x00", ErrBadBase64},
}

// payloadCases are polling payloads and the packets in them, as NextPacket splits them.
var payloadCases = []struct {
	name    string
	payload string
	pkts    []string
}{
	{"empty", "", nil},
	{"one", "4hello", []string{"4hello"}},
	{"node text binary ping", "4hello\x1ebAQID\x1e2", []string{"4hello", "bAQID", "2"}},
	{"node empty binary", "b", []string{"b"}},
	{"node utf8 close", "4€ é 😀\x1e1", []string{"4€ é 😀", "1"}},
	{"node binaries", "b/w==\x1eb//4=\x1eb//79/A==", []string{"b/w==", "b//4=", "b//79/A=="}},
	{"node sio binary event", "451-[\"ev\",{\"_placeholder\":true,\"num\":0}]\x1ebYWJj",
		[]string{`451-["ev",{"_placeholder":true,"num":0}]`, "bYWJj"}},
	{"node pong connect", "3\x1e440", []string{"3", "440"}},
	{"trailing separator", "4a\x1e", []string{"4a", ""}},
	{"leading separator", "\x1e4a", []string{"", "4a"}},
	{"doubled separator", "4a\x1e\x1e4b", []string{"4a", "", "4b"}},
	{"lone separator", "\x1e", []string{""}},
	{"two separators", "\x1e\x1e", []string{"", ""}},
	{"trailing doubled", "4a\x1e\x1e", []string{"4a", ""}},
}
