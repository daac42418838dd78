package main

import (
	"math"
	"strings"
	"testing"
)

func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		in   []int64
		want int64
	}{
		{[]int64{5}, 5},
		{[]int64{3, 1, 2}, 2},
		{[]int64{4, 1, 3, 2}, 2},
		{nil, 0},
	} {
		if got := median(tc.in); got != tc.want {
			t.Errorf("median(%v) = %d, want %d", tc.in, got, tc.want)
		}
	}
}

func TestSlopes(t *testing.T) {
	// RSS = 1000 KiB + 2 KiB per session, with the middle point 30 KiB high.
	pts := []idlePoint{
		{Sessions: 1000, RSSKiB: 3000},
		{Sessions: 2000, RSSKiB: 5030},
		{Sessions: 3000, RSSKiB: 7000},
	}
	ends, lsq := slopes(pts)
	if ends != 2 {
		t.Errorf("ends = %v, want 2", ends)
	}
	if math.Abs(lsq-2) > 1e-9 {
		t.Errorf("lsq = %v, want 2", lsq)
	}
	if e, l := slopes(pts[:1]); e != 0 || l != 0 {
		t.Errorf("one point: %v %v, want 0 0", e, l)
	}
}

func TestMarkdownRatios(t *testing.T) {
	r := idleResults{
		Settings: idleSettings{N: []int{1000, 2000}},
		Servers: []serverResult{
			{Name: "riptide", BaselineRSSKiB: 1024, Points: []idlePoint{{N: 1000, Sessions: 1000, RSSKiB: 2048}, {N: 2000, Sessions: 2000, RSSKiB: 3072}},
				SlopeEndsKiB: 1, SlopeLSQKiB: 1, ConnectsPerSec: 1000, IdleCPUPercent: 0},
			{Name: "node", BaselineRSSKiB: 1024, Points: []idlePoint{{N: 1000, Sessions: 1000, RSSKiB: 6144}, {N: 2000, Sessions: 2000, RSSKiB: 16384}},
				SlopeEndsKiB: 10, SlopeLSQKiB: 10, ConnectsPerSec: 500, IdleCPUPercent: 3},
		},
	}
	r.computeRatios()
	if got := r.Servers[1].Ratios["rss_at_1000"]; got != 3 {
		t.Errorf("rss_at_1000 ratio = %v, want 3", got)
	}
	if _, ok := r.Servers[1].Ratios[ratioIdleCPU]; ok {
		t.Error("a ratio to a zero figure must be absent")
	}
	md := r.markdown()
	for _, want := range []string{
		"| riptide | 1.0 MiB | 2.0 MiB | 3.0 MiB | 1.00 | 1.00 | 1000 | 0.00 |",
		"| node | 1.0 MiB | 6.0 MiB (3.00×) | 16.0 MiB (5.33×) | 10.00 (10.00×) | 10.00 (10.00×) | 500 (0.50×) | 3.00 |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
}

func TestFanoutAndEchoRatios(t *testing.T) {
	fr := fanoutResults{
		Settings: fanoutSettings{Subscribers: []int{10}, Modes: []string{"flat"}, Windows: []int{2}},
		Servers: []fanoutServer{
			{Name: "riptide", Phases: []fanoutPhase{
				{Subscribers: 10, Mode: "flat", Window: 2, DeliveriesPerSec: 300, P50Ms: 1, P99Ms: 2},
				{Subscribers: 10, Mode: "flat", Window: 8, DeliveriesPerSec: 900, P50Ms: 1, P99Ms: 2},
			}},
			{Name: "node", Phases: []fanoutPhase{
				{Subscribers: 10, Mode: "flat", Window: 2, DeliveriesPerSec: 100, P50Ms: 3, P99Ms: 8},
				{Subscribers: 10, Mode: "flat", Window: 8, DeliveriesPerSec: 100, P50Ms: 3, P99Ms: 8},
			}},
		},
	}
	fr.computeRatios()
	if got := fr.Servers[1].Phases[1].Ratios[ratioRate]; got != 0.111 {
		t.Errorf("window 8 rate ratio = %v, want 0.111 (matched by window)", got)
	}
	md := fr.markdown()
	for _, want := range []string{
		"| 10 | flat, window 2 | node | 0.0 | 100 (0.33×) | 3.00 (3.00×) | 8.00 (4.00×) |",
		"| 10 | flat, window 8 | riptide | 0.0 | 900 | 1.00 | 2.00 |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}

	er := echoResults{Servers: []echoServer{
		{Name: "riptide", Clients: 5, PerSec: 200, P50Ms: 1, P99Ms: 4},
		{Name: "node", Clients: 5, PerSec: 100, P50Ms: 2, P99Ms: 4},
	}}
	er.computeRatios()
	if md := er.markdown(); !strings.Contains(md, "| node | 5 | 100 (0.50×) | 2.00 (2.00×) | 4.00 (1.00×) |") || strings.Contains(md, "backend") {
		t.Errorf("echo markdown:\n%s", md)
	}
	// A server with a backend adds its CPU column; the others show - there.
	er.Servers = append(er.Servers,
		echoServer{Name: "node-proxy", Clients: 5, PerSec: 50, P50Ms: 4, P99Ms: 8, ServerCPUPercent: 90, BackendCPUPercent: 30, BackendRequests: 500},
		echoServer{Name: "broken", Clients: 5, Error: "gone"})
	er.computeRatios()
	md = er.markdown()
	for _, want := range []string{
		"| server CPU % | backend CPU % | client CPU % |",
		"| node-proxy | 5 | 50 (0.25×) | 4.00 (4.00×) | 8.00 (2.00×) | 0.0 | 90 | 30 | 0 |",
		"| riptide | 5 | 200 | 1.00 | 4.00 | 0.0 | 0 | - | 0 |",
		"| broken | 5 | - | - | - | - | - | - | - | error: gone |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("echo markdown lacks %q:\n%s", want, md)
		}
	}
}

func TestLimitReason(t *testing.T) {
	node := serverDef{OneCore: true}
	for _, tc := range []struct {
		def                     serverDef
		paced                   bool
		server, clients, others float64
		want                    string
	}{
		{serverDef{}, true, 10, 10, 0, "paced"},
		{node, false, 97, 50, 0, "server: its one JS thread"},
		{serverDef{}, false, 80, 100, 0, "clients"},
		{serverDef{}, false, 120, 60, 0, "CPU saturated"},
		{serverDef{}, false, 80, 60, 40, "CPU saturated"},
		{serverDef{}, false, 50, 40, 0, "neither"},
	} {
		if got := limitReason(tc.def, tc.paced, tc.server, tc.clients, tc.others, 200); !strings.HasPrefix(got, tc.want) {
			t.Errorf("limitReason(%v, %v, %v) = %q, want prefix %q", tc.paced, tc.server, tc.clients, got, tc.want)
		}
	}
}
