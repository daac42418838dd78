package main

import (
	"bytes"
	"flag"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite deploy/riptide.example.* and the table in docs/configuration.md")

// env is a fake environment for load.
func env(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

func writeFile(t *testing.T, name, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// Flags beat the environment, which beats the file, which beats the defaults; each key
// on its own.
func TestPrecedence(t *testing.T) {
	files := map[string]string{
		"riptide.yaml": `
listen:
  path: /file/
  cors_origins: ["https://file.example"]
engine:
  ping_interval: 11s
  ping_timeout: 12s
  upgrade_timeout: 13s
redis:
  key: file
`,
		"riptide.toml": `
[listen]
path = "/file/"
cors_origins = ["https://file.example"]

[engine]
ping_interval = "11s"
ping_timeout = "12s"
upgrade_timeout = "13s"

[redis]
key = "file"
`,
	}
	for name, text := range files {
		t.Run(name, func(t *testing.T) {
			path := writeFile(t, name, text)
			getenv := env(
				"RIPTIDE_CONFIG", path, // the file comes from the environment too
				"RIPTIDE_ENGINE_PING_TIMEOUT", "22s",
				"RIPTIDE_ENGINE_UPGRADE_TIMEOUT", "23s",
				"RIPTIDE_LISTEN_CORS_ORIGINS", "https://env.example, https://env2.example",
			)
			c, err := load([]string{"--upgrade-timeout", "33s", "--redis-sharded"}, getenv, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			want := defaults()
			want.Listen.Path = "/file/"
			want.Listen.CORSOrigins = []string{"https://env.example", "https://env2.example"}
			want.Engine.PingInterval = 11 * time.Second   // file
			want.Engine.PingTimeout = 22 * time.Second    // env over file
			want.Engine.UpgradeTimeout = 33 * time.Second // flag over env over file
			want.Redis.Key = "file"
			want.Redis.Sharded = true
			if !reflect.DeepEqual(c, want) {
				t.Fatalf("got  %+v\nwant %+v", c, want)
			}
		})
	}
}

// Today's flags and RIPTIDE_REDIS_URL keep working, and --config beats RIPTIDE_CONFIG.
func TestLegacyNames(t *testing.T) {
	file := writeFile(t, "a.yaml", "log:\n  level: debug\n")
	args := []string{"--config", file, "--addr", "127.0.0.1:9", "--path", "/x/", "--ping-interval", "1s",
		"--ping-timeout", "2s", "--upgrade-timeout", "3s", "--max-http-buffer-size", "100", "--cors-origin", "*",
		"--event-loops", "2", "--auth-token", "t", "--connect-timeout", "4s", "--redis-key", "k",
		"--redis-sharded=true", "--gc-percent", "70", "--pprof", "127.0.0.1:6060"}
	c, err := load(args, env("RIPTIDE_REDIS_URL", "redis://127.0.0.1:6379", "RIPTIDE_CONFIG", "/nonexistent.yaml"), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want := defaults()
	want.Listen = ListenConfig{Addr: "127.0.0.1:9", Path: "/x/", CORSOrigins: []string{"*"}, EventLoops: 2,
		HeaderTimeout: 60 * time.Second, BodyTimeout: 300 * time.Second, IdleTimeout: 5 * time.Second}
	want.Engine.PingInterval, want.Engine.PingTimeout, want.Engine.UpgradeTimeout = time.Second, 2*time.Second, 3*time.Second
	want.Engine.ConnectTimeout = 4 * time.Second
	want.Limits.MaxHTTPBufferSize = 100
	want.Auth.Token = "t"
	want.Redis = RedisConfig{URL: "redis://127.0.0.1:6379", Key: "k", Sharded: true}
	want.Log.Level = "debug"
	want.Debug = DebugConfig{GCPercent: 70, PprofAddr: "127.0.0.1:6060"}
	if !reflect.DeepEqual(c, want) {
		t.Fatalf("got  %+v\nwant %+v", c, want)
	}
}

// Every mistake is reported, each naming its key and where it was made (file line, variable
// or flag), not just the first.
func TestErrors(t *testing.T) {
	cases := []struct {
		name, file string
		getenv     func(string) string
		args       []string
		want       []string
	}{
		{name: "yaml", file: "riptide.yaml", getenv: env(), want: []string{
			`config FILE line 3: unknown key "listen.adress"`,
			`config FILE line 7: engine.ping_interval: "25" is not a duration (e.g. "25s")`,
			`config FILE line 8: engine.ping_timeout: "25" is not a duration (e.g. "25s")`,
			`config FILE line 10: limits.max_pending_events: "many" is not an integer`,
			`config FILE line 13: redis.sharded: "yes" is not a boolean (true or false)`,
			`config FILE line 14: unknown key "redis.password"`,
			`config FILE line 15: unknown key "bogus"`,
			`limits.conn_write_hard_limit (config FILE line 12): 1000 is less than limits.conn_write_soft_limit (2000)`,
		}},
		{name: "toml", file: "riptide.toml", getenv: env(), want: []string{
			`config FILE line 3: unknown key "listen.adress"`,
			`config FILE line 7: engine.ping_interval: "25" is not a duration (e.g. "25s")`,
			`config FILE line 8: engine.ping_timeout: "25" is not a duration (e.g. "25s")`,
			`config FILE line 11: limits.max_pending_events: "many" is not an integer`,
			`config FILE line 16: redis.sharded: "yes" is not a boolean (true or false)`,
			`config FILE line 17: unknown key "redis.password"`,
			`config FILE line 19: unknown section "bogus"`,
			`config FILE line 20: unknown key "bogus.x"`,
			`limits.conn_write_hard_limit (config FILE line 13): 1000 is less than limits.conn_write_soft_limit (2000)`,
		}},
		{name: "env and flags", getenv: env("RIPTIDE_ENGINE_PING_TIMEOUT", "abc", "RIPTIDE_LOG_LEVEL", "loud",
			"RIPTIDE_LIMITS_SESSION_WRITE_SOFT_LIMIT", "16"),
			args: []string{"--ping-interval", "3", "--redis-sharded=maybe", "--addr", "localhost", "--redis", "http://u:secret@x",
				"--cors-origin", "https://ok.example,app.example", "--session-write-hard-limit", "15", "--header-timeout", "0s",
				"--max-disconnection-duration", "500ms"},
			want: []string{
				`env RIPTIDE_ENGINE_PING_TIMEOUT: "abc" is not a duration (e.g. "25s")`,
				`flag --ping-interval: "3" is not a duration (e.g. "25s")`,
				`flag --redis-sharded: "maybe" is not a boolean (true or false)`,
				`listen.addr (flag --addr): "localhost" is not host:port (e.g. ":3000", "127.0.0.1:3000")`,
				`listen.cors_origins (flag --cors-origin): "app.example" is not an origin (scheme://host[:port], e.g. https://app.example.com) or *`,
				`listen.header_timeout (flag --header-timeout): must be more than 0, not 0s`,
				`limits.session_write_hard_limit (flag --session-write-hard-limit): 15 is less than limits.session_write_soft_limit (16)`,
				`redis.url (flag --redis): scheme "http" is not redis, rediss or unix`,
				`recovery.max_disconnection_duration (flag --max-disconnection-duration): must be at least 1s, not 500ms`,
				`log.level (env RIPTIDE_LOG_LEVEL): "loud" is not debug, info, warn or error`,
			}},
		{name: "drain", getenv: env(), args: []string{"--drain-delay", "-1s", "--drain-rate", "-5"}, want: []string{
			`drain.delay (flag --drain-delay): must be 0s (refuse at once) or more, not -1s`,
			`drain.rate (flag --drain-rate): must be 0 (all at once) or a positive number, not -5`,
		}},
		{name: "drain timeout", getenv: env("RIPTIDE_DRAIN_DELAY", "30s"), args: []string{"--drain-rate", "inf"}, want: []string{
			`drain.rate (flag --drain-rate): must be 0 (all at once) or a positive number, not +Inf`,
			`drain.timeout: 30s leaves no time after drain.delay (30s) to close the connections`,
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			args := tc.args
			var path string
			if tc.file != "" {
				path = writeFile(t, tc.file, badFiles[tc.file])
				args = append([]string{"--config", path}, args...)
			}
			_, err := load(args, tc.getenv, io.Discard)
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			if path != "" {
				msg = strings.ReplaceAll(msg, path, "FILE")
			}
			got := strings.Split(msg, "\n")
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
			if strings.Contains(err.Error(), "secret") {
				t.Fatalf("an error repeats the Redis password: %v", err)
			}
		})
	}
}

var badFiles = map[string]string{
	"riptide.yaml": `# line 1
listen:
  adress: ":3000"
  addr: "127.0.0.1:0"
engine:
  # a bare number is no duration, quoted or not
  ping_interval: "25"
  ping_timeout: 25
limits:
  max_pending_events: many
  conn_write_soft_limit: 2000
  conn_write_hard_limit: 1000
redis: {sharded: yes,
  password: x}
bogus: 1
`,
	"riptide.toml": `# line 1
[listen]
adress = ":3000"
addr = "127.0.0.1:0"

[engine]
ping_interval = "25"
ping_timeout = 25

[limits]
max_pending_events = "many"
conn_write_soft_limit = 2_000
conn_write_hard_limit = 1000

[redis]
sharded = "yes"
password = "x"

[bogus]
x = 1
`,
}

// Syntax errors, duplicates and unreadable files say where.
func TestFileErrors(t *testing.T) {
	cases := []struct{ name, text, want string }{
		{"a.yaml", "listen:\n  addr: [\n", `config FILE line 2: did not find expected node content`},
		{"a.yml", "listen:\n  addr: \":1\"\n  addr: \":2\"\n", `config FILE line 3: "listen.addr" is already set on line 2`},
		{"a.yaml", "- listen\n", `config FILE line 1: the top level must be a mapping of sections (listen:, engine:, ...)`},
		{"a.yaml", "listen: 3\n", `config FILE line 1: listen: a section must be a mapping of keys`},
		{"a.yaml", "listen:\n  cors_origins: [[\"x\"]]\n", `config FILE line 2: listen.cors_origins: each item must be one string without commas`},
		{"a.yaml", "engine:\n  ping_interval: [1]\n", `config FILE line 2: engine.ping_interval: want a duration`},
		{"a.toml", "[listen]\naddr = \n", `config FILE line 2: unexpected character U+000A at start of value`},
		{"a.toml", "[listen]\naddr = \"a:1\"\naddr = \"b:1\"\n", `config FILE line 3: key addr is already defined`},
		{"a.toml", "[[listen]]\naddr = \"a:1\"\n", `config FILE line 1: listen: arrays of tables are only used for lists of rules`},
		{"a.toml", "engine = {ping_interval = \"1x\"}\n", `config FILE line 1: engine.ping_interval: "1x" is not a duration (e.g. "25s")`},
		{"a.json", "{}", `config FILE: unknown format ".json": use .yaml, .yml or .toml`},
		// Lists of rules: a bad entry is named by its line (YAML, TOML arrays of tables).
		{"a.yaml", "policy:\n  rooms:\n    - {pattern: \"a:*\"}\n    - pattern: \"b:*\"\n      mx_members: 3\n", `config FILE line 4: policy.rooms: unknown key "mx_members"`},
		{"a.yaml", "policy:\n  rooms:\n    - \"chat:*\"\n", `config FILE line 3: policy.rooms: each entry must be a mapping of keys`},
		{"a.yaml", "policy:\n  events:\n    - {name: x, rate: fast}\n", `config FILE line 3: policy.events: key "rate": want a number, not a string`},
		{"a.toml", "[[policy.rooms]]\npattern = \"a:*\"\n\n[[policy.rooms]]\npattern = \"b:*\"\njoin_mode = \"x\"\n", `config FILE line 4: policy.rooms: unknown key "join_mode"`},
		{"a.toml", "[policy]\nrooms = [{pattern = \"a:*\", presense = true}]\n", `config FILE line 2: policy.rooms: unknown key "presense"`},
		{"a.yaml", "policy:\n  rooms:\n    - {pattern: \"a:*\", join: everyone}\n", `policy.rooms (config FILE line 2): entry [0]: join "everyone": want anyone, authenticated, match, granted, server or proxy`},
		{"a.yaml", "policy:\n  events:\n    - {name: x, action: publish}\n", `policy.events (config FILE line 2): entry [0] (x): a declared publish needs room_field (the member of its object argument naming the room)`},
	}
	for _, tc := range cases {
		path := writeFile(t, tc.name, tc.text)
		_, err := load([]string{"--config", path}, env(), io.Discard)
		if err == nil || strings.ReplaceAll(err.Error(), path, "FILE") != tc.want {
			t.Errorf("%q: got %v, want %s", tc.text, err, tc.want)
		}
	}
	_, err := load([]string{"--config", "/nonexistent/riptide.yaml"}, env(), io.Discard)
	if err == nil || err.Error() != "config: open /nonexistent/riptide.yaml: no such file or directory" {
		t.Errorf("missing file: %v", err)
	}
	// An empty file is all defaults.
	c, err := load([]string{"--config", writeFile(t, "empty.yaml", "# nothing\n")}, env(), io.Discard)
	if err != nil || !reflect.DeepEqual(c, defaults()) {
		t.Errorf("empty file: %v %+v", err, c)
	}
}

// The declarations are consistent: unique keys, flags and variables, every key in a
// section, every default valid.
func TestDeclarations(t *testing.T) {
	seen := map[string]string{}
	for _, o := range defaults().options() {
		for _, name := range []string{"key " + o.key, "flag " + o.flagName(), "env " + o.envName()} {
			if other, dup := seen[name]; dup {
				t.Errorf("%s declared by %s and %s", name, other, o.key)
			}
			seen[name] = o.key
		}
		if len(inSectionOf(o)) == 0 {
			t.Errorf("%s is in no section", o.key)
		}
		if o.help == "" {
			t.Errorf("%s has no help", o.key)
		}
	}
	if ps := validate(defaults()); len(ps) > 0 {
		t.Errorf("defaults do not validate: %v", ps)
	}
}

func inSectionOf(o *option) []section {
	var out []section
	for _, s := range sections {
		if strings.HasPrefix(o.key, s.name+".") {
			out = append(out, s)
		}
	}
	return out
}

// `riptide config` output is itself a valid config file that gives back the same values.
func TestConfigOutputLoadsBack(t *testing.T) {
	args := []string{"--addr", "127.0.0.1:7000", "--cors-origin", "https://a.example,*", "--ping-interval", "90s",
		"--conn-write-hard-limit", "33554432", "--conn-stall-timeout", "2h", "--body-timeout", "1500ms", "--redis-sharded", "--log-level", "warn", "--path", "/rt/"}
	c, err := load(args, env(), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	writeYAML(&out, c.options(), false)
	back, err := load([]string{"--config", writeFile(t, "back.yaml", out.String())}, env(), io.Discard)
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if !reflect.DeepEqual(back, c) {
		t.Fatalf("loaded back %+v\nwant %+v", back, c)
	}
}

func TestRedaction(t *testing.T) {
	c, err := load([]string{"--auth-token", "s3cret", "--redis", "rediss://app:pa%40ss@10.0.0.5:6380/2"}, env(), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	writeYAML(&out, c.options(), false)
	for _, want := range []string{`  token: "***"`, `  url: "rediss://app:***@10.0.0.5:6380/2"`} {
		if !strings.Contains(out.String(), want+"\n") {
			t.Errorf("missing %s in\n%s", want, out.String())
		}
	}
	if s := out.String(); strings.Contains(s, "s3cret") || strings.Contains(s, "pa%40ss") || strings.Contains(s, "pa@ss") {
		t.Fatalf("a secret leaked:\n%s", s)
	}
	if got := redactURL("redis://10.0.0.5:6379"); got != "redis://10.0.0.5:6379" {
		t.Errorf("a URL without password: %q", got)
	}
	if got := redactURL("redis://:pw@h:1"); got != "redis://:***@h:1" {
		t.Errorf("password without user: %q", got)
	}
	if got := redactURL("redis://u:p w@h:1\x7f"); got != "***" {
		t.Errorf("unparsable URL: %q", got)
	}
}

// The example files in deploy/ and the table in docs/configuration.md are the printers'
// output (rewrite them with -update), and the examples load back to exactly the defaults.
func TestGeneratedFiles(t *testing.T) {
	opts := defaults().options()
	var y, tm bytes.Buffer
	writeYAML(&y, opts, true)
	writeTOML(&tm, opts)
	for _, f := range []struct{ path, want string }{
		{"../../deploy/riptide.example.yaml", y.String()},
		{"../../deploy/riptide.example.toml", tm.String()},
	} {
		checkGenerated(t, f.path, f.want)
		c, err := load([]string{"--config", f.path}, env(), io.Discard)
		if err != nil {
			t.Fatalf("%s: %v", f.path, err)
		}
		if !reflect.DeepEqual(c, defaults()) {
			t.Fatalf("%s loads as %+v, not the defaults", f.path, c)
		}
	}

	const doc, begin, end = "../../docs/configuration.md", "<!-- options:begin -->\n", "<!-- options:end -->"
	b, err := os.ReadFile(doc)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	i, j := strings.Index(s, begin), strings.Index(s, end)
	if i < 0 || j < i {
		t.Fatalf("%s lacks the %q and %q markers", doc, begin, end)
	}
	checkGenerated(t, doc, s[:i+len(begin)]+markdownTable(opts)+s[j:])
}

func checkGenerated(t *testing.T, path, want string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Errorf("%s is out of date with the declarations in config.go: go test ./cmd/riptide -run TestGeneratedFiles -update", path)
	}
}
