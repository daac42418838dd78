// Command bench measures Socket.IO / Engine.IO servers from the outside, over
// loopback, so that riptide and its peers (Node socket.io 4.8, the Go port
// github.com/zishang520/socket.io v3) are measured the same way.
//
// It imports nothing from riptide's server packages: each server is a process
// started from a table of definitions (servers.go), addressed only by its
// port and its PID (for /proc readings). Adding a server means adding a row;
// every Socket.IO server runs cmd/riptide's default protocol ("join",
// "leave", "publish", "ping"). The rows with a backend (riptide-proxy,
// node-proxy) hand "ping" to an application backend over HTTP: the bench
// starts one for each such server (bench/servers/backend, which acks every
// event with its own arguments) and counts the events it answered.
//
//	go run ./bench all --servers riptide,node,zishang520 --out docs/bench-results/all.json --md
//
// Workloads, each also a subcommand: idle (RSS per idle client, connects/s,
// idle CPU), fanout (one publisher, 1,000 and 10,000 subscribers in a room:
// deliveries/s and latency, paced and flat out) and echo (clients emitting
// "ping" with an ack in a loop). "all" runs them in turn against every
// server, one server process at a time, and prints ratios to riptide.
// cluster (not part of "all") runs two nodes of riptide and of Node socket.io
// on one throwaway redis-server each, subscribers split between the nodes
// and the publisher on node 1, to measure cross-node fan-out.
//
// The clients run in worker processes (the bench binary re-executed with the
// hidden "worker" subcommand, GOMAXPROCS=1 each), because one process may
// hold at most 20,000 open files here and so that client work spreads over
// the cores. A worker has a role (idle, sub, echo, pub) and holds one
// goroutine per session blocked in read, spread over several 127.x.y.z
// source addresses. The parent drives the workers through lines on
// stdin/stdout: commands down, JSON status and stats lines up, and for
// subscribers "c GEN SEQ" completion lines, which the parent relays to the
// publisher as its flow-control window. Latency is the publisher's wall
// clock in the message against the subscriber's, on one machine.
//
// Every wait is bounded: per-step timeouts, and --timeout for the whole run,
// after which every process the bench started is killed by PID.
package main
