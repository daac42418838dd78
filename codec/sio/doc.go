// Package sio encodes and decodes Socket.IO v5 packets and the JSON inside them.
//
// A packet is the data of one Engine.IO message:
//
//	<type>[<attachments>-][<namespace>,][<ack id>][<JSON payload>]
//	2["chat","hi"]   451-/nsp,7["up",{"_placeholder":true,"num":0}]   0/admin,{"token":"x"}
//
// Types run from 0 CONNECT to 6 BINARY_ACK. The namespace "/" is not written; another one ends
// at ',' (or at the end of the packet: clients may send "0/admin"). A binary packet carries
// placeholders {"_placeholder":true,"num":N} in its JSON and is followed by N binary Engine.IO
// messages, the attachments, in order.
//
// Decode parses a packet in place and validates it as socket.io-parser 4.2 does (full JSON
// validation, the payload shape for the type); the Packet it fills aliases the input. Payloads
// stay raw JSON: the server forwards what clients wrote, so numbers, escapes and key order survive
// re-broadcast as Node's JSON.stringify would have written them (PROTOCOL-NOTES 8). The helpers
// read that JSON without building values: EventName and ArgsIter split an event, ObjectField
// picks a member, Unquote decodes a string, CheckPlaceholders and AppendResolved deal with
// attachments. Encoding appends to caller buffers: AppendPacket, AppendQuote, AppendPlaceholder,
// AppendRenumbered, and AppendValue and AppendArgs for Go values: the module's one JSON encoder,
// which turns []byte into attachments, writes numbers with AppendNumber as JSON.stringify does
// (checked against Node on generated values) and stops a value that contains itself with
// ErrTooDeep at the decoder's nesting limit.
//
// Nothing here allocates except AppendValue on values outside its fast paths; tests assert it.
// The package is pure (bytes in, bytes out) and every function is safe for concurrent use on
// distinct buffers.
package sio
