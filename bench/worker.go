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
	"github.com/golang-jwt/jwt/v5"
)

// Errors a client session can end with.
var (
	errHandshakeStatus = errors.New("bench: websocket handshake not answered with 101")
	errNoOpenPacket    = errors.New("bench: first frame is not an Engine.IO open packet")
	errServerClose     = errors.New("bench: server sent a close frame")
	errPubStalled      = errors.New("bench: no broadcast completed for 10 s (messages lost?)")
	errFrameTooLong    = errors.New("bench: client frame payload over 64 KiB")
)

// ipBindAddressNoPort is IP_BIND_ADDRESS_NO_PORT (Linux 4.2+). The syscall
// package defines it only on some architectures. With it, bind() to a source
// address defers the port choice to connect(), so ports are shared per
// 4-tuple and TIME_WAIT sockets left by an earlier run never make bind fail.
const ipBindAddressNoPort = 0x18

// Worker roles: what each session does once it is open.
const (
	roleIdle = "idle" // answer pings only
	roleSub  = "sub"  // count fan-out messages and their latency
	roleEcho = "echo" // emit "ping" with an ack, one in flight, on command
	rolePub  = "pub"  // publish broadcasts on command (one session)
)

// workerStatus is one status line a worker writes on stdout. The parent
// keeps the latest one per worker.
type workerStatus struct {
	Target    int    `json:"target"`
	Connected int    `json:"connected"` // sessions set up (open packet, CONNECT, join) and still up
	InFlight  int    `json:"inflight"`
	Failed    int    `json:"failed"` // dials, handshakes or setups that failed
	Lost      int    `json:"lost"`   // sessions that ended after setup
	Pongs     int64  `json:"pongs"`
	Done      bool   `json:"done"` // Connected >= Target, or the worker gave up on this target
	NoFile    uint64 `json:"nofile"`
	Err       string `json:"err,omitempty"`   // last error seen
	Gen       int64  `json:"gen,omitempty"`   // last "reset" applied
	Count     int64  `json:"count,omitempty"` // messages or round trips in run Gen so far
	// Publisher: the run PubGen has sent PubSent broadcasts and, once
	// PubDone, stopped (PubErr says why if it stopped early).
	PubGen  int64  `json:"pub_gen,omitempty"`
	PubSent int64  `json:"pub_sent,omitempty"`
	PubDone bool   `json:"pub_done,omitempty"`
	PubErr  string `json:"pub_err,omitempty"`
	// Echo: the run EchoGen is over on every session of this worker.
	EchoGen int64 `json:"echo_gen,omitempty"`
}

// workerStats answers "stats GEN": what the sessions measured since "reset GEN".
type workerStats struct {
	Gen      int64      `json:"gen"`
	Sessions int        `json:"sessions"` // sessions expected to take part
	Count    int64      `json:"count"`    // fan-out messages received, or echo round trips
	Stray    int64      `json:"stray"`    // fan-out messages of another run
	Broken   int64      `json:"broken"`   // echo sessions that ended mid-run
	Wrong    int64      `json:"wrong"`    // echo acks that were not the echo (isEcho)
	Hist     [][2]int64 `json:"hist"`     // latency, µs, sparse (see histogram)
}

// workerLine is what the parent decodes: a status line or a stats line.
type workerLine struct {
	workerStatus
	Stats *workerStats `json:"stats,omitempty"`
}

// workerConfig is what the parent passes on the worker's command line.
type workerConfig struct {
	addr        string   // server host:port
	path        string   // Engine.IO path, e.g. /socket.io/
	srcs        []net.IP // source addresses, used round-robin
	concurrency int      // dials in flight at once
	dialTimeout time.Duration
	role        string
	sio         bool   // CONNECT to namespace "/" after the Engine.IO open
	room        string // every session joins this room...
	roomPrefix  string // ...or session k joins roomPrefix+k
	readBuf     int    // bufio size per session
	jwtSecret   string // CONNECT with auth {token: <HS256 JWT>}, each session its own user
}

// runWorker is the hidden "worker" subcommand. It reads commands from stdin,
// one per line, and writes status lines (JSON) and completion lines
// ("c GEN SEQ") on stdout. Commands:
//
//	target N                                  hold N sessions (targets only grow)
//	reset GEN                                 zero the counters; start run GEN
//	stats GEN                                 write the counters of run GEN
//	echo GEN MILLIS                           every session pings for MILLIS ms
//	pub GEN paced|flat EVERY_US MILLIS WINDOW ROOM PAD   publish for MILLIS ms
//	done GEN SEQ                              every subscriber has broadcast SEQ
//	quit
//
// EOF on stdin means quit, so a dead parent takes its workers with it.
func runWorker(args []string) error {
	fs := flag.NewFlagSet("worker", flag.ContinueOnError)
	addr := fs.String("addr", "", "server host:port")
	path := fs.String("path", "/socket.io/", "Engine.IO path")
	srcs := fs.String("src", "127.0.0.1", "comma-separated source addresses")
	conc := fs.Int("concurrency", 32, "dials in flight")
	dialTimeout := fs.Duration("dial-timeout", 10*time.Second, "dial and setup timeout")
	role := fs.String("role", roleIdle, "idle, sub, echo or pub")
	sio := fs.Bool("sio", false, "Socket.IO CONNECT to / after the Engine.IO open")
	room := fs.String("room", "", "room every session joins (needs --sio)")
	roomPrefix := fs.String("room-prefix", "", "session k joins room PREFIXk (needs --sio)")
	readBuf := fs.Int("read-buf", 256, "read buffer per session, bytes")
	jwtSecret := fs.String("jwt-secret", "", "CONNECT with auth {token: <HS256 JWT signed with this>}, each session its own user (needs --sio)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg := workerConfig{
		addr: *addr, path: *path, concurrency: max(1, *conc), dialTimeout: *dialTimeout,
		role: *role, sio: *sio, room: *room, roomPrefix: *roomPrefix, readBuf: *readBuf,
		jwtSecret: *jwtSecret,
	}
	switch cfg.role {
	case roleIdle, roleSub, roleEcho, rolePub:
	default:
		return fmt.Errorf("bench: unknown worker role %q", cfg.role)
	}
	if !cfg.sio && (cfg.room != "" || cfg.roomPrefix != "" || cfg.role != roleIdle || cfg.jwtSecret != "") {
		return errors.New("bench: rooms, JWTs and roles other than idle need --sio")
	}
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
	t0     time.Time // monotonic base for echo round trips

	target    atomic.Int64
	connected atomic.Int64
	inflight  atomic.Int64
	failed    atomic.Int64
	lost      atomic.Int64
	pongs     atomic.Int64
	gaveUp    atomic.Bool
	next      atomic.Uint64 // round-robin index into cfg.srcs
	nextID    atomic.Int64  // session number, for --room-prefix
	nextUser  atomic.Int64  // session number, for the JWT's sub

	// Measurements of the current run (gen), zeroed by "reset".
	gen    atomic.Int64
	count  atomic.Int64
	stray  atomic.Int64
	broken atomic.Int64
	wrong  atomic.Int64
	hist   histogram
	comp   completion

	// Echo runs.
	echoGen      atomic.Int64 // run in progress or last run
	echoDeadline atomic.Int64 // ns since t0
	echoActive   atomic.Int64 // sessions still pinging
	echoDoneGen  atomic.Int64 // last run over on every session

	// Publisher.
	pubGen   atomic.Int64
	pubSent  atomic.Int64
	pubAcked atomic.Int64 // highest broadcast every subscriber has (from "done")
	pubDone  atomic.Bool
	pubWake  chan struct{}

	mu       sync.Mutex
	lastErr  string
	pubErr   string
	sessions map[*session]struct{} // open sessions, closed on shutdown

	outMu  sync.Mutex    // one writer of stdout at a time
	wake   chan struct{} // a new target, or a dial finished
	urgent chan struct{} // report now: the target was reached, a run ended
	wg     sync.WaitGroup
}

// session is one client connection. Only its own goroutine reads; writes
// come from that goroutine and, to start an echo run or publish, from one
// other goroutine: net.Conn serializes whole Write calls, and each frame is
// one Write.
type session struct {
	conn    net.Conn
	br      *bufio.Reader
	mask    [4]byte
	scratch [160]byte
	// Echo: one ping in flight, sent at sentAt (ns since t0).
	echoing atomic.Bool
	ackID   atomic.Uint32
	sentAt  atomic.Int64
}

func newWorker(cfg workerConfig, nofile uint64) *worker {
	cfg.readBuf = max(cfg.readBuf, 256)
	ctx, cancel := context.WithCancel(context.Background())
	return &worker{
		cfg: cfg, nofile: nofile, ctx: ctx, cancel: cancel, t0: time.Now(),
		sessions: make(map[*session]struct{}),
		wake:     make(chan struct{}, 1),
		urgent:   make(chan struct{}, 1),
		pubWake:  make(chan struct{}, 1),
		comp:     completion{notify: make(chan struct{}, 1)},
	}
}

func (w *worker) poke() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// reportNow makes the reporter write a line without waiting for its tick, so
// the parent times the end of a ramp step or a run to the millisecond.
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
	lastErr, pubErr := w.lastErr, w.pubErr
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
		Gen:       w.gen.Load(),
		Count:     w.count.Load(),
		PubGen:    w.pubGen.Load(),
		PubSent:   w.pubSent.Load(),
		PubDone:   w.pubDone.Load(),
		PubErr:    pubErr,
		EchoGen:   w.echoDoneGen.Load(),
	}
	st.Done = st.Connected >= st.Target || w.gaveUp.Load()
	return st
}

// writeLine writes one line on out, serialized with the other writers.
func (w *worker) writeLine(out io.Writer, b []byte) error {
	w.outMu.Lock()
	defer w.outMu.Unlock()
	_, err := out.Write(b)
	return err
}

// serve runs the command loop, the dialer and the status reporter until quit.
func (w *worker) serve(in io.Reader, out io.Writer) error {
	w.wg.Add(2)
	go func() { defer w.wg.Done(); w.dialLoop() }()
	go func() { defer w.wg.Done(); w.report(out) }()
	if w.cfg.role == roleSub {
		w.wg.Add(1)
		go func() { defer w.wg.Done(); w.reportCompletion(out) }()
	}

	sc := bufio.NewScanner(in)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 {
			continue
		}
		if fields[0] == "quit" {
			return nil
		}
		if err := w.command(fields, out); err != nil {
			return fmt.Errorf("%w (command %q)", err, sc.Text())
		}
	}
	return sc.Err()
}

// command runs one command other than quit.
func (w *worker) command(f []string, out io.Writer) error {
	ints := func(from, n int) ([]int64, error) {
		if len(f) < from+n {
			return nil, errors.New("bench: too few worker command arguments")
		}
		v := make([]int64, n)
		for i := range v {
			x, err := strconv.ParseInt(f[from+i], 10, 64)
			if err != nil || x < 0 {
				return nil, fmt.Errorf("bench: bad worker command argument %q", f[from+i])
			}
			v[i] = x
		}
		return v, nil
	}
	switch f[0] {
	case "target":
		v, err := ints(1, 1)
		if err != nil {
			return err
		}
		w.gaveUp.Store(false)
		w.target.Store(v[0])
		w.poke()
	case "reset":
		v, err := ints(1, 1)
		if err != nil {
			return err
		}
		w.reset(v[0])
	case "stats":
		v, err := ints(1, 1)
		if err != nil {
			return err
		}
		line := workerLine{Stats: &workerStats{
			Gen: v[0], Sessions: int(w.comp.n.Load()), Count: w.count.Load(),
			Stray: w.stray.Load(), Broken: w.broken.Load(), Wrong: w.wrong.Load(), Hist: w.hist.sparse(),
		}}
		b, err := json.Marshal(line)
		if err != nil {
			return err
		}
		return w.writeLine(out, append(b, '\n'))
	case "echo":
		v, err := ints(1, 2)
		if err != nil {
			return err
		}
		w.startEcho(v[0], time.Duration(v[1])*time.Millisecond)
	case "pub":
		if len(f) != 8 || (f[2] != "paced" && f[2] != "flat") {
			return errors.New("bench: usage: pub GEN paced|flat EVERY_US MILLIS WINDOW ROOM PAD")
		}
		g, err1 := ints(1, 1)
		v, err2 := ints(3, 3)
		if err := errors.Join(err1, err2); err != nil {
			return err
		}
		pad := f[7]
		if pad == "-" {
			pad = ""
		}
		w.startPublish(g[0], f[2] == "paced", time.Duration(v[0])*time.Microsecond,
			time.Duration(v[1])*time.Millisecond, max(v[2], 1), f[6], pad)
	case "done":
		v, err := ints(1, 2)
		if err != nil {
			return err
		}
		if v[0] == w.pubGen.Load() && v[1] > w.pubAcked.Load() {
			w.pubAcked.Store(v[1])
			select {
			case w.pubWake <- struct{}{}:
			default:
			}
		}
	default:
		return fmt.Errorf("bench: unknown worker command %q", f[0])
	}
	return nil
}

// reset zeroes the measurements and starts run gen. The sessions connected
// now are the ones every broadcast must reach.
func (w *worker) reset(gen int64) {
	w.gen.Store(gen)
	w.count.Store(0)
	w.stray.Store(0)
	w.broken.Store(0)
	w.wrong.Store(0)
	w.hist.reset()
	w.comp.reset(gen, w.connected.Load())
	w.reportNow()
}

// shutdown closes every session and waits for the goroutines, bounded: the
// process exits right after anyway.
func (w *worker) shutdown() {
	w.cancel()
	w.mu.Lock()
	for s := range w.sessions {
		s.conn.Close()
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
// line, so an idle worker stays quiet; during a run the counts change, and
// the parent gets a line every 200 ms for its progress output.
func (w *worker) report(out io.Writer) {
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	var last workerStatus
	lastAt := time.Time{}
	for {
		st := w.status()
		cmp := st
		cmp.Pongs = last.Pongs
		if cmp != last || time.Since(lastAt) >= 5*time.Second {
			b, err := json.Marshal(workerLine{workerStatus: st})
			if err != nil || w.writeLine(out, append(b, '\n')) != nil {
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

// reportCompletion writes "c GEN SEQ" whenever the broadcasts every
// subscriber of this worker has received advance. Lines coalesce while one
// is being written, so the rate of lines follows what the parent can read.
func (w *worker) reportCompletion(out io.Writer) {
	var buf []byte
	var lastGen, lastSeq int64 = -1, -1
	for {
		select {
		case <-w.ctx.Done():
			return
		case <-w.comp.notify:
		}
		gen, seq := w.comp.state()
		if gen == lastGen && seq == lastSeq {
			continue
		}
		lastGen, lastSeq = gen, seq
		buf = append(buf[:0], "c "...)
		buf = strconv.AppendInt(buf, gen, 10)
		buf = append(buf, ' ')
		buf = strconv.AppendInt(buf, seq, 10)
		buf = append(buf, '\n')
		if w.writeLine(out, buf) != nil {
			return
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

// session dials one session, sets it up (Engine.IO open; with --sio the
// CONNECT and the room join) and then runs it until the server or shutdown
// ends it. sem is released once the session is set up or has failed.
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
	// The reader lives as long as the session: 256 bytes hold the handshake
	// response and the open packet (~130 bytes) and keep idle sessions
	// small; subscribers get more so one read takes several queued frames.
	s := &session{conn: conn, br: bufio.NewReaderSize(conn, w.cfg.readBuf)}
	r := rand.Uint32()
	s.mask[0], s.mask[1], s.mask[2], s.mask[3] = byte(r), byte(r>>8), byte(r>>16), byte(r>>24)
	w.mu.Lock()
	w.sessions[s] = struct{}{}
	w.mu.Unlock()
	defer func() {
		w.mu.Lock()
		delete(w.sessions, s)
		w.mu.Unlock()
		conn.Close()
	}()

	conn.SetDeadline(time.Now().Add(w.cfg.dialTimeout))
	if err := w.setup(s); err != nil {
		w.failed.Add(1)
		w.setErr(err)
		return
	}
	conn.SetDeadline(time.Time{})
	if w.connected.Add(1) == w.target.Load() {
		w.reportNow()
	}
	release()

	err = w.run(s)
	w.connected.Add(-1)
	if s.echoing.Swap(false) {
		w.broken.Add(1)
		w.echoFinished()
	}
	if w.ctx.Err() == nil {
		w.lost.Add(1)
		w.setErr(err)
	}
}

// setup runs the WebSocket handshake, reads the open packet and, with --sio,
// connects to "/" and joins the room.
func (w *worker) setup(s *session) error {
	if err := clientHandshake(s.conn, s.br, w.cfg.addr, w.cfg.path); err != nil {
		return err
	}
	op, payload, err := readFrame(s.br, s.scratch[:])
	if err == nil && (op != ws.OpText || len(payload) == 0 || payload[0] != '0') {
		err = errNoOpenPacket
	}
	if err != nil || !w.cfg.sio {
		return err
	}
	var auth []byte
	if w.cfg.jwtSecret != "" {
		if auth, err = w.connectAuth(); err != nil {
			return err
		}
	}
	if err := sioConnect(s.conn, s.br, s.mask, s.scratch[:], auth); err != nil {
		return err
	}
	room := w.cfg.room
	if w.cfg.roomPrefix != "" {
		room = w.cfg.roomPrefix + strconv.FormatInt(w.nextID.Add(1), 10)
	}
	if room == "" {
		return nil
	}
	return sioJoin(s.conn, s.br, s.mask, s.scratch[:], room, 0)
}

// run answers Engine.IO pings ("2") with pongs ("3") and WebSocket pings
// with pongs, and hands the other text frames to the role, until the
// connection ends.
func (w *worker) run(s *session) error {
	for {
		op, p, err := readFrame(s.br, s.scratch[:])
		if err != nil {
			return err
		}
		switch op {
		case ws.OpText:
			if len(p) == 1 && p[0] == '2' {
				if err := writeFrame(s.conn, ws.OpText, []byte{'3'}, s.mask); err != nil {
					return err
				}
				w.pongs.Add(1)
				continue
			}
			switch w.cfg.role {
			case roleSub:
				w.onFanout(p)
			case roleEcho:
				if isAck(p) {
					if err := w.onEchoAck(s, p); err != nil {
						return err
					}
				}
			}
		case ws.OpPing:
			if err := writeFrame(s.conn, ws.OpPong, p, s.mask); err != nil {
				return err
			}
		case ws.OpClose:
			_ = writeFrame(s.conn, ws.OpClose, nil, s.mask)
			return errServerClose
		}
	}
}

// onFanout counts one fan-out message and its latency (publisher's clock
// to ours: the same machine, so the same wall clock).
func (w *worker) onFanout(p []byte) {
	gen, seq, sent, ok := parseFanout(p)
	if !ok || gen != w.gen.Load() {
		w.stray.Add(1)
		return
	}
	w.hist.record(time.Now().UnixMicro() - sent)
	w.count.Add(1)
	w.comp.add(gen, seq)
}

// startEcho makes every open session ping with an ack, one in flight, until
// d has passed; the run is over when each has had its last answer.
func (w *worker) startEcho(gen int64, d time.Duration) {
	w.mu.Lock()
	list := make([]*session, 0, len(w.sessions))
	for s := range w.sessions {
		list = append(list, s)
	}
	w.mu.Unlock()
	w.echoGen.Store(gen)
	w.echoDeadline.Store(int64(time.Since(w.t0) + d))
	w.echoActive.Store(int64(len(list)) + 1) // +1 until every session has started
	for _, s := range list {
		s.echoing.Store(true)
		if err := w.sendPing(s); err != nil && s.echoing.Swap(false) {
			w.broken.Add(1)
			w.echoFinished()
		}
	}
	w.echoFinished()
}

func (w *worker) sendPing(s *session) error {
	id := s.ackID.Add(1)
	var buf [32]byte
	s.sentAt.Store(int64(time.Since(w.t0)))
	return writeFrame(s.conn, ws.OpText, appendPing(buf[:0], id), s.mask)
}

// onEchoAck records a round trip, or a wrong answer, and sends the next
// ping, or ends the session's part of the run.
func (w *worker) onEchoAck(s *session, p []byte) error {
	if !s.echoing.Load() {
		return nil
	}
	now := int64(time.Since(w.t0))
	if isEcho(p, s.ackID.Load()) {
		w.hist.record((now - s.sentAt.Load()) / 1000)
		w.count.Add(1)
	} else {
		w.wrong.Add(1)
	}
	if now < w.echoDeadline.Load() {
		return w.sendPing(s)
	}
	if s.echoing.Swap(false) {
		w.echoFinished()
	}
	return nil
}

func (w *worker) echoFinished() {
	if w.echoActive.Add(-1) == 0 {
		w.echoDoneGen.Store(w.echoGen.Load())
		w.reportNow()
	}
}

// startPublish publishes on the (single) open session in a goroutine.
func (w *worker) startPublish(gen int64, paced bool, every, d time.Duration, window int64, room, pad string) {
	var s *session
	w.mu.Lock()
	for x := range w.sessions {
		s = x
		break
	}
	w.pubErr = ""
	w.mu.Unlock()
	w.pubDone.Store(false)
	w.pubSent.Store(0)
	w.pubAcked.Store(0)
	w.pubGen.Store(gen)
	if s == nil {
		w.finishPublish(errors.New("bench: publisher has no open session"))
		return
	}
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		w.finishPublish(w.publish(s, gen, paced, every, d, window, room, pad))
	}()
}

func (w *worker) finishPublish(err error) {
	if err != nil {
		w.mu.Lock()
		w.pubErr = err.Error()
		w.mu.Unlock()
	}
	w.pubDone.Store(true)
	w.reportNow()
}

// publish sends broadcasts 1, 2, ... for d: paced, one every `every` (on a
// fixed schedule, not `every` after the previous one); flat out, as soon as
// the window allows. Either way at most window broadcasts are out that not
// every subscriber has received, so the server never simply queues.
func (w *worker) publish(s *session, gen int64, paced bool, every, d time.Duration, window int64, room, pad string) error {
	start := time.Now()
	end := start.Add(d)
	var frame, pkt []byte
	lastProgress, lastAcked := start, int64(0)
	for seq := int64(1); ; seq++ {
		if paced {
			if wait := time.Until(start.Add(time.Duration(seq-1) * every)); wait > 0 {
				if err := sleepCtx(w.ctx, wait); err != nil {
					return err
				}
			}
		}
		for seq-1-w.pubAcked.Load() >= window {
			if a := w.pubAcked.Load(); a != lastAcked {
				lastAcked, lastProgress = a, time.Now()
			}
			if time.Since(lastProgress) > 10*time.Second {
				return errPubStalled
			}
			select {
			case <-w.ctx.Done():
				return w.ctx.Err()
			case <-w.pubWake:
			case <-time.After(100 * time.Millisecond):
			}
		}
		now := time.Now()
		if !now.Before(end) {
			return nil
		}
		pkt = appendPublish(pkt[:0], room, gen, seq, now.UnixMicro(), pad)
		frame = appendClientFrame(frame[:0], ws.OpText, pkt, s.mask)
		if _, err := s.conn.Write(frame); err != nil {
			return err
		}
		w.pubSent.Store(seq)
	}
}

// completion tracks, for one run, the highest broadcast seq that every
// subscriber session of this worker has received. Messages reach each
// session in order, so a seq is complete when its count reaches the number
// of sessions; a ring of counters is enough as long as fewer than its size
// broadcasts are out at once (the publisher's window is far smaller).
type completion struct {
	n      atomic.Int64 // sessions per broadcast
	gen    atomic.Int64
	ring   [1 << 14]atomic.Int64
	mu     sync.Mutex
	done   int64 // every seq <= done is complete; under mu
	notify chan struct{}
}

func (c *completion) reset(gen, n int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen.Store(0) // drop adds of the old run while the ring is cleared
	for i := range c.ring {
		c.ring[i].Store(0)
	}
	c.done = 0
	c.n.Store(n)
	c.gen.Store(gen)
}

func (c *completion) add(gen, seq int64) {
	if gen != c.gen.Load() || seq <= 0 {
		return
	}
	if c.ring[seq%int64(len(c.ring))].Add(1) != c.n.Load() {
		return
	}
	c.mu.Lock()
	advanced := false
	for {
		i := (c.done + 1) % int64(len(c.ring))
		if c.ring[i].Load() != c.n.Load() {
			break
		}
		c.ring[i].Store(0)
		c.done++
		advanced = true
	}
	c.mu.Unlock()
	if advanced {
		select {
		case c.notify <- struct{}{}:
		default:
		}
	}
}

func (c *completion) state() (gen, done int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen.Load(), c.done
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

// writeFrame writes one masked, final client frame in a single write. Short
// payloads (pongs, joins: at most 125 bytes) are framed on the stack; longer
// ones, such as a CONNECT carrying a JWT (about 155 bytes), go through
// appendClientFrame and its 16-bit length form: cut at 125 bytes, that
// CONNECT would be invalid JSON, which a Socket.IO server answers by closing
// the connection.
func writeFrame(conn io.Writer, op ws.OpCode, payload []byte, mask [4]byte) error {
	if len(payload) > 0xffff {
		return errFrameTooLong
	}
	if len(payload) > 125 {
		_, err := conn.Write(appendClientFrame(nil, op, payload, mask))
		return err
	}
	var buf [2 + 4 + 125]byte
	buf[0] = 0x80 | byte(op)
	buf[1] = 0x80 | byte(len(payload))
	copy(buf[2:6], mask[:])
	n := copy(buf[6:], payload)
	ws.Cipher(buf[6:6+n], mask, 0)
	_, err := conn.Write(buf[:6+n])
	return err
}

// appendClientFrame appends one masked, final client frame of any length
// below 64 KiB.
func appendClientFrame(dst []byte, op ws.OpCode, payload []byte, mask [4]byte) []byte {
	dst = append(dst, 0x80|byte(op))
	if n := len(payload); n <= 125 {
		dst = append(dst, 0x80|byte(n))
	} else {
		dst = append(dst, 0x80|126, byte(n>>8), byte(n))
	}
	dst = append(dst, mask[:]...)
	start := len(dst)
	dst = append(dst, payload...)
	ws.Cipher(dst[start:], mask, 0)
	return dst
}

// connectAuth returns the CONNECT auth {"token":"<JWT>"} of a user of this
// session's own, as an application's login would hand it out: HS256, sub, iat
// and an hour's exp. The sub is "user-<first source address>-<session number>":
// workers of one run have distinct source addresses, so no two sessions of a
// run share a user, and the server holds one identity per socket. About 155
// bytes with the packet type, so the CONNECT takes the 16-bit length form.
func (w *worker) connectAuth() ([]byte, error) {
	sub := fmt.Sprintf("user-%s-%d", w.cfg.srcs[0], w.nextUser.Add(1))
	now := time.Now()
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"sub": sub, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
	}).SignedString([]byte(w.cfg.jwtSecret))
	if err != nil {
		return nil, err
	}
	return []byte(`{"token":"` + tok + `"}`), nil
}
