package main

import (
	"fmt"
	"os"
	"strings"
)

const usage = `usage: go run ./bench <workload> [flags]

workloads:
  all     idle, fanout and echo against every server, one server at a time
          e.g. go run ./bench all --servers riptide,node,zishang520 --out docs/bench-results/all.json --md
  idle    RSS per idle Socket.IO client (in / and one room), connects/s, idle CPU
          e.g. go run ./bench idle --servers riptide,node --n 1000,5000,10000,19000 --md
          (--level eio: bare Engine.IO sessions, e.g. against node-eio)
  fanout  subscribers in one room, a publisher broadcasting: deliveries/s, latency p50/p99,
          paced and flat out; e.g. go run ./bench fanout --subs 1000,10000 --md
  echo    clients each emitting "ping" with an ack in a loop: round trips/s, p50/p99
          e.g. go run ./bench echo --clients 1000 --md
  cluster two nodes of each server on one throwaway Redis, subscribers split between them in
          one room, a publisher on node 1: deliveries/s, p50/p99 local and cross-node, CPU of
          both nodes and Redis; e.g. go run ./bench cluster --servers riptide,node --n 2000 --md
  plot    PNG of server RSS against connections from an idle or all JSON file (needs gnuplot)
          e.g. go run ./bench plot --in docs/bench-results/all.json --out docs/bench-results/idle-rss.png

run "go run ./bench <workload> -h" for the flags. Progress goes to stderr.
Servers: %s
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintf(os.Stderr, usage, strings.Join(serverNames(), ", "))
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "all":
		err = runAll(os.Args[2:])
	case "idle":
		err = runIdle(os.Args[2:])
	case "fanout":
		err = runFanout(os.Args[2:])
	case "echo":
		err = runEcho(os.Args[2:])
	case "cluster":
		err = runCluster(os.Args[2:])
	case "plot":
		err = runPlot(os.Args[2:])
	case "worker": // hidden: the client side, started by the workloads
		err = runWorker(os.Args[2:])
	case "-h", "-help", "--help", "help":
		fmt.Fprintf(os.Stdout, usage, strings.Join(serverNames(), ", "))
		return
	default:
		fmt.Fprintf(os.Stderr, usage, strings.Join(serverNames(), ", "))
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", strings.TrimPrefix(err.Error(), "bench: "))
		os.Exit(1)
	}
}
