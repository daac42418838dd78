package main

import (
	"fmt"
	"os"
	"strings"
)

const usage = `usage: go run ./bench <workload> [flags]

workloads:
  idle   RSS of idle Engine.IO WebSocket sessions, connects/s, idle CPU
         e.g. go run ./bench idle --servers riptide,node --n 1000,5000,10000,19000 --md

run "go run ./bench idle -h" for the flags. Servers: %s
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintf(os.Stderr, usage, strings.Join(serverNames(), ", "))
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "idle":
		err = runIdle(os.Args[2:])
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
