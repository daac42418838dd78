// Command conformance serves the behaviour that black-box Socket.IO / Engine.IO conformance
// checks expect (../shared/conformance/CONTRACT.md), so the public protocol test suites and
// scenario checks written against real clients can judge riptide.
//
//	go run ./cmd/conformance                      # suite on 127.0.0.1:3000, scenarios on 127.0.0.1:3001
//	go run ./cmd/conformance --suite-addr 127.0.0.1:0 --scenario-addr 127.0.0.1:0
//
// Once listening it prints one JSON line on stdout: {"suite":PORT,"scenario":PORT} (a key is
// left out when its listener is disabled with an empty address).
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/riptide-io/riptide/server/engine"
)

func main() {
	suiteAddr := flag.String("suite-addr", "127.0.0.1:3000", "address of the protocol-suite server (empty: not started)")
	scenarioAddr := flag.String("scenario-addr", "127.0.0.1:3001", "address of the scenario server (empty: not started)")
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if *suiteAddr == "" && *scenarioAddr == "" {
		log.Error("nothing to serve: both addresses are empty")
		os.Exit(2)
	}
	ports := map[string]int{}
	var listeners []*engine.Listener
	if *suiteAddr != "" {
		l, err := engine.Listen(*suiteAddr, engine.ListenConfig{Logger: log}, suiteServers()...)
		if err != nil {
			log.Error("listen", "addr", *suiteAddr, "err", err)
			os.Exit(1)
		}
		listeners = append(listeners, l)
		ports["suite"] = port(l.Addr())
	}
	if *scenarioAddr != "" {
		l, err := engine.Listen(*scenarioAddr, engine.ListenConfig{Logger: log}, scenarioServers()...)
		if err != nil {
			log.Error("listen", "addr", *scenarioAddr, "err", err)
			os.Exit(1)
		}
		listeners = append(listeners, l)
		ports["scenario"] = port(l.Addr())
	}
	line, _ := json.Marshal(ports)
	fmt.Println(string(line))
	log.Info("conformance servers listening", "ports", string(line))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, l := range listeners {
		_ = l.Close(shutdown)
	}
}

func port(addr string) int {
	_, p, _ := net.SplitHostPort(addr)
	n, _ := strconv.Atoi(p)
	return n
}
