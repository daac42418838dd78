package main

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// fanoutResults is the JSON document the fan-out workload writes.
type fanoutResults struct {
	Workload string         `json:"workload"`
	Date     string         `json:"date"`
	Command  string         `json:"command"`
	Machine  machine        `json:"machine"`
	Settings fanoutSettings `json:"settings"`
	Servers  []fanoutServer `json:"servers"`
}

type fanoutSettings struct {
	Subscribers       []int    `json:"subscribers"`
	Modes             []string `json:"modes"`
	PacedRate         int      `json:"paced_deliveries_per_sec"`
	DurationSeconds   float64  `json:"duration_seconds"`
	Windows           []int    `json:"windows_broadcasts"`
	PadBytes          int      `json:"pad_bytes"`
	SubscriberWorkers int      `json:"subscriber_workers"`
}

type fanoutServer struct {
	Name   string        `json:"name"`
	Desc   string        `json:"desc"`
	Error  string        `json:"error,omitempty"`
	Phases []fanoutPhase `json:"phases"`
}

// fanoutPhase is one measured run: n subscribers, one mode.
type fanoutPhase struct {
	Subscribers      int     `json:"subscribers"`
	Mode             string  `json:"mode"` // "paced" or "flat"
	Window           int     `json:"window_broadcasts"`
	OfferedPerSec    float64 `json:"offered_per_sec,omitempty"` // paced: deliveries/s asked for
	EveryMs          float64 `json:"every_ms,omitempty"`        // paced: one broadcast this often
	Seconds          float64 `json:"seconds"`                   // first publish to last delivery
	Broadcasts       int64   `json:"broadcasts"`
	Expected         int64   `json:"expected"` // broadcasts x subscribers
	Delivered        int64   `json:"delivered"`
	Lost             int64   `json:"lost"`
	Stray            int64   `json:"stray,omitempty"` // messages of another run
	DeliveriesPerSec float64 `json:"deliveries_per_sec"`
	BroadcastsPerSec float64 `json:"broadcasts_per_sec"`
	P50Ms            float64 `json:"p50_ms"`
	P99Ms            float64 `json:"p99_ms"`
	MaxMs            float64 `json:"max_ms"`
	ServerCPUPercent float64 `json:"server_cpu_percent"` // % of one core, over the run
	ClientCPUPercent float64 `json:"client_cpu_percent"` // subscribers and publisher
	OthersCPUPercent float64 `json:"others_cpu_percent"` // the rest of the machine
	ServerRSSKiB     int64   `json:"server_rss_kib"`     // at the end of the run
	Limit            string  `json:"limited_by"`
	Note             string  `json:"note,omitempty"`
	Error            string  `json:"error,omitempty"`
	// Ratios to riptide's figures in the same phase (this / riptide).
	Ratios map[string]float64 `json:"ratios_to_riptide,omitempty"`
}

// echoResults is the JSON document the echo workload writes.
type echoResults struct {
	Workload string       `json:"workload"`
	Date     string       `json:"date"`
	Command  string       `json:"command"`
	Machine  machine      `json:"machine"`
	Settings echoSettings `json:"settings"`
	Servers  []echoServer `json:"servers"`
}

type echoSettings struct {
	Clients         int     `json:"clients"`
	DurationSeconds float64 `json:"duration_seconds"`
	WarmupSeconds   float64 `json:"warmup_seconds"`
	Workers         int     `json:"workers"`
}

type echoServer struct {
	Name             string  `json:"name"`
	Desc             string  `json:"desc"`
	Error            string  `json:"error,omitempty"`
	Clients          int     `json:"clients"`
	Seconds          float64 `json:"seconds"`
	RoundTrips       int64   `json:"round_trips"`
	PerSec           float64 `json:"round_trips_per_sec"`
	P50Ms            float64 `json:"p50_ms"`
	P99Ms            float64 `json:"p99_ms"`
	MaxMs            float64 `json:"max_ms"`
	Broken           int64   `json:"broken"`
	WrongAcks        int64   `json:"wrong_acks"` // acks that were not the ping's echo
	ServerCPUPercent float64 `json:"server_cpu_percent"`
	// The backend of a server that proxies "ping" (serverDef.Backend): its
	// CPU and the events it answered during the measured run (as many as
	// the round trips).
	BackendCPUPercent float64            `json:"backend_cpu_percent,omitempty"`
	BackendRequests   int64              `json:"backend_requests,omitempty"`
	ClientCPUPercent  float64            `json:"client_cpu_percent"`
	OthersCPUPercent  float64            `json:"others_cpu_percent"`
	Limit             string             `json:"limited_by"`
	Ratios            map[string]float64 `json:"ratios_to_riptide,omitempty"`
}

// allResults is the document of the "all" command: every workload.
type allResults struct {
	Workload string         `json:"workload"`
	Date     string         `json:"date"`
	Command  string         `json:"command"`
	Machine  machine        `json:"machine"`
	Idle     *idleResults   `json:"idle,omitempty"`
	Fanout   *fanoutResults `json:"fanout,omitempty"`
	Echo     *echoResults   `json:"echo,omitempty"`
}

func encodeIndented(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func (r *fanoutResults) encodeJSON(w io.Writer) error { return encodeIndented(w, r) }
func (r *echoResults) encodeJSON(w io.Writer) error   { return encodeIndented(w, r) }
func (r *allResults) encodeJSON(w io.Writer) error    { return encodeIndented(w, r) }

// ratio returns v/base rounded, and false when base is zero.
func ratio(v, base float64) (float64, bool) {
	if base == 0 {
		return 0, false
	}
	return round(v/base, 3), true
}

// Ratio keys of the fan-out and echo results.
const (
	ratioRate = "per_sec"
	ratioP50  = "p50"
	ratioP99  = "p99"
)

func (r *fanoutResults) computeRatios() {
	var ref *fanoutServer
	for i := range r.Servers {
		if r.Servers[i].Name == "riptide" {
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
		for j := range s.Phases {
			p := &s.Phases[j]
			for _, q := range ref.Phases {
				if q.Subscribers != p.Subscribers || q.Mode != p.Mode || q.Window != p.Window || q.Error != "" || p.Error != "" {
					continue
				}
				p.Ratios = map[string]float64{}
				for k, v := range map[string][2]float64{
					ratioRate: {p.DeliveriesPerSec, q.DeliveriesPerSec},
					ratioP50:  {p.P50Ms, q.P50Ms},
					ratioP99:  {p.P99Ms, q.P99Ms},
				} {
					if x, ok := ratio(v[0], v[1]); ok {
						p.Ratios[k] = x
					}
				}
			}
		}
	}
}

func (r *echoResults) computeRatios() {
	var ref *echoServer
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
		if s == ref || s.Error != "" {
			continue
		}
		s.Ratios = map[string]float64{}
		for k, v := range map[string][2]float64{
			ratioRate: {s.PerSec, ref.PerSec},
			ratioP50:  {s.P50Ms, ref.P50Ms},
			ratioP99:  {s.P99Ms, ref.P99Ms},
		} {
			if x, ok := ratio(v[0], v[1]); ok {
				s.Ratios[k] = x
			}
		}
	}
}

// withRatio formats v and, when ratios has key, its ratio to riptide.
func withRatio(v string, ratios map[string]float64, key string) string {
	if q, ok := ratios[key]; ok {
		return fmt.Sprintf("%s (%.2f×)", v, q)
	}
	return v
}

// markdown renders one row per (subscribers, mode, server), the servers of a
// phase together; other servers' cells carry their ratio to riptide.
func (r *fanoutResults) markdown() string {
	var b strings.Builder
	b.WriteString("| subscribers | mode | server | broadcasts/s | deliveries/s | p50 ms | p99 ms | max ms | lost | server CPU % | client CPU % | limited by |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	// Phases in the order the first server ran them; the servers of a phase together.
	type key struct {
		n      int
		mode   string
		window int
	}
	var order []key
	for _, s := range r.Servers {
		for _, p := range s.Phases {
			if k := (key{p.Subscribers, p.Mode, p.Window}); !slices.Contains(order, k) {
				order = append(order, k)
			}
		}
	}
	for _, k := range order {
		for _, s := range r.Servers {
			for _, p := range s.Phases {
				if (key{p.Subscribers, p.Mode, p.Window}) != k {
					continue
				}
				m := fmt.Sprintf("flat, window %d", p.Window)
				if p.Mode == "paced" {
					m = fmt.Sprintf("paced, %.0f/s (1 broadcast per %g ms)", p.OfferedPerSec, p.EveryMs)
				}
				limit := p.Limit
				if p.Note != "" {
					limit += "; " + p.Note
				}
				if p.Error != "" {
					limit += "; error: " + p.Error
				}
				row := []string{
					strconv.Itoa(p.Subscribers), m, s.Name,
					fmt.Sprintf("%.1f", p.BroadcastsPerSec),
					withRatio(fmt.Sprintf("%.0f", p.DeliveriesPerSec), p.Ratios, ratioRate),
					withRatio(fmt.Sprintf("%.2f", p.P50Ms), p.Ratios, ratioP50),
					withRatio(fmt.Sprintf("%.2f", p.P99Ms), p.Ratios, ratioP99),
					fmt.Sprintf("%.1f", p.MaxMs),
					strconv.FormatInt(p.Lost, 10),
					fmt.Sprintf("%.0f", p.ServerCPUPercent),
					fmt.Sprintf("%.0f", p.ClientCPUPercent),
					limit,
				}
				b.WriteString("| " + strings.Join(row, " | ") + " |\n")
			}
		}
	}
	for _, s := range r.Servers {
		if s.Error != "" {
			fmt.Fprintf(&b, "\n%s: %s\n", s.Name, s.Error)
		}
	}
	return b.String()
}

func (r *echoResults) markdown() string {
	backend, backendDash := false, "" // a backend CPU column when a server has a backend
	for _, s := range r.Servers {
		if s.BackendRequests > 0 {
			backend, backendDash = true, " - |"
		}
	}
	var b strings.Builder
	b.WriteString("| server | clients | round trips/s | p50 ms | p99 ms | max ms | server CPU % |")
	if backend {
		b.WriteString(" backend CPU % |")
	}
	b.WriteString(" client CPU % | limited by |\n|---|---|---|---|---|---|---|---|---|")
	if backend {
		b.WriteString("---|")
	}
	b.WriteString("\n")
	for _, s := range r.Servers {
		if s.Error != "" && s.RoundTrips == 0 {
			fmt.Fprintf(&b, "| %s | %d | - | - | - | - | - |%s - | error: %s |\n", s.Name, s.Clients, backendDash, s.Error)
			continue
		}
		row := []string{
			s.Name, strconv.Itoa(s.Clients),
			withRatio(fmt.Sprintf("%.0f", s.PerSec), s.Ratios, ratioRate),
			withRatio(fmt.Sprintf("%.2f", s.P50Ms), s.Ratios, ratioP50),
			withRatio(fmt.Sprintf("%.2f", s.P99Ms), s.Ratios, ratioP99),
			fmt.Sprintf("%.1f", s.MaxMs),
			fmt.Sprintf("%.0f", s.ServerCPUPercent),
		}
		if backend && s.BackendRequests > 0 {
			row = append(row, fmt.Sprintf("%.0f", s.BackendCPUPercent))
		} else if backend {
			row = append(row, "-") // a server without a backend
		}
		row = append(row, fmt.Sprintf("%.0f", s.ClientCPUPercent), s.Limit)
		b.WriteString("| " + strings.Join(row, " | ") + " |\n")
	}
	return b.String()
}

func (r *allResults) markdown() string {
	var b strings.Builder
	if r.Idle != nil {
		b.WriteString("### Idle\n\n" + r.Idle.markdown() + "\n")
	}
	if r.Fanout != nil {
		b.WriteString("### Fan-out\n\n" + r.Fanout.markdown() + "\n")
	}
	if r.Echo != nil {
		b.WriteString("### Echo\n\n" + r.Echo.markdown())
	}
	return b.String()
}
