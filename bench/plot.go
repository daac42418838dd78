package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// runPlot is the "plot" subcommand: server RSS against open connections, one
// line per server, from the idle results of an "idle" or "all" JSON file,
// drawn by gnuplot (apt-get install gnuplot-nox) into a PNG. The data and
// the gnuplot script are written next to the PNG so the figure can be
// redrawn without the bench.
func runPlot(args []string) error {
	fs := flag.NewFlagSet("plot", flag.ContinueOnError)
	in := fs.String("in", "docs/bench-results/all.json", "results of an idle or all run")
	out := fs.String("out", "docs/bench-results/idle-rss.png", "PNG to write")
	if err := fs.Parse(args); err != nil {
		return err
	}
	b, err := os.ReadFile(*in)
	if err != nil {
		return err
	}
	var doc struct {
		Workload string       `json:"workload"`
		Idle     *idleResults `json:"idle"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return err
	}
	idle := doc.Idle
	if doc.Workload == "idle" {
		idle = &idleResults{}
		if err := json.Unmarshal(b, idle); err != nil {
			return err
		}
	}
	if idle == nil || len(idle.Servers) == 0 {
		return fmt.Errorf("bench: no idle results in %s", *in)
	}

	base := strings.TrimSuffix(*out, filepath.Ext(*out))
	dat, gp := base+".dat", base+".gp"
	var data strings.Builder
	var plots []string
	block := 0
	for _, s := range idle.Servers {
		if len(s.Points) == 0 {
			continue
		}
		fmt.Fprintf(&data, "# %s: connections, RSS MiB\n0 %.2f\n", s.Name, float64(s.BaselineRSSKiB)/1024)
		for _, p := range s.Points {
			fmt.Fprintf(&data, "%d %.2f\n", p.Sessions, float64(p.RSSKiB)/1024)
		}
		data.WriteString("\n\n") // gnuplot data blocks, addressed by index
		plots = append(plots, fmt.Sprintf("%q index %d with linespoints lw 2 pt 7 title %q",
			filepath.Base(dat), block, fmt.Sprintf("%s (%.1f KiB per client)", s.Name, s.SlopeEndsKiB)))
		block++
	}
	unit := "Engine.IO WebSocket sessions"
	if idle.Settings.Level == "sio" {
		unit = "Socket.IO clients, each in / and one room"
	}
	script := fmt.Sprintf(`# Drawn by: go run ./bench plot --in %s --out %s
set terminal pngcairo size 900,560 font "sans,11"
set output %q
set title "Server RSS against idle connections (%s)"
set xlabel "open connections: %s"
set ylabel "server RSS, MiB"
set key top left
set grid
set xrange [0:*]
set yrange [0:*]
plot %s
`, *in, *out, filepath.Base(*out), idle.Date[:min(10, len(idle.Date))], unit, strings.Join(plots, ", \\\n     "))
	if err := os.MkdirAll(filepath.Dir(dat), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(dat, []byte(data.String()), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(gp, []byte(script), 0o644); err != nil {
		return err
	}
	gnuplot, err := exec.LookPath("gnuplot")
	if err != nil {
		return errors.New("bench: gnuplot not found (apt-get install -y gnuplot-nox); data and script written to " + dat + ", " + gp)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, gnuplot, filepath.Base(gp))
	cmd.Dir = filepath.Dir(gp)
	if o, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("bench: gnuplot: %w\n%s", err, o)
	}
	logf("wrote %s (data %s, script %s)", *out, dat, gp)
	return nil
}
