package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// idleResults is the JSON document the idle workload writes.
type idleResults struct {
	Workload string         `json:"workload"`
	Date     string         `json:"date"`
	Command  string         `json:"command"`
	Machine  machine        `json:"machine"`
	Settings idleSettings   `json:"settings"`
	Servers  []serverResult `json:"servers"`
}

type idleSettings struct {
	N                []int   `json:"n"`
	Level            string  `json:"level"`           // "sio" or "eio"
	Rooms            string  `json:"rooms,omitempty"` // sio: "own" or "shared"
	SettleSeconds    float64 `json:"settle_seconds"`
	Samples          int     `json:"rss_samples"`
	CPUWindowSeconds float64 `json:"cpu_window_seconds"`
	PerWorker        int     `json:"sessions_per_worker"`
}

type machine struct {
	CPUs        int    `json:"cpus"`
	CPUModel    string `json:"cpu_model,omitempty"`
	MemTotalKiB int64  `json:"mem_total_kib,omitempty"`
	Kernel      string `json:"kernel,omitempty"`
	Go          string `json:"go"`
	Node        string `json:"node,omitempty"`
}

type serverResult struct {
	Name           string      `json:"name"`
	Desc           string      `json:"desc"`
	Error          string      `json:"error,omitempty"`
	BaselineRSSKiB int64       `json:"baseline_rss_kib"` // no session open
	Points         []idlePoint `json:"points"`
	// KiB of RSS per session: between the smallest and the largest N, and
	// the least-squares slope over all points.
	SlopeEndsKiB     float64 `json:"slope_kib_per_session_ends"`
	SlopeLSQKiB      float64 `json:"slope_kib_per_session_lsq"`
	ConnectsPerSec   float64 `json:"connects_per_sec"`   // over the whole ramp
	IdleCPUPercent   float64 `json:"idle_cpu_percent"`   // server, % of one core, at the top N
	ClientCPUPercent float64 `json:"client_cpu_percent"` // all workers, same window
	OthersCPUPercent float64 `json:"others_cpu_percent"` // the rest of the machine, same window
	Failed           int     `json:"failed"`
	Lost             int     `json:"lost"`
	Pongs            int64   `json:"pongs"`
	// The kernel's memory per socket, outside any RSS (see kernel.go).
	Kernel *kernelCost `json:"kernel,omitempty"`
	// The figures above carried to 1,000,000 idle clients on one node.
	Projection *projection `json:"projection,omitempty"`
	// Ratios to riptide's figure (this server / riptide), present when
	// riptide is in the run and this is another server.
	Ratios map[string]float64 `json:"ratios_to_riptide,omitempty"`
}

type idlePoint struct {
	N              int     `json:"n"`
	Sessions       int     `json:"sessions"` // open when RSS was read
	RSSKiB         int64   `json:"rss_kib"`  // median of the samples
	RSSSamplesKiB  []int64 `json:"rss_samples_kib"`
	RampSeconds    float64 `json:"ramp_seconds"`
	ConnectsPerSec float64 `json:"connects_per_sec"`
}

// projection carries the idle measurements linearly to n connections: RSS
// as the baseline plus the slope, idle CPU in proportion (it is heartbeat
// work, one ping per client per interval), kernel memory per socket on the
// server's side only (in production the clients live elsewhere).
type projection struct {
	Connections  int     `json:"connections"`
	RSSGiB       float64 `json:"rss_gib"`
	IdleCPUCores float64 `json:"idle_cpu_cores"`
	KernelGiB    float64 `json:"kernel_gib,omitempty"`
}

func project(s *serverResult, n int) *projection {
	if len(s.Points) < 2 {
		return nil
	}
	top := s.Points[len(s.Points)-1].Sessions
	p := &projection{Connections: n}
	p.RSSGiB = round((float64(s.BaselineRSSKiB)+s.SlopeEndsKiB*float64(n))/(1<<20), 2)
	if top > 0 {
		p.IdleCPUCores = round(s.IdleCPUPercent/100*float64(n)/float64(top), 2)
	}
	if s.Kernel != nil {
		p.KernelGiB = round(s.Kernel.CachesKiBPerSocket*float64(n)/(1<<20), 2)
	}
	return p
}

func median(v []int64) int64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// slopes returns the KiB per session between the first and last points and
// the least-squares slope over all points, with x the sessions actually open.
func slopes(pts []idlePoint) (ends, lsq float64) {
	if len(pts) < 2 {
		return 0, 0
	}
	a, b := pts[0], pts[len(pts)-1]
	if dx := b.Sessions - a.Sessions; dx != 0 {
		ends = float64(b.RSSKiB-a.RSSKiB) / float64(dx)
	}
	var mx, my float64
	for _, p := range pts {
		mx += float64(p.Sessions)
		my += float64(p.RSSKiB)
	}
	mx /= float64(len(pts))
	my /= float64(len(pts))
	var sxy, sxx float64
	for _, p := range pts {
		dx := float64(p.Sessions) - mx
		sxy += dx * (float64(p.RSSKiB) - my)
		sxx += dx * dx
	}
	if sxx != 0 {
		lsq = sxy / sxx
	}
	return ends, lsq
}

// ratio keys, in table order after the per-N RSS keys ("rss_at_N").
const (
	ratioSlopeEnds = "slope_ends"
	ratioSlopeLSQ  = "slope_lsq"
	ratioConnects  = "connects_per_sec"
	ratioIdleCPU   = "idle_cpu"
)

func (r *idleResults) computeRatios() {
	var ref *serverResult
	for i := range r.Servers {
		if r.Servers[i].Name == "riptide" && r.Servers[i].Error == "" {
			ref = &r.Servers[i]
		}
	}
	if ref == nil {
		return
	}
	for i := range r.Servers {
		s := &r.Servers[i]
		if s == ref {
			continue
		}
		s.Ratios = map[string]float64{}
		put := func(k string, v, base float64) {
			if base != 0 && !math.IsNaN(v) {
				s.Ratios[k] = round(v/base, 3)
			}
		}
		for _, p := range s.Points {
			for _, q := range ref.Points {
				if p.N == q.N {
					put("rss_at_"+strconv.Itoa(p.N), float64(p.RSSKiB), float64(q.RSSKiB))
				}
			}
		}
		put(ratioSlopeEnds, s.SlopeEndsKiB, ref.SlopeEndsKiB)
		put(ratioSlopeLSQ, s.SlopeLSQKiB, ref.SlopeLSQKiB)
		put(ratioConnects, s.ConnectsPerSec, ref.ConnectsPerSec)
		put(ratioIdleCPU, s.IdleCPUPercent, ref.IdleCPUPercent)
	}
}

func (r *idleResults) encodeJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// writeJSONFile writes res as indented JSON to path, creating its directory.
func writeJSONFile(path string, res results) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := res.encodeJSON(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// markdown renders one row per server; other servers' cells carry their
// ratio to riptide in parentheses.
func (r *idleResults) markdown() string {
	var b strings.Builder
	head := []string{"server", "RSS, 0 connections"}
	for _, n := range r.Settings.N {
		head = append(head, "RSS @ "+strconv.Itoa(n))
	}
	unit := "session"
	if r.Settings.Level == "sio" {
		unit = "client"
	}
	head = append(head, "KiB/"+unit+" (ends)", "KiB/"+unit+" (least squares)", "connects/s", "idle CPU, % of a core")
	b.WriteString("| " + strings.Join(head, " | ") + " |\n|")
	for range head {
		b.WriteString("---|")
	}
	b.WriteString("\n")
	for _, s := range r.Servers {
		cell := func(v string, key string) string {
			if q, ok := s.Ratios[key]; ok {
				return fmt.Sprintf("%s (%.2f×)", v, q)
			}
			return v
		}
		row := []string{s.Name, fmtKiB(float64(s.BaselineRSSKiB))}
		for _, n := range r.Settings.N {
			v := "-"
			for _, p := range s.Points {
				if p.N == n {
					v = cell(fmtKiB(float64(p.RSSKiB)), "rss_at_"+strconv.Itoa(n))
				}
			}
			row = append(row, v)
		}
		if len(s.Points) < 2 {
			row = append(row, "-", "-", "-", "-")
		} else {
			row = append(row,
				cell(fmt.Sprintf("%.2f", s.SlopeEndsKiB), ratioSlopeEnds),
				cell(fmt.Sprintf("%.2f", s.SlopeLSQKiB), ratioSlopeLSQ),
				cell(fmt.Sprintf("%.0f", s.ConnectsPerSec), ratioConnects),
				cell(fmt.Sprintf("%.2f", s.IdleCPUPercent), ratioIdleCPU))
		}
		b.WriteString("| " + strings.Join(row, " | ") + " |\n")
	}
	var proj []string
	for _, s := range r.Servers {
		if p := s.Projection; p != nil {
			k := "-"
			if s.Kernel != nil && p.KernelGiB > 0 {
				k = fmt.Sprintf("%.2f GiB (%.2f KiB/socket)", p.KernelGiB, s.Kernel.CachesKiBPerSocket)
			}
			proj = append(proj, fmt.Sprintf("| %s | %.2f GiB | %.2f | %s |", s.Name, p.RSSGiB, p.IdleCPUCores, k))
		}
	}
	if len(proj) > 0 {
		b.WriteString("\nProjected to 1,000,000 idle " + unit + "s on one node (linear in the measured slope and idle CPU):\n\n")
		b.WriteString("| server | server RSS | idle CPU, cores | kernel socket memory (outside RSS) |\n|---|---|---|---|\n")
		b.WriteString(strings.Join(proj, "\n") + "\n")
	}
	for _, s := range r.Servers {
		if s.Error != "" {
			fmt.Fprintf(&b, "\n%s: %s\n", s.Name, s.Error)
		}
	}
	return b.String()
}

// round keeps JSON figures readable: d decimals.
func round(v float64, d int) float64 {
	p := math.Pow(10, float64(d))
	return math.Round(v*p) / p
}

func fmtKiB(kib float64) string {
	return fmt.Sprintf("%.1f MiB", kib/1024)
}

// machineInfo describes the host for the results file.
func machineInfo() machine {
	m := machine{CPUs: runtime.NumCPU(), Go: runtime.Version()}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for line := range strings.SplitSeq(string(b), "\n") {
			if rest, ok := strings.CutPrefix(line, "MemTotal:"); ok {
				if f := strings.Fields(rest); len(f) > 0 {
					m.MemTotalKiB, _ = strconv.ParseInt(f[0], 10, 64)
				}
			}
		}
	}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.SplitSeq(string(b), "\n") {
			if rest, ok := strings.CutPrefix(line, "model name"); ok {
				m.CPUModel = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(rest), ":"))
				break
			}
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "node", "--version").Output(); err == nil {
		m.Node = strings.TrimSpace(string(out))
	}
	return m
}
