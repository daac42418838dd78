// Command conformance serves the behaviour that black-box Socket.IO / Engine.IO conformance
// checks expect (a protocol-suite listener and a scenario listener, started as shown
// below), so the public protocol test suites and scenario checks written against real
// clients can judge riptide.
//
//	go run ./cmd/conformance                      # suite on 127.0.0.1:3000, scenarios on 127.0.0.1:3001
//	go run ./cmd/conformance --suite-addr 127.0.0.1:0 --scenario-addr 127.0.0.1:0
//	go run ./cmd/conformance --redis redis://127.0.0.1:6379 --node-id a   # CONTRACT part 3
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
	redisURL := flag.String("redis", os.Getenv("RIPTIDE_REDIS_URL"), "join a cluster through this Redis (redis://host:port); default $RIPTIDE_REDIS_URL")
	redisKey := flag.String("redis-key", "socket.io", "channel prefix of the cluster (the Node adapter's key)")
	redisSharded := flag.Bool("redis-sharded", false, "use Redis 7 sharded pub/sub (createShardedAdapter's format)")
	nodeID := flag.String("node-id", "", "this node's name in a cluster (default: the scenario listener's host:port)")
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if *suiteAddr == "" && *scenarioAddr == "" {
		log.Error("nothing to serve: both addresses are empty")
		os.Exit(2)
	}
	if *redisURL != "" {
		clusterMode = &clusterConfig{url: *redisURL, key: *redisKey, sharded: *redisSharded}
		clusterMode.nodeID.Store(*nodeID)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := clusterMode.connect(ctx)
		cancel()
		if err != nil {
			log.Error("join cluster", "err", err)
			os.Exit(1)
		}
		defer clusterMode.cluster.Close()
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
		if clusterMode != nil && *nodeID == "" {
			clusterMode.nodeID.Store(l.Addr())
		}
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
	if clusterMode != nil {
		_ = clusterMode.cluster.Close()
	}
}

func port(addr string) int {
	_, p, _ := net.SplitHostPort(addr)
	n, _ := strconv.Atoi(p)
	return n
}
