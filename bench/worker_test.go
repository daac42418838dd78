package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
)

// fakeEIO is a minimal Engine.IO WebSocket server: it sends the open packet,
// then pings every interval and counts pongs. Only for tests.
type fakeEIO struct {
	ln       net.Listener
	interval time.Duration
	pongs    atomic.Int64
	open     atomic.Int64
	wg       sync.WaitGroup
	mu       sync.Mutex
	conns    []net.Conn
}

func startFakeEIO(t *testing.T, interval time.Duration, status string) *fakeEIO {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeEIO{ln: ln, interval: interval}
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			f.mu.Lock()
			f.conns = append(f.conns, c)
			f.mu.Unlock()
			f.wg.Add(1)
			go func() {
				defer f.wg.Done()
				f.serve(c, status)
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		f.mu.Lock()
		for _, c := range f.conns {
			c.Close()
		}
		f.mu.Unlock()
		f.wg.Wait()
	})
	return f
}

func (f *fakeEIO) serve(c net.Conn, status string) {
	defer c.Close()
	if status != "" {
		// Reject the upgrade with a plain HTTP error.
		br := bufio.NewReader(c)
		for {
			line, err := br.ReadString('\n')
			if err != nil || line == "\r\n" {
				break
			}
		}
		io.WriteString(c, "HTTP/1.1 "+status+"\r\nContent-Length: 0\r\n\r\n")
		return
	}
	if _, err := ws.Upgrade(c); err != nil {
		return
	}
	open := `0{"sid":"abc","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`
	if err := wsutil.WriteServerText(c, []byte(open)); err != nil {
		return
	}
	f.open.Add(1)
	done := make(chan struct{})
	defer close(done)
	go func() {
		t := time.NewTicker(f.interval)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if wsutil.WriteServerText(c, []byte("2")) != nil {
					return
				}
			}
		}
	}()
	for {
		msg, op, err := wsutil.ReadClientData(c)
		if err != nil {
			return
		}
		if op == ws.OpText && string(msg) == "3" {
			f.pongs.Add(1)
		}
	}
}

// workerHarness runs a worker in-process with pipes for its stdin/stdout.
type workerHarness struct {
	in   *io.PipeWriter
	mu   sync.Mutex
	last workerStatus
	done chan error
}

func startWorker(t *testing.T, addr string) *workerHarness {
	t.Helper()
	return startWorkerWith(t, workerConfig{
		addr: addr, path: "/socket.io/",
		srcs:        []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("127.0.0.2")},
		concurrency: 4, dialTimeout: 5 * time.Second,
	})
}

// startWorkerWith runs a worker with cfg in-process and keeps its latest status.
func startWorkerWith(t *testing.T, cfg workerConfig) *workerHarness {
	t.Helper()
	w := newWorker(cfg, 1024)
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	h := &workerHarness{in: inW, done: make(chan error, 1)}
	go func() {
		err := w.serve(inR, outW)
		w.shutdown()
		outW.Close()
		h.done <- err
	}()
	go func() {
		sc := bufio.NewScanner(outR)
		for sc.Scan() {
			var st workerStatus
			if json.Unmarshal(sc.Bytes(), &st) == nil {
				h.mu.Lock()
				h.last = st
				h.mu.Unlock()
			}
		}
	}()
	t.Cleanup(func() {
		inW.Close()
		select {
		case <-h.done:
		case <-time.After(5 * time.Second):
			t.Error("worker did not stop")
		}
	})
	return h
}

func (h *workerHarness) send(t *testing.T, line string) {
	t.Helper()
	if _, err := io.WriteString(h.in, line+"\n"); err != nil {
		t.Fatal(err)
	}
}

func (h *workerHarness) waitFor(t *testing.T, what string, cond func(workerStatus) bool) workerStatus {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		h.mu.Lock()
		st := h.last
		h.mu.Unlock()
		if cond(st) {
			return st
		}
		time.Sleep(10 * time.Millisecond)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	t.Fatalf("timed out waiting for %s; last status %+v", what, h.last)
	return workerStatus{}
}

func TestWorkerHoldsSessionsAndAnswersPings(t *testing.T) {
	srv := startFakeEIO(t, 20*time.Millisecond, "")
	h := startWorker(t, srv.ln.Addr().String())

	h.send(t, "target 5")
	h.waitFor(t, "5 sessions", func(st workerStatus) bool { return st.Target == 5 && st.Done && st.Connected == 5 })
	h.send(t, "target 12")
	st := h.waitFor(t, "12 sessions", func(st workerStatus) bool { return st.Target == 12 && st.Done })
	if st.Connected != 12 || st.Failed != 0 || st.Lost != 0 {
		t.Fatalf("status %+v, want 12 connected, none failed or lost", st)
	}
	if got := srv.open.Load(); got != 12 {
		t.Fatalf("server opened %d sessions, want 12", got)
	}
	deadline := time.Now().Add(10 * time.Second)
	for srv.pongs.Load() < 50 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := srv.pongs.Load(); got < 50 {
		t.Fatalf("server got %d pongs, want at least 50", got)
	}
}

func TestWorkerCountsLostSessions(t *testing.T) {
	srv := startFakeEIO(t, time.Hour, "")
	h := startWorker(t, srv.ln.Addr().String())
	h.send(t, "target 3")
	h.waitFor(t, "3 sessions", func(st workerStatus) bool { return st.Target == 3 && st.Done })
	srv.mu.Lock()
	for _, c := range srv.conns {
		c.Close()
	}
	srv.mu.Unlock()
	// The dial loop re-dials lost sessions to stay at the target.
	st := h.waitFor(t, "3 lost", func(st workerStatus) bool { return st.Lost == 3 })
	if st.Err == "" {
		t.Fatalf("status %+v has no error", st)
	}
}

func TestWorkerGivesUpOnRejectedHandshakes(t *testing.T) {
	srv := startFakeEIO(t, time.Hour, "400 Bad Request")
	h := startWorker(t, srv.ln.Addr().String())
	h.send(t, "target 2")
	st := h.waitFor(t, "give up", func(st workerStatus) bool { return st.Target == 2 && st.Done })
	if st.Connected != 0 || st.Failed <= 50 || !strings.Contains(st.Err, "400") {
		t.Fatalf("status %+v, want 0 connected, >50 failed, a 400 error", st)
	}
}

func TestReadFrameTruncatesAndUnmasks(t *testing.T) {
	var buf bytes.Buffer
	payload := bytes.Repeat([]byte("x"), 300)
	payload[0] = '4'
	if err := wsutil.WriteServerText(&buf, payload); err != nil {
		t.Fatal(err)
	}
	mask := [4]byte{1, 2, 3, 4}
	if err := writeFrame(&buf, ws.OpText, []byte("3"), mask); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReaderSize(&buf, 16)
	scratch := make([]byte, 8)
	op, p, err := readFrame(br, scratch)
	if err != nil || op != ws.OpText || string(p) != "4xxxxxxx" {
		t.Fatalf("first frame: %v %q %v", op, p, err)
	}
	op, p, err = readFrame(br, scratch)
	if err != nil || op != ws.OpText || string(p) != "3" {
		t.Fatalf("second frame: %v %q %v", op, p, err)
	}
}

func TestProcReaders(t *testing.T) {
	rss, err := readRSS(os.Getpid())
	if err != nil || rss <= 0 {
		t.Fatalf("readRSS = %d, %v", rss, err)
	}
	cpu, err := readCPU(os.Getpid())
	if err != nil || cpu < 0 {
		t.Fatalf("readCPU = %v, %v", cpu, err)
	}
}
