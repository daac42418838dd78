package main

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/riptide-io/riptide/internal/nodetest"
)

const (
	unitFile       = "../../deploy/riptide.service"
	dockerfile     = "../../deploy/Dockerfile"
	exampleYAML    = "../../deploy/riptide.example.yaml"
	riptideBinPath = "./cmd/riptide"
)

// systemdUnit reads a unit file: section -> key -> values (a key may repeat).
func systemdUnit(t *testing.T, file string) map[string]map[string][]string {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	unit := map[string]map[string][]string{}
	var section string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || line[0] == '#' || line[0] == ';':
		case line[0] == '[':
			section = strings.Trim(line, "[]")
			unit[section] = map[string][]string{}
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok || section == "" {
				t.Fatalf("%s: %q is not key=value in a section", file, line)
			}
			unit[section][k] = append(unit[section][k], v)
		}
	}
	return unit
}

// TestSystemdUnit: deploy/riptide.service runs the binary with flags that load, as a
// dedicated user, with a descriptor limit for many connections, SIGTERM to drain and a
// stop timeout longer than the drain, restarts on failure, secrets from an environment
// file, and hardening. systemd-analyze verify then finds nothing to say about it (it
// prints unknown keys and bad values, which it otherwise ignores), and systemd-analyze
// security rates its exposure at 2.0 or less ("OK").
func TestSystemdUnit(t *testing.T) {
	u := systemdUnit(t, unitFile)
	svc := u["Service"]
	one := func(k string) string {
		t.Helper()
		if len(svc[k]) != 1 {
			t.Fatalf("[Service] %s: %q, want one value", k, svc[k])
		}
		return svc[k][0]
	}
	exec0 := strings.Fields(one("ExecStart"))
	if !filepath.IsAbs(exec0[0]) || filepath.Base(exec0[0]) != "riptide" {
		t.Fatalf("ExecStart %q", exec0)
	}
	// The unit's config is deploy/riptide.example.yaml once installed (the header says so).
	args := slices.Clone(exec0[1:])
	if i := slices.Index(args, "--config"); i < 0 || i+1 >= len(args) {
		t.Fatalf("ExecStart %q has no --config", exec0)
	} else {
		args[i+1] = exampleYAML
	}
	c, err := load(args, func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatalf("ExecStart's flags: %v", err)
	}
	stop, err := time.ParseDuration(one("TimeoutStopSec"))
	if err != nil || stop <= c.Drain.Timeout {
		t.Errorf("TimeoutStopSec %s (%v): must be longer than drain.timeout %v", one("TimeoutStopSec"), err, c.Drain.Timeout)
	}
	if n, err := strconv.Atoi(one("LimitNOFILE")); err != nil || n < 65536 {
		t.Errorf("LimitNOFILE %q: one descriptor per connection needs far more than the default", one("LimitNOFILE"))
	}
	for k, want := range map[string]string{"KillSignal": "SIGTERM", "Restart": "on-failure", "NoNewPrivileges": "yes",
		"ProtectSystem": "strict", "PrivateTmp": "yes", "ProtectHome": "yes"} {
		if got := one(k); got != want {
			t.Errorf("%s=%s, want %s", k, got, want)
		}
	}
	if user := one("User"); user == "" || user == "root" || user == "0" {
		t.Errorf("User=%q: a dedicated user is expected", user)
	}
	if !strings.HasPrefix(one("EnvironmentFile"), "-/etc/riptide/") {
		t.Errorf("EnvironmentFile=%s", one("EnvironmentFile"))
	}

	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze not installed (Debian's systemd package): the unit's fields were checked, not systemd's reading of it")
	}
	// verify resolves ExecStart and the dependencies inside --root: the unit, a stand-in
	// executable at ExecStart's path and the system's own units.
	root := t.TempDir()
	for _, dir := range []string{"etc/systemd/system", filepath.Dir(exec0[0])[1:], "usr/lib/systemd"} {
		if err := os.MkdirAll(filepath.Join(root, dir), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	unit, _ := os.ReadFile(unitFile)
	mustWrite(t, filepath.Join(root, "etc/systemd/system/riptide.service"), unit, 0o644)
	mustWrite(t, filepath.Join(root, exec0[0]), []byte("#!/bin/sh\n"), 0o755)
	for _, sys := range []string{"/usr/lib/systemd/system", "/lib/systemd/system"} {
		if _, err := os.Stat(filepath.Join(sys, "sysinit.target")); err == nil {
			if out, err := exec.Command("cp", "-r", sys, filepath.Join(root, "usr/lib/systemd/")).CombinedOutput(); err != nil {
				t.Fatalf("cp %s: %v %s", sys, err, out)
			}
			break
		}
	}
	out, err := exec.Command(analyze, "verify", "--root="+root, "riptide.service").CombinedOutput()
	if err != nil || len(out) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
	out, err = exec.Command(analyze, "security", "--offline=true", "--root="+root, "--threshold=20", "riptide.service").CombinedOutput()
	if err != nil {
		t.Errorf("systemd-analyze security: %v (exposure over 2.0)\n%s", err, out)
	}
	if m := regexp.MustCompile(`Overall exposure level for riptide.service: (\S+)`).FindSubmatch(out); m != nil {
		t.Logf("systemd-analyze security: exposure %s", m[1])
	}
}

func mustWrite(t *testing.T, name string, b []byte, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(name, b, mode); err != nil {
		t.Fatal(err)
	}
}

// dockerInstruction is one instruction of a Dockerfile, continuation lines joined.
type dockerInstruction struct {
	cmd   string // upper case: FROM, COPY, RUN...
	flags map[string]string
	args  []string // shell words, or the JSON array's elements
	raw   string   // everything after the command and its --flags
}

// parseDockerfile reads the instructions, without comments; stages start at each FROM.
func parseDockerfile(t *testing.T, file string) [][]dockerInstruction {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var stages [][]dockerInstruction
	var cur string
	for _, line := range strings.Split(string(b), "\n") {
		trim := strings.TrimSpace(line)
		if strings.HasPrefix(trim, "#") || trim == "" && cur == "" {
			continue
		}
		if s, ok := strings.CutSuffix(trim, "\\"); ok {
			cur += s + " "
			continue
		}
		cur += trim
		cmd, rest, _ := strings.Cut(cur, " ")
		cur = ""
		in := dockerInstruction{cmd: strings.ToUpper(cmd), flags: map[string]string{}}
		rest = strings.TrimSpace(rest)
		for strings.HasPrefix(rest, "--") {
			var f string
			f, rest, _ = strings.Cut(rest, " ")
			k, v, _ := strings.Cut(f[2:], "=")
			in.flags[k] = v
			rest = strings.TrimSpace(rest)
		}
		in.raw = rest
		if strings.HasPrefix(rest, "[") {
			if err := json.Unmarshal([]byte(rest), &in.args); err != nil {
				t.Fatalf("%s: %s: %v", file, cur, err)
			}
		} else {
			in.args = strings.Fields(rest)
		}
		if in.cmd == "FROM" {
			stages = append(stages, nil)
		}
		if len(stages) == 0 {
			t.Fatalf("%s: %s before FROM", file, in.cmd)
		}
		stages[len(stages)-1] = append(stages[len(stages)-1], in)
	}
	return stages
}

// dockerEnv reads ENV k=v [k=v...] (values may be quoted) into m.
func dockerEnv(t *testing.T, in dockerInstruction, m map[string]string) {
	t.Helper()
	for _, kv := range in.args {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			t.Fatalf("ENV %s: only the k=v form is read", in.raw)
		}
		m[k] = strings.Trim(v, `"`)
	}
}

// goTool runs the go command in the module root with extra environment.
func goTool(t *testing.T, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command("go", args...)
	cmd.Dir = nodetest.ModuleRoot()
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestDockerfile: without building an image (that needs a registry), deploy/Dockerfile is
// read as Docker would and held against the repository: the build stage's Go is at least
// go.mod's; what it copies exists and holds every package cmd/riptide is built from (and
// the .dockerignore excludes none of them); its go build command builds cmd/riptide (go
// build -n, with the same environment and flags); the runtime stage runs that binary as
// a non-root user, with a config file it copies that loads with the image's environment,
// exposes the public and admin ports of that config, stops with SIGTERM, and checks
// liveness on the admin port.
func TestDockerfile(t *testing.T) {
	stages := parseDockerfile(t, dockerfile)
	if len(stages) < 2 {
		t.Fatalf("%d stages, want a build stage and a runtime stage", len(stages))
	}
	build, runtime := stages[0], stages[len(stages)-1]
	root := nodetest.ModuleRoot()

	// The build stage: golang:X.Y... AS build, X.Y at least go.mod's.
	from := build[0].args
	if len(from) != 3 || !strings.EqualFold(from[1], "AS") || !strings.HasPrefix(from[0], "golang:") {
		t.Fatalf("build stage FROM %q", from)
	}
	stageName := from[2]
	mod, _ := os.ReadFile(filepath.Join(root, "go.mod"))
	wantGo := regexp.MustCompile(`(?m)^go (\d+)\.(\d+)`).FindStringSubmatch(string(mod))
	gotGo := regexp.MustCompile(`^golang:(\d+)\.(\d+)`).FindStringSubmatch(from[0])
	if gotGo == nil || atoi(gotGo[1])*1000+atoi(gotGo[2]) < atoi(wantGo[1])*1000+atoi(wantGo[2]) {
		t.Errorf("FROM %s: go.mod wants go %s.%s", from[0], wantGo[1], wantGo[2])
	}
	ignored := dockerIgnore(t, dockerfile+".dockerignore")
	var copied []string // repository paths copied into the build stage
	var buildCmd, workdir string
	for _, in := range build {
		switch in.cmd {
		case "WORKDIR":
			workdir = in.args[0]
		case "COPY":
			for _, src := range in.args[:len(in.args)-1] {
				src = path.Clean(src)
				if _, err := os.Stat(filepath.Join(root, src)); err != nil {
					t.Errorf("COPY %s: %v", src, err)
				}
				if ignored(src) {
					t.Errorf("COPY %s: excluded by the .dockerignore", src)
				}
				copied = append(copied, src)
			}
		case "RUN":
			if strings.Contains(in.raw, "go build") {
				buildCmd = in.raw
			}
		}
	}
	covered := func(p string) bool {
		for _, c := range copied {
			if p == c || strings.HasPrefix(p, c+"/") {
				return !ignored(p)
			}
		}
		return false
	}
	for _, f := range []string{"go.mod", "go.sum"} {
		if !covered(f) {
			t.Errorf("the build stage does not copy %s", f)
		}
	}

	// Its go build: the environment, flags, output and target of the RUN line.
	words := strings.Fields(buildCmd)
	var env, flags []string
	var out, target string
	for i := 0; i < len(words); i++ {
		w := words[i]
		switch {
		case w == "go" || w == "build":
		case strings.Contains(w, "=") && !strings.HasPrefix(w, "-") && out == "" && len(flags) == 0:
			env = append(env, w)
		case w == "-o":
			out = words[i+1]
			i++
		case strings.HasPrefix(w, "-"):
			// -ldflags="-s -w" is one shell word over two fields.
			for strings.Count(w, `"`) == 1 && i+1 < len(words) {
				i++
				w += " " + words[i]
			}
			flags = append(flags, strings.ReplaceAll(w, `"`, ""))
		default:
			target = w
		}
	}
	if target != riptideBinPath || out == "" || !path.IsAbs(out) || workdir == "" {
		t.Fatalf("RUN %q: want go build -o <absolute path> %s in a WORKDIR", buildCmd, riptideBinPath)
	}
	goTool(t, env, append(append([]string{"build", "-n"}, flags...), "-o", filepath.Join(t.TempDir(), "riptide"), target)...)
	deps := goTool(t, env, "list", "-deps", "-f", "{{if not .Standard}}{{.Module.Path}} {{.Dir}}{{end}}", target)
	for _, line := range strings.Split(strings.TrimSpace(deps), "\n") {
		modPath, dir, _ := strings.Cut(line, " ")
		if modPath != "github.com/riptide-io/riptide" {
			continue
		}
		rel, _ := filepath.Rel(root, dir)
		if !covered(filepath.ToSlash(rel)) {
			t.Errorf("cmd/riptide needs %s, which the build stage does not copy", rel)
		}
	}

	// The runtime stage.
	envs := map[string]string{}
	var bin, user, stopsignal, health string
	var entry, exposed []string
	files := map[string]string{} // image path -> repository path
	for _, in := range runtime {
		switch in.cmd {
		case "COPY":
			src, dst := in.args[0], in.args[len(in.args)-1]
			switch in.flags["from"] {
			case stageName:
				if src == out {
					bin = dst
				}
			case "":
				if _, err := os.Stat(filepath.Join(root, src)); err != nil {
					t.Errorf("COPY %s: %v", src, err)
				}
				files[dst] = src
			}
		case "ENV":
			dockerEnv(t, in, envs)
		case "USER":
			user = in.args[0]
		case "EXPOSE":
			exposed = append(exposed, in.args...)
		case "STOPSIGNAL":
			stopsignal = in.args[0]
		case "HEALTHCHECK":
			health = in.raw
		case "ENTRYPOINT":
			entry = in.args
		}
	}
	if bin == "" || len(entry) == 0 || entry[0] != bin {
		t.Errorf("ENTRYPOINT %q: want the binary built in stage %s (%s), copied to %s", entry, stageName, out, bin)
	}
	if u, _, _ := strings.Cut(user, ":"); u == "" || u == "root" || u == "0" {
		t.Errorf("USER %q: a non-root user is expected", user)
	}
	if stopsignal != "SIGTERM" {
		t.Errorf("STOPSIGNAL %q: SIGTERM drains", stopsignal)
	}
	confSrc, ok := files[envs[configEnv]]
	if !ok {
		t.Fatalf("%s=%q is not a file the image copies (%v)", configEnv, envs[configEnv], files)
	}
	getenv := func(k string) string {
		if k == configEnv {
			return filepath.Join(root, confSrc)
		}
		return envs[k]
	}
	c, err := load(nil, getenv, io.Discard)
	if err != nil {
		t.Fatalf("the image's config (%s with its ENV): %v", confSrc, err)
	}
	_, public, _ := net.SplitHostPort(c.Listen.Addr)
	_, admin, err := net.SplitHostPort(c.Admin.Addr)
	if err != nil {
		t.Fatalf("the image has no admin listener (admin.addr %q): nothing to scrape or check", c.Admin.Addr)
	}
	for _, p := range []string{public, admin} {
		if !slices.Contains(exposed, p) && !slices.Contains(exposed, p+"/tcp") {
			t.Errorf("EXPOSE %v lacks port %s", exposed, p)
		}
	}
	if want := "http://127.0.0.1:" + admin + "/healthz"; !strings.Contains(health, want) {
		t.Errorf("HEALTHCHECK %q: want liveness, %s", health, want)
	}
}

func atoi(s string) int { n, _ := strconv.Atoi(s); return n }

// dockerIgnore reads a .dockerignore into a matcher of repository paths. It knows the
// forms the file uses: a path (and what is under it), **/name (any path element) and a
// glob on the base name (**/*.prof).
func dockerIgnore(t *testing.T, file string) func(string) bool {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var patterns []string
	for _, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimSpace(l); l != "" && l[0] != '#' {
			if l[0] == '!' {
				t.Fatalf("%s: exceptions (%s) are not read by this test", file, l)
			}
			patterns = append(patterns, l)
		}
	}
	return func(p string) bool {
		elems := strings.Split(p, "/")
		for _, pat := range patterns {
			if name, ok := strings.CutPrefix(pat, "**/"); ok {
				for _, e := range elems {
					if m, _ := path.Match(name, e); m {
						return true
					}
				}
				continue
			}
			for i := range elems {
				if m, _ := path.Match(pat, strings.Join(elems[:i+1], "/")); m {
					return true
				}
			}
		}
		return false
	}
}
