package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gobwas/ws"
)

// Errors a client session can end with.
var (
	errHandshakeStatus = errors.New("bench: websocket handshake not answered with 101")
	errNoOpenPacket    = errors.New("bench: first frame is not an Engine.IO open packet")
	errServerClose     = errors.New("bench: server sent a close frame")
)

// ipBindAddressNoPort is IP_BIND_ADDRESS_NO_PORT (Linux 4.2+). The syscall
// package defines it only on some architectures. With it, bind() to a source
// address defers the port choice to connect(), so ports are shared per
// 4-tuple and TIME_WAIT sockets left by an earlier run never make bind fail.
const ipBindAddressNoPort = 0x18

// workerStatus is one line a worker writes on stdout. The parent keeps the
// latest one per worker.
type workerStatus struct {
	Target    int    `json:"target"`
	Connected int    `json:"connected"` // sessions that received the open packet and are still up
	InFlight  int    `json:"inflight"`
	Failed    int    `json:"failed"` // dials or handshakes that failed
	Lost      int    `json:"lost"`   // sessions that ended after the open packet
	Pongs     int64  `json:"pongs"`
	Done      bool   `json:"done"` // Connected >= Target, or the worker gave up on this target
	NoFile    uint64 `json:"nofile"`
	Err       string `json:"err,omitempty"` // last error seen
}

// workerConfig is what the parent passes on the worker's command line.
type workerConfig struct {
	addr        string   // server host:port
	path        string   // Engine.IO path, e.g. /socket.io/
	srcs        []net.IP // source addresses, used round-robin
	concurrency int      // dials in flight at once
	dialTimeout time.Duration
}

// runWorker is the hidden "worker" subcommand. It reads commands from stdin,
// one per line: "target N" (hold N sessions; targets only grow) or "quit".
// EOF on stdin means quit, so a dead parent takes its workers with it.
func runWorker(args []string) error {
	fs := flag.NewFlagSet("worker", flag.ContinueOnError)
	addr := fs.String("addr", "", "server host:port")
	path := fs.String("path", "/socket.io/", "Engine.IO path")
	srcs := fs.String("src", "127.0.0.1", "comma-separated source addresses")
	conc := fs.Int("concurrency", 32, "dials in flight")
	dialTimeout := fs.Duration("dial-timeout", 10*time.Second, "dial and handshake timeout")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg := workerConfig{addr: *addr, path: *path, concurrency: max(1, *conc), dialTimeout: *dialTimeout}
	for s := range strings.SplitSeq(*srcs, ",") {
		ip := net.ParseIP(strings.TrimSpace(s))
		if ip == nil || !ip.IsLoopback() {
			return fmt.Errorf("bench: worker source %q is not a loopback address", s)
		}
		cfg.srcs = append(cfg.srcs, ip)
	}
	host, _, err := net.SplitHostPort(cfg.addr)
	if err != nil {
		return err
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("bench: worker target %q is not a loopback address", cfg.addr)
	}

	nofile, err := raiseNoFile()
	if err != nil {
		return err
	}
	w := newWorker(cfg, nofile)
	defer w.shutdown()
	return w.serve(os.Stdin, os.Stdout)
}

// raiseNoFile raises the soft open-files limit to the hard one; the Go
// runtime does this too since 1.19, but doing it here lets the worker report
// the limit it really has.
func raiseNoFile() (uint64, error) {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return 0, err
	}
	if rl.Cur < rl.Max {
		rl.Cur = rl.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
			return 0, err
		}
	}
	return rl.Cur, nil
}

type worker struct {
	cfg    workerConfig
	nofile uint64
	ctx    context.Context
	cancel context.CancelFunc

	target    atomic.Int64
	connected atomic.Int64
	inflight  atomic.Int64
	failed    atomic.Int64
	lost      atomic.Int64
	pongs     atomic.Int64
	gaveUp    atomic.Bool
	next      atomic.Uint64 // round-robin index into cfg.srcs

	mu      sync.Mutex
	lastErr string
	conns   map[net.Conn]struct{} // closed on shutdown

	wake   chan struct{} // a new target, or a dial finished
	urgent chan struct{} // the target was reached or given up: report now
	wg     sync.WaitGroup
}

func newWorker(cfg workerConfig, nofile uint64) *worker {
	ctx, cancel := context.WithCancel(context.Background())
	return &worker{
		cfg: cfg, nofile: nofile, ctx: ctx, cancel: cancel,
		conns:  make(map[net.Conn]struct{}),
		wake:   make(chan struct{}, 1),
		urgent: make(chan struct{}, 1),
	}
}

func (w *worker) poke() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// reportNow makes the reporter write a line without waiting for its tick, so
// the parent times the end of a ramp step to the millisecond, not to 200 ms.
func (w *worker) reportNow() {
	select {
	case w.urgent <- struct{}{}:
	default:
	}
}

func (w *worker) setErr(err error) {
	w.mu.Lock()
	w.lastErr = err.Error()
	w.mu.Unlock()
}

func (w *worker) status() workerStatus {
	w.mu.Lock()
	lastErr := w.lastErr
	w.mu.Unlock()
	st := workerStatus{
		Target:    int(w.target.Load()),
		Connected: int(w.connected.Load()),
		InFlight:  int(w.inflight.Load()),
		Failed:    int(w.failed.Load()),
		Lost:      int(w.lost.Load()),
		Pongs:     w.pongs.Load(),
		NoFile:    w.nofile,
		Err:       lastErr,
	}
	st.Done = st.Connected >= st.Target || w.gaveUp.Load()
	return st
}

// serve runs the command loop, the dialer and the status reporter until quit.
func (w *worker) serve(in io.Reader, out io.Writer) error {
	w.wg.Add(2)
	go func() { defer w.wg.Done(); w.dialLoop() }()
	go func() { defer w.wg.Done(); w.report(out) }()

	sc := bufio.NewScanner(in)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 {
			continue
		}
		switch fields[0] {
		case "quit":
			return nil
		case "target":
			if len(fields) != 2 {
				return fmt.Errorf("bench: bad worker command %q", sc.Text())
			}
			n, err := strconv.Atoi(fields[1])
			if err != nil || n < 0 {
				return fmt.Errorf("bench: bad worker target %q", fields[1])
			}
			w.gaveUp.Store(false)
			w.target.Store(int64(n))
			w.poke()
		default:
			return fmt.Errorf("bench: unknown worker command %q", fields[0])
		}
	}
	return sc.Err()
}

// shutdown closes every session and waits for the goroutines, bounded: the
// process exits right after anyway.
func (w *worker) shutdown() {
	w.cancel()
	w.mu.Lock()
	for c := range w.conns {
		c.Close()
	}
	w.mu.Unlock()
	done := make(chan struct{})
	go func() { w.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(3 * time.Second):
	}
}

// report writes a status line whenever the counts that matter change, at most
// every 200 ms, and at least every 5 s. Pong counts alone do not trigger a
// line, so an idle worker stays quiet.
func (w *worker) report(out io.Writer) {
	enc := json.NewEncoder(out)
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	var last workerStatus
	lastAt := time.Time{}
	for {
		st := w.status()
		cmp := st
		cmp.Pongs = last.Pongs
		if cmp != last || time.Since(lastAt) >= 5*time.Second {
			if err := enc.Encode(st); err != nil {
				return
			}
			last, lastAt = st, time.Now()
		}
		select {
		case <-w.ctx.Done():
			return
		case <-tick.C:
		case <-w.urgent:
		}
	}
}

// dialLoop keeps connected+inflight at the target with at most
// cfg.concurrency dials in flight. A failed dial is not retried as such: the
// loop simply dials another session, until the failures for the current
// target pass a budget, and then the worker gives up on that target.
func (w *worker) dialLoop() {
	sem := make(chan struct{}, w.cfg.concurrency)
	failedAtTarget, lastTarget := int64(0), int64(-1)
	for {
		select {
		case <-w.ctx.Done():
			return
		case <-w.wake:
		case <-time.After(500 * time.Millisecond):
		}
		for {
			t := w.target.Load()
			if t != lastTarget {
				lastTarget, failedAtTarget = t, w.failed.Load()
			}
			if w.gaveUp.Load() || w.connected.Load()+w.inflight.Load() >= t {
				break
			}
			if budget := 50 + t/20; w.failed.Load()-failedAtTarget > budget {
				w.gaveUp.Store(true)
				w.reportNow()
				break
			}
			select {
			case sem <- struct{}{}:
			case <-w.ctx.Done():
				return
			}
			w.inflight.Add(1)
			w.wg.Add(1)
			go func() {
				defer w.wg.Done()
				w.session(sem)
			}()
		}
	}
}

// session dials one Engine.IO WebSocket session and keeps it up, answering
// pings, until the server or shutdown ends it. sem is released once the
// session is open or has failed to open.
func (w *worker) session(sem chan struct{}) {
	released := false
	release := func() {
		if !released {
			released = true
			w.inflight.Add(-1)
			<-sem
			w.poke()
		}
	}
	defer release()

	src := w.cfg.srcs[w.next.Add(1)%uint64(len(w.cfg.srcs))]
	d := net.Dialer{
		LocalAddr: &net.TCPAddr{IP: src},
		Timeout:   w.cfg.dialTimeout,
		Control: func(_, _ string, rc syscall.RawConn) error {
			return rc.Control(func(fd uintptr) {
				// Best effort: without it the dial still works, only the
				// port budget per source address is smaller.
				_ = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_IP, ipBindAddressNoPort, 1)
			})
		},
	}
	conn, err := d.DialContext(w.ctx, "tcp", w.cfg.addr)
	if err != nil {
		w.failed.Add(1)
		w.setErr(err)
		return
	}
	w.mu.Lock()
	w.conns[conn] = struct{}{}
	w.mu.Unlock()
	defer func() {
		w.mu.Lock()
		delete(w.conns, conn)
		w.mu.Unlock()
		conn.Close()
	}()

	// 256 bytes hold the handshake response and the open packet (~130 bytes);
	// the reader lives as long as the session, so it stays small.
	br := bufio.NewReaderSize(conn, 256)
	var mask [4]byte
	r := rand.Uint32()
	mask[0], mask[1], mask[2], mask[3] = byte(r), byte(r>>8), byte(r>>16), byte(r>>24)

	conn.SetDeadline(time.Now().Add(w.cfg.dialTimeout))
	if err := clientHandshake(conn, br, w.cfg.addr, w.cfg.path); err != nil {
		w.failed.Add(1)
		w.setErr(err)
		return
	}
	var scratch [128]byte
	op, payload, err := readFrame(br, scratch[:])
	if err == nil && (op != ws.OpText || len(payload) == 0 || payload[0] != '0') {
		err = errNoOpenPacket
	}
	if err != nil {
		w.failed.Add(1)
		w.setErr(err)
		return
	}
	conn.SetDeadline(time.Time{})
	if w.connected.Add(1) == w.target.Load() {
		w.reportNow()
	}
	release()

	err = w.idle(conn, br, mask, scratch[:])
	w.connected.Add(-1)
	if w.ctx.Err() == nil {
		w.lost.Add(1)
		w.setErr(err)
	}
}

// idle answers Engine.IO pings ("2") with pongs ("3") and WebSocket pings
// with pongs until the connection ends.
func (w *worker) idle(conn net.Conn, br *bufio.Reader, mask [4]byte, scratch []byte) error {
	for {
		op, payload, err := readFrame(br, scratch)
		if err != nil {
			return err
		}
		switch op {
		case ws.OpText:
			if len(payload) == 1 && payload[0] == '2' {
				if err := writeFrame(conn, ws.OpText, []byte{'3'}, mask); err != nil {
					return err
				}
				w.pongs.Add(1)
			}
		case ws.OpPing:
			if err := writeFrame(conn, ws.OpPong, payload, mask); err != nil {
				return err
			}
		case ws.OpClose:
			_ = writeFrame(conn, ws.OpClose, nil, mask)
			return errServerClose
		}
	}
}

// clientHandshake writes a WebSocket upgrade request for the Engine.IO v4
// WebSocket transport and reads the response headers from br. Bytes after
// the headers (often the open packet, in the same segment) stay in br.
func clientHandshake(conn net.Conn, br *bufio.Reader, addr, path string) error {
	var key [16]byte
	for i := range key {
		key[i] = byte(rand.Uint32())
	}
	req := "GET " + path + "?EIO=4&transport=websocket HTTP/1.1\r\n" +
		"Host: " + addr + "\r\n" +
		"Upgrade: websocket\r\n" +
		"Connection: Upgrade\r\n" +
		"Sec-WebSocket-Key: " + base64.StdEncoding.EncodeToString(key[:]) + "\r\n" +
		"Sec-WebSocket-Version: 13\r\n\r\n"
	if _, err := io.WriteString(conn, req); err != nil {
		return err
	}
	line, err := br.ReadSlice('\n')
	if err != nil {
		return err
	}
	if !bytes.HasPrefix(line, []byte("HTTP/1.1 101")) {
		return fmt.Errorf("%w: %q", errHandshakeStatus, bytes.TrimSpace(line))
	}
	// Headers are bounded: at most 64 lines, each within br's buffer.
	for range 64 {
		line, err = br.ReadSlice('\n')
		if err != nil {
			return err
		}
		if len(bytes.TrimSpace(line)) == 0 {
			return nil
		}
	}
	return errors.New("bench: handshake response has too many header lines")
}

// readFrame reads one frame. It returns at most len(scratch) bytes of
// payload (aliasing scratch, valid until the next call) and discards the
// rest: the idle workload only needs the first bytes.
func readFrame(br *bufio.Reader, scratch []byte) (ws.OpCode, []byte, error) {
	var hb [ws.MaxHeaderSize - 2]byte
	h, err := ws.ReadHeaderBuffer(br, hb[:])
	if err != nil {
		return 0, nil, err
	}
	n := min(h.Length, int64(len(scratch)))
	p := scratch[:n]
	if _, err := io.ReadFull(br, p); err != nil {
		return 0, nil, err
	}
	if rest := h.Length - n; rest > 0 {
		if _, err := br.Discard(int(rest)); err != nil {
			return 0, nil, err
		}
	}
	if h.Masked {
		ws.Cipher(p, h.Mask, 0)
	}
	return h.OpCode, p, nil
}

// writeFrame writes one masked, final client frame with a payload of at most
// 125 bytes in a single write.
func writeFrame(conn io.Writer, op ws.OpCode, payload []byte, mask [4]byte) error {
	var buf [2 + 4 + 125]byte
	if len(payload) > 125 {
		payload = payload[:125]
	}
	buf[0] = 0x80 | byte(op)
	buf[1] = 0x80 | byte(len(payload))
	copy(buf[2:6], mask[:])
	n := copy(buf[6:], payload)
	ws.Cipher(buf[6:6+n], mask, 0)
	_, err := conn.Write(buf[:6+n])
	return err
}
