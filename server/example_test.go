package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"

	"github.com/riptide-io/riptide/server"
	"github.com/riptide-io/riptide/server/engine"
)

// A chat server: a token check, a welcome, a broadcast and an acknowledged message.
func Example() {
	io := server.New(server.Options{})
	io.Use(func(s *server.Socket) error {
		var auth struct{ Token string }
		if s.Handshake().Auth != nil {
			_ = jsonUnmarshal(s.Handshake().Auth, &auth)
		}
		if auth.Token == "" {
			return &server.ConnectError{Message: "missing token"}
		}
		return nil
	})
	io.OnConnection(func(s *server.Socket) {
		_ = s.Emit("welcome", "hello there")
	})
	io.On("chat", func(s *server.Socket, ev *server.Event) {
		text, _ := ev.String(0)
		_ = s.Broadcast().Emit("chat", text) // everyone but the sender
		_ = ev.Ack("delivered")
	})
	l, _ := io.Listen("127.0.0.1:0", engine.ListenConfig{})
	defer l.Close(context.Background())

	c := dial(l.Addr())
	c.send(`40{"Token":"ana"}`)
	c.read()              // 40{"sid":"..."}
	fmt.Println(c.read()) // the welcome
	c.send(`421["chat","hi all"]`)
	fmt.Println(c.read()) // the ack
	// Output:
	// 42["welcome","hello there"]
	// 431["delivered"]
}

// Binary attachments: []byte arguments travel as binary frames, placeholders in the JSON.
func ExampleSocket_Emit_binary() {
	io := server.New(server.Options{})
	io.OnConnection(func(s *server.Socket) {
		_ = s.Emit("file", "a.bin", []byte{1, 2, 3})
	})
	l, _ := io.Listen("127.0.0.1:0", engine.ListenConfig{})
	defer l.Close(context.Background())

	c := dial(l.Addr())
	c.send(`40`)
	c.read()
	fmt.Println(c.read())
	fmt.Println(c.read())
	// Output:
	// 451-["file","a.bin",{"_placeholder":true,"num":0}]
	// <binary 010203>
}

// An ack from the client, with a timeout.
func ExampleSocket_EmitWithAck() {
	io := server.New(server.Options{})
	answers := make(chan string, 1)
	io.OnConnection(func(s *server.Socket) {
		go func() {
			args, err := s.Timeout(time.Second).EmitWithAck(context.Background(), "question", "ready?")
			if err != nil {
				answers <- err.Error()
				return
			}
			answer, _ := args.String(0)
			answers <- answer
		}()
	})
	l, _ := io.Listen("127.0.0.1:0", engine.ListenConfig{})
	defer l.Close(context.Background())

	c := dial(l.Addr())
	c.send(`40`)
	c.read()
	fmt.Println(c.read()) // the question, with ack id 0
	c.send(`430["yes"]`)
	fmt.Println(<-answers)
	// Output:
	// 420["question","ready?"]
	// yes
}

// Rooms: join, and broadcast to a room except some sockets.
func ExampleBroadcastOperator() {
	io := server.New(server.Options{})
	io.On("join", func(s *server.Socket, ev *server.Event) {
		room, _ := ev.String(0)
		s.Join(room)
		_ = ev.Ack()
	})
	l, _ := io.Listen("127.0.0.1:0", engine.ListenConfig{})
	defer l.Close(context.Background())

	c := dial(l.Addr())
	c.send(`40`)
	c.read()
	c.send(`421["join","news"]`)
	c.read()
	_ = io.To("news").Except("sports").Emit("headline", server.Object{{Key: "title", Value: "riptide"}, {Key: "n", Value: 1}})
	fmt.Println(c.read())
	// Output:
	// 42["headline",{"title":"riptide","n":1}]
}

// client is a bare WebSocket Socket.IO client, so the examples show the wire.
type client struct {
	c  net.Conn
	rw io.ReadWriter
}

func dial(addr string) *client {
	c, br, _, err := ws.Dial(context.Background(), "ws://"+addr+"/socket.io/?EIO=4&transport=websocket")
	if err != nil {
		panic(err)
	}
	cl := &client{c: c, rw: c}
	if br != nil { // bytes that came with the handshake response
		cl.rw = struct {
			io.Reader
			io.Writer
		}{io.MultiReader(br, c), c}
	}
	cl.next() // the Engine.IO open packet
	return cl
}

// send writes one Engine.IO packet ("4" + a Socket.IO packet).
func (c *client) send(s string) { _ = wsutil.WriteClientText(c.c, []byte(s)) }

// read returns the next Engine.IO packet, or a binary frame.
func (c *client) read() string {
	p, op := c.next()
	if op == ws.OpBinary {
		return fmt.Sprintf("<binary %x>", p)
	}
	return string(p)
}

func (c *client) next() ([]byte, ws.OpCode) {
	for {
		p, op, err := wsutil.ReadServerData(c.rw)
		if err != nil {
			panic(err)
		}
		if op == ws.OpText && string(p) == "2" { // ping
			_ = wsutil.WriteClientText(c.c, []byte("3"))
			continue
		}
		return p, op
	}
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
