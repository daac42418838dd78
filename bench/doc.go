// Command bench measures Socket.IO / Engine.IO servers from the outside, over
// loopback, so that riptide and the Node reference are measured the same way.
//
// It imports nothing from riptide's server packages: each server is a process
// started from a table of definitions (servers.go), addressed only by its
// port and its PID (for /proc readings). Adding a server means adding a row.
//
// Workloads are subcommands. The first one, "idle", answers "how much memory
// does an idle Engine.IO WebSocket session cost":
//
//	go run ./bench idle --servers riptide,node --n 1000,5000,10000,19000 --md
//
// The clients run in worker processes (the bench binary re-executed with the
// hidden "worker" subcommand) because one process may hold at most 20,000
// open files here; each worker holds at most --per-worker sessions (9,000)
// and spreads them over several 127.x.y.z source addresses so ephemeral
// ports never run out. A worker holds one goroutine per session blocked in
// read: the sessions are idle, so the goroutines cost memory (a few KiB each,
// in the worker, not in the measured server) but no CPU. The parent drives
// the workers through line-based JSON on stdin/stdout, ramps to each N, waits
// for the server to settle, then reads VmRSS and utime+stime from /proc.
//
// Every wait is bounded: a per-step timeout, and --timeout for the whole run,
// after which every process the bench started is killed by PID.
package main
