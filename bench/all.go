package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"slices"
	"strings"
	"time"
)

// allConfig holds the flags of "all": every workload's flags, the fan-out
// ones prefixed "fan-" and the echo ones "echo-".
type allConfig struct {
	commonConfig
	workloads []string
	wlFlag    string
	idle      idleConfig
	fanout    fanoutConfig
	echo      echoConfig
}

func parseAllFlags(args []string) (allConfig, error) {
	fs := flag.NewFlagSet("all", flag.ContinueOnError)
	var cfg allConfig
	cfg.commonConfig.register(fs, "riptide,node,zishang520")
	fs.StringVar(&cfg.wlFlag, "workloads", "idle,fanout,echo", "workloads to run, in this order")
	cfg.idle.register(fs, "")
	cfg.fanout.register(fs, "fan-")
	cfg.echo.register(fs, "echo-")
	// Three workloads times three servers: about 12 minutes here. Seven
	// idle points rather than four, for the memory plot.
	for name, v := range map[string]string{"timeout": "40m", "n": "1000,4000,7000,10000,13000,16000,19000"} {
		f := fs.Lookup(name)
		_ = f.Value.Set(v)
		f.DefValue = v
	}
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() != 0 {
		return cfg, fmt.Errorf("bench: unexpected arguments %q", fs.Args())
	}
	for w := range strings.SplitSeq(cfg.wlFlag, ",") {
		w = strings.TrimSpace(w)
		if !slices.Contains([]string{"idle", "fanout", "echo"}, w) {
			return cfg, fmt.Errorf("bench: unknown workload %q (idle, fanout, echo)", w)
		}
		cfg.workloads = append(cfg.workloads, w)
	}
	if err := cfg.commonConfig.check(); err != nil {
		return cfg, err
	}
	cfg.idle.commonConfig = cfg.commonConfig
	cfg.fanout.commonConfig = cfg.commonConfig
	cfg.echo.commonConfig = cfg.commonConfig
	return cfg, errors.Join(cfg.idle.check(), cfg.fanout.check(), cfg.echo.check())
}

// runAll is the "all" subcommand: each workload against every server, one
// server process at a time, all in one run and one results document.
func runAll(args []string) error {
	cfg, err := parseAllFlags(args)
	if err != nil {
		return err
	}
	return withRun(cfg.timeout, func(ctx context.Context, env *runEnv) error {
		res := &allResults{
			Workload: "all",
			Date:     time.Now().UTC().Format(time.RFC3339),
			Command:  commandLine(),
			Machine:  machineInfo(),
		}
		var errs []error
		for _, w := range cfg.workloads {
			if ctx.Err() != nil {
				break
			}
			logf("=== workload %s", w)
			var err error
			switch w {
			case "idle":
				res.Idle, err = idleWorkload(ctx, env, cfg.idle)
			case "fanout":
				res.Fanout, err = fanoutWorkload(ctx, env, cfg.fanout)
			case "echo":
				res.Echo, err = echoWorkload(ctx, env, cfg.echo)
			}
			if err != nil {
				errs = append(errs, err)
			}
		}
		if werr := emit(cfg.commonConfig, res, res.markdown); werr != nil {
			return werr
		}
		return errors.Join(errs...)
	})
}
