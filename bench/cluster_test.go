package main

import (
	"strings"
	"testing"
)

func TestParseClusterFlags(t *testing.T) {
	cfg, err := parseClusterFlags(nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.n != 2000 || strings.Join(cfg.servers, ",") != "riptide,node" || len(cfg.modes) != 2 || len(cfg.windows) == 0 {
		t.Fatalf("defaults: %+v", cfg)
	}
	for _, args := range [][]string{
		{"--servers", "zishang520"}, // no cluster mode
		{"--n", "1"},
		{"--n", "3", "--workers", "2"},
		{"--modes", "burst"},
		{"--window", "0"},
	} {
		if _, err := parseClusterFlags(args); err == nil {
			t.Errorf("%q: no error", args)
		}
	}
}

func TestClusterRatiosAndMarkdown(t *testing.T) {
	ph := func(rate, p99, local, remote float64) clusterPhase {
		return clusterPhase{Mode: "flat", Window: 2, DeliveriesPerSec: rate, P50Ms: 1, P99Ms: p99,
			Nodes: []clusterNodeStats{{Node: 1, P50Ms: 1, P99Ms: local}, {Node: 2, P50Ms: 2, P99Ms: remote}}}
	}
	r := &clusterResults{Servers: []clusterServer{
		{Name: "riptide", Phases: []clusterPhase{ph(100000, 4, 2, 4)}},
		{Name: "node", Phases: []clusterPhase{ph(50000, 8, 4, 12)}},
	}}
	r.computeRatios()
	got := r.Servers[1].Phases[0].Ratios
	if got[ratioRate] != 0.5 || got[ratioP99] != 2 || got[ratioLocalP99] != 2 || got[ratioRemoteP99] != 3 {
		t.Fatalf("ratios %v", got)
	}
	md := r.markdown()
	for _, want := range []string{"| flat, window 2 | node |", "50000 (0.50×)", "2.00 / 12.00 (3.00×)"} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
}
