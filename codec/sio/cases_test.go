package sio

// Wire forms produced by socket.io-parser 4.2.7's Encoder (the encoder of socket.io 4.8 and
// socket.io-client 4.8), generated with node from internal/nodetest/js/node_modules; the
// attachments follow as separate binary messages and are listed for reference. These are the
// canonical forms: Decode followed by AppendPacket reproduces them byte for byte.
var nodeCases = []struct {
	name string
	wire string
	want Packet
	atts [][]byte
}{
	{"connect", `0`, pkt(Connect, "/", -1, 0, ""), nil},
	{"connect nsp", `0/admin,`, pkt(Connect, "/admin", -1, 0, ""), nil},
	{"connect auth", `0{"token":"abc"}`, pkt(Connect, "/", -1, 0, `{"token":"abc"}`), nil},
	{"connect nsp auth", `0/admin,{"token":"abc","n":1}`, pkt(Connect, "/admin", -1, 0, `{"token":"abc","n":1}`), nil},
	{"connect reply", `0{"sid":"oSO0OpakMV_3jnilAAAA"}`, pkt(Connect, "/", -1, 0, `{"sid":"oSO0OpakMV_3jnilAAAA"}`), nil},
	{"disconnect", `1`, pkt(Disconnect, "/", -1, 0, ""), nil},
	{"disconnect nsp", `1/admin,`, pkt(Disconnect, "/admin", -1, 0, ""), nil},
	{"event", `2["chat message","hi"]`, pkt(Event, "/", -1, 0, `["chat message","hi"]`), nil},
	{"event id 0", `20["ev"]`, pkt(Event, "/", 0, 0, `["ev"]`), nil},
	{"event id args", `213["ev",1,"two",{"three":[3.5,true,null]}]`, pkt(Event, "/", 13, 0, `["ev",1,"two",{"three":[3.5,true,null]}]`), nil},
	{"event nsp id", `2/nsp,12["x"]`, pkt(Event, "/nsp", 12, 0, `["x"]`), nil},
	{"event numeric name", `2/nsp,[1,"numeric name"]`, pkt(Event, "/nsp", -1, 0, `[1,"numeric name"]`), nil},
	{"event unicode", "2[\"unicode\",\"é中😀\u2028\\n\\t\\\"\\\\\\u0001\\u001f/<>&\"]", pkt(Event, "/", -1, 0, "[\"unicode\",\"é中😀\u2028\\n\\t\\\"\\\\\\u0001\\u001f/<>&\"]"), nil},
	{"binary event", `51-["ev",{"_placeholder":true,"num":0}]`, pkt(BinaryEvent, "/", -1, 1, `["ev",{"_placeholder":true,"num":0}]`), [][]byte{{1, 2, 3}}},
	{"binary event nested", `52-7["ev",{"a":{"_placeholder":true,"num":0},"b":[{"_placeholder":true,"num":1},"s"]}]`,
		pkt(BinaryEvent, "/", 7, 2, `["ev",{"a":{"_placeholder":true,"num":0},"b":[{"_placeholder":true,"num":1},"s"]}]`), [][]byte{{1, 2, 3}, {}}},
	{"binary event nsp", `51-/bin,3["ev",{"_placeholder":true,"num":0}]`, pkt(BinaryEvent, "/bin", 3, 1, `["ev",{"_placeholder":true,"num":0}]`), [][]byte{[]byte("hello")}},
	{"ack empty", `30[]`, pkt(Ack, "/", 0, 0, `[]`), nil},
	{"ack", `342["ok",{"n":1}]`, pkt(Ack, "/", 42, 0, `["ok",{"n":1}]`), nil},
	{"ack nsp", `3/nsp,5[null]`, pkt(Ack, "/nsp", 5, 0, `[null]`), nil},
	{"binary ack", `61-9[{"_placeholder":true,"num":0}]`, pkt(BinaryAck, "/", 9, 1, `[{"_placeholder":true,"num":0}]`), [][]byte{{0xff}}},
	{"binary ack nsp", `62-/nsp,10["r",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`,
		pkt(BinaryAck, "/nsp", 10, 2, `["r",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`), [][]byte{{0}, {1}}},
	{"connect error", `4{"message":"Not authorized"}`, pkt(ConnectError, "/", -1, 0, `{"message":"Not authorized"}`), nil},
	{"connect error nsp", `4/random,{"message":"Invalid namespace"}`, pkt(ConnectError, "/random", -1, 0, `{"message":"Invalid namespace"}`), nil},
	{"connect error data", `4{"message":"err","data":{"code":42}}`, pkt(ConnectError, "/", -1, 0, `{"message":"err","data":{"code":42}}`), nil},
}

// Packets socket.io-parser's Decoder accepts that its Encoder never writes. Decode accepts them
// too; they re-encode to the canonical form.
var lenientCases = []struct {
	name, wire, canonical string
	want                  Packet
}{
	{"connect nsp no comma", `0/custom`, `0/custom,`, pkt(Connect, "/custom", -1, 0, "")},
	{"disconnect nsp no comma", `1/custom`, `1/custom,`, pkt(Disconnect, "/custom", -1, 0, "")},
	{"connect nsp auth", `0/custom,{"token":1}`, `0/custom,{"token":1}`, pkt(Connect, "/custom", -1, 0, `{"token":1}`)},
	{"root nsp written", `2/,["x"]`, `2["x"]`, pkt(Event, "/", -1, 0, `["x"]`)},
	{"id leading zeros", `2/nsp,007["x"]`, `2/nsp,7["x"]`, pkt(Event, "/nsp", 7, 0, `["x"]`)},
	{"whitespace around payload", "2\t[\"a\"]\n", `2["a"]`, pkt(Event, "/", -1, 0, `["a"]`)},
	{"whitespace after id", `21 ["a"] `, `21["a"]`, pkt(Event, "/", 1, 0, `["a"]`)},
	{"whitespace inside", `2[ "a" , 1 ]`, `2[ "a" , 1 ]`, pkt(Event, "/", -1, 0, `[ "a" , 1 ]`)},
	{"negative float name", `2[-1.5e3,"x"]`, `2[-1.5e3,"x"]`, pkt(Event, "/", -1, 0, `[-1.5e3,"x"]`)},
	{"string connect error", `4"msg"`, `4"msg"`, pkt(ConnectError, "/", -1, 0, `"msg"`)},
	{"attachments leading zero", `501-["a",{"_placeholder":true,"num":0}]`, `51-["a",{"_placeholder":true,"num":0}]`, pkt(BinaryEvent, "/", -1, 1, `["a",{"_placeholder":true,"num":0}]`)},
	{"max id", `29223372036854775807["x"]`, `29223372036854775807["x"]`, pkt(Event, "/", 9223372036854775807, 0, `["x"]`)},
	{"placeholder other key order", `51-["a",{"num":0,"_placeholder":true}]`, `51-["a",{"num":0,"_placeholder":true}]`, pkt(BinaryEvent, "/", -1, 1, `["a",{"num":0,"_placeholder":true}]`)},
	{"escaped non-reserved name", `2["\u0063onnectx"]`, `2["\u0063onnectx"]`, pkt(Event, "/", -1, 0, `["\u0063onnectx"]`)},
	{"disconnect with id", `1/nsp,5`, `1/nsp,5`, pkt(Disconnect, "/nsp", 5, 0, "")},
	{"ten attachments", `510-["a"]`, `510-["a"]`, pkt(BinaryEvent, "/", -1, 10, `["a"]`)},
}

// Packets Decode rejects. "node" says what socket.io-parser 4.2.7 does with them.
var badCases = []struct {
	name, wire string
	err        error
	node       string
}{
	{"empty", ``, ErrUnknownType, "CONNECT /"},
	{"type 7", `7[]`, ErrUnknownType, "unknown packet type 7"},
	{"type 9", `9`, ErrUnknownType, "unknown packet type 9"},
	{"type letter", `x`, ErrUnknownType, "unknown packet type NaN"},
	{"type space", ` `, ErrUnknownType, "CONNECT /"},
	{"event object", `2{}`, ErrInvalidPayload, "invalid payload"},
	{"event string", `2"x"`, ErrInvalidPayload, "invalid payload"},
	{"event empty array", `2[]`, ErrInvalidPayload, "invalid payload"},
	{"event object name", `2[{}]`, ErrInvalidPayload, "invalid payload"},
	{"event null name", `2[null]`, ErrInvalidPayload, "invalid payload"},
	{"event no payload", `2`, ErrInvalidPayload, "EVENT without data"},
	{"event nsp no payload", `2/nsp,`, ErrInvalidPayload, "EVENT without data"},
	{"event nsp swallows payload", `2/nsp["x"]`, ErrInvalidPayload, "EVENT /nsp[\"x\"] without data"},
	{"event reserved", `2["connect"]`, ErrInvalidPayload, "invalid payload"},
	{"event reserved escaped", `2["\u0063onnect"]`, ErrInvalidPayload, "invalid payload"},
	{"event reserved disconnecting", `2["disconnecting"]`, ErrInvalidPayload, "invalid payload"},
	{"event reserved newListener", `2["newListener",1]`, ErrInvalidPayload, "invalid payload"},
	{"binary event reserved", `51-["disconnect",{"_placeholder":true,"num":0}]`, ErrInvalidPayload, "invalid payload"},
	{"ack object", `31{}`, ErrInvalidPayload, "invalid payload"},
	{"ack no payload", `31`, ErrInvalidPayload, "ACK without data"},
	{"bad id letter", `21a["x"]`, ErrBadID, "invalid payload"},
	{"bad id dash", `21-["x"]`, ErrBadID, "invalid payload"},
	{"id overflow", `29223372036854775808["x"]`, ErrBadID, "id 9223372036854776000"},
	{"id way overflow", `299999999999999999999999["x"]`, ErrBadID, "id 1e+23"},
	{"disconnect payload", `1/nsp,{"x":1}`, ErrInvalidPayload, "invalid payload"},
	{"disconnect root payload", `1{}`, ErrInvalidPayload, "invalid payload"},
	{"connect array", `0[]`, ErrInvalidPayload, "invalid payload"},
	{"connect string", `0"x"`, ErrInvalidPayload, "invalid payload"},
	{"connect null", `0null`, ErrInvalidPayload, "invalid payload"},
	{"connect whitespace", `0/a, `, ErrInvalidJSON, "CONNECT /a with id 0: Number(\" \") is 0"},
	{"connect error array", `4[]`, ErrInvalidPayload, "invalid payload"},
	{"connect error none", `4`, ErrInvalidPayload, "CONNECT_ERROR without data"},
	{"trailing garbage", `2["a"]x`, ErrInvalidJSON, "invalid payload"},
	{"two values", `2["a"]["b"]`, ErrInvalidJSON, "invalid payload"},
	{"invalid json", `2["a",]`, ErrInvalidJSON, "invalid payload"},
	{"unterminated", `2["a"`, ErrInvalidJSON, "invalid payload"},
	{"single quotes", `2['a']`, ErrInvalidJSON, "invalid payload"},
	{"control in string", "2[\"a\x01\"]", ErrInvalidJSON, "invalid payload"},
	{"comma no nsp", `2,["x"]`, ErrInvalidJSON, "invalid payload"},
	{"nsp invalid utf8", "2/\xff,[\"x\"]", ErrBadNamespace, "nsp /\ufffd"},
	{"binary no attachments", `5-["a"]`, ErrBadAttachments, "Illegal attachments"},
	{"binary zero attachments", `50-["a"]`, ErrBadAttachments, "Illegal attachments"},
	{"binary no dash", `51["a"]`, ErrBadAttachments, "Illegal attachments"},
	{"binary nothing", `5`, ErrBadAttachments, "Illegal attachments"},
	{"binary space", `5 1-["a"]`, ErrBadAttachments, "accepted (Number(\" 1\") is 1)"},
	{"binary too many", `511-["a"]`, ErrTooManyAttachments, "too many attachments"},
	{"binary huge", `599999999999999999999999999-["a"]`, ErrTooManyAttachments, "too many attachments"},
	{"placeholder out of range", `51-["a",{"_placeholder":true,"num":1}]`, ErrBadPlaceholder, "illegal attachments, once the attachment arrived"},
	{"placeholder negative", `51-["a",{"_placeholder":true,"num":-1}]`, ErrBadPlaceholder, "illegal attachments"},
	{"placeholder string num", `51-["a",{"_placeholder":true,"num":"0"}]`, ErrBadPlaceholder, "illegal attachments"},
	{"placeholder no num", `61-[{"_placeholder":true}]`, ErrBadPlaceholder, "illegal attachments"},
	{"binary ack object", `61-{}`, ErrInvalidPayload, "invalid payload"},
}

func pkt(t Type, nsp string, id int64, atts int, data string) Packet {
	p := Packet{Type: t, Namespace: []byte(nsp), ID: id, Attachments: atts}
	if data != "" {
		p.Data = []byte(data)
	}
	return p
}
