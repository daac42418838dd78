package wsframe

import (
	"testing"

	"github.com/gobwas/ws"
)

type asmStep struct {
	op    ws.OpCode
	fin   bool
	msgOp ws.OpCode
	final bool
	err   error
}

func step(op ws.OpCode, fin bool, msgOp ws.OpCode, final bool) asmStep {
	return asmStep{op, fin, msgOp, final, nil}
}

func fail(op ws.OpCode, fin bool, err error) asmStep { return asmStep{op: op, fin: fin, err: err} }

const (
	opT, opB, opC          = ws.OpText, ws.OpBinary, ws.OpContinuation
	opPing, opPong, opClos = ws.OpPing, ws.OpPong, ws.OpClose
)

var assemblerCases = []struct {
	name  string
	steps []asmStep
}{
	{"single text", []asmStep{step(opT, true, opT, true)}},
	{"single binary twice", []asmStep{step(opB, true, opB, true), step(opB, true, opB, true)}},
	{"fragmented text", []asmStep{step(opT, false, opT, false), step(opC, false, opT, false), step(opC, true, opT, true)}},
	{"fragmented binary then text", []asmStep{step(opB, false, opB, false), step(opC, true, opB, true), step(opT, true, opT, true)}},
	{"interleaved ping and pong", []asmStep{
		step(opT, false, opT, false), step(opPing, true, opPing, true), step(opC, false, opT, false),
		step(opPong, true, opPong, true), step(opC, true, opT, true)}},
	{"close mid-message", []asmStep{step(opB, false, opB, false), step(opClos, true, opClos, true)}},
	{"empty final continuation", []asmStep{step(opT, false, opT, false), step(opC, true, opT, true)}},
	{"continuation first", []asmStep{fail(opC, true, ErrUnexpectedContinuation)}},
	{"continuation nonfinal first", []asmStep{fail(opC, false, ErrUnexpectedContinuation)}},
	{"continuation after complete", []asmStep{step(opT, true, opT, true), fail(opC, true, ErrUnexpectedContinuation)}},
	{"continuation after fragmented complete", []asmStep{step(opT, false, opT, false), step(opC, true, opT, true), fail(opC, true, ErrUnexpectedContinuation)}},
	{"text during text", []asmStep{step(opT, false, opT, false), fail(opT, true, ErrExpectedContinuation)}},
	{"binary during text after ping", []asmStep{step(opT, false, opT, false), step(opPing, true, opPing, true), fail(opB, false, ErrExpectedContinuation)}},
	{"reserved opcode", []asmStep{fail(0x3, true, ErrBadOpcode)}},
}

func TestAssembler(t *testing.T) {
	for _, tc := range assemblerCases {
		t.Run(tc.name, func(t *testing.T) {
			var a Assembler
			for i, s := range tc.steps {
				before := a
				msgOp, final, err := a.Frame(ws.Header{Fin: s.fin, OpCode: s.op, Masked: true})
				if err != s.err || (err == nil && (msgOp != s.msgOp || final != s.final)) {
					t.Fatalf("step %d: got %v %v %v; want %v %v %v", i, msgOp, final, err, s.msgOp, s.final, s.err)
				}
				if err != nil || s.op.IsControl() {
					if a != before {
						t.Fatalf("step %d: state changed on error or control frame", i)
					}
				}
				if err == nil && !s.op.IsControl() && a.InProgress() == final {
					t.Fatalf("step %d: InProgress = %v after final = %v", i, a.InProgress(), final)
				}
			}
		})
	}
}

func TestAssemblerRsvAndReset(t *testing.T) {
	var a Assembler
	a.Frame(ws.Header{OpCode: ws.OpBinary, Rsv: RSV1})
	a.Frame(ws.Header{OpCode: ws.OpPing, Fin: true})
	if a.Rsv()&RSV1 == 0 || a.Op() != ws.OpBinary || !a.InProgress() {
		t.Fatalf("%+v", a)
	}
	if _, final, _ := a.Frame(ws.Header{OpCode: ws.OpContinuation, Fin: true}); !final || a.Rsv() != RSV1 {
		t.Fatalf("rsv of the finished message must stay readable: %+v", a)
	}
	a.Frame(ws.Header{OpCode: ws.OpText})
	a.Reset()
	if a != (Assembler{}) {
		t.Fatal("Reset")
	}
}

func TestValidText(t *testing.T) {
	for s, ok := range map[string]bool{
		"": true, "hello": true, "κόσμε": true, "😀": true,
		"\xff": false, "\xed\xa0\x80": false, "\xce": false, "\xf4\x90\x80\x80": false,
	} {
		if ValidText([]byte(s)) != ok {
			t.Errorf("ValidText(%q) != %v", s, ok)
		}
	}
}
