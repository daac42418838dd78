package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/pelletier/go-toml/v2"
	"github.com/pelletier/go-toml/v2/unstable"
	"gopkg.in/yaml.v3"
)

// configEnv names the config file when --config is not given.
const configEnv = "RIPTIDE_CONFIG"

// loader merges the sources into one Config and remembers where each value came from, so
// that a validation error can say which line, variable or flag to fix.
type loader struct {
	cfg    *Config
	opts   []*option
	byKey  map[string]*option
	origin map[string]string // key -> "config FILE line N", "env NAME", "flag --NAME"
	errs   []error

	tomlJSON map[string]*tomlList // lists of rules in a TOML file
}

func newLoader() *loader {
	c := defaults()
	ld := &loader{cfg: c, opts: c.options(), byKey: map[string]*option{}, origin: map[string]string{}}
	for _, o := range ld.opts {
		ld.byKey[o.key] = o
	}
	return ld
}

// flagArg is a flag as given; flags are applied last, after the file and the environment.
type flagArg struct {
	o   *option
	raw string
}

// flagValue collects a flag's text; parsing happens in apply so that a bad value is one
// error among the others rather than the end of flag parsing.
type flagValue struct {
	o    *option
	args *[]flagArg
}

func (f flagValue) Set(s string) error { *f.args = append(*f.args, flagArg{f.o, s}); return nil }
func (f flagValue) String() string     { return "" }
func (f flagValue) IsBoolFlag() bool   { _, ok := f.o.val.(*boolVal); return ok }

// load builds the configuration from the defaults, the file (--config or $RIPTIDE_CONFIG),
// the environment and the flags in args, in rising precedence, and validates it. An error
// joins every problem found, one per line, each naming its key and source. A parse failure
// of args itself (unknown flag, --help) is returned alone, after the flag package has
// printed it and the usage to stderr.
func load(args []string, getenv func(string) string, stderr io.Writer) (*Config, error) {
	ld := newLoader()
	var flags []flagArg
	var file string
	fs := flag.NewFlagSet("riptide", flag.ContinueOnError)
	// The flag package would print the whole usage after every mistake; cli prints the
	// error alone and --help prints the usage.
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	fs.StringVar(&file, "config", "", "")
	for _, o := range ld.opts {
		fs.Var(flagValue{o, &flags}, o.flagName(), "")
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			usage(stderr, ld.opts)
		} else {
			err = fmt.Errorf("%w (riptide --help lists the options)", err)
		}
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q (options are flags, e.g. --addr :3000)", fs.Arg(0))
	}
	if file == "" {
		file = getenv(configEnv)
	}
	if file != "" {
		ld.loadFile(file)
	}
	for _, o := range ld.opts {
		// An empty variable counts as unset, as with most tools: `RIPTIDE_X= riptide`
		// then means the default, not an empty value that may not parse.
		if s := getenv(o.envName()); s != "" {
			ld.set(o, s, "env "+o.envName())
		}
	}
	for _, f := range flags {
		ld.set(f.o, f.raw, "flag --"+f.o.flagName())
	}
	for _, p := range validate(ld.cfg) {
		where := ""
		if src, ok := ld.origin[p.key]; ok {
			where = " (" + src + ")"
		}
		ld.errs = append(ld.errs, fmt.Errorf("%s%s: %s", p.key, where, p.msg))
	}
	return ld.cfg, errors.Join(ld.errs...)
}

// set parses s into o, recording the source or an error that names it.
func (ld *loader) set(o *option, s, src string) {
	if err := o.val.set(s); err != nil {
		if strings.HasPrefix(src, "config ") {
			ld.errs = append(ld.errs, fmt.Errorf("%s: %s: %w", src, o.key, err))
		} else {
			ld.errs = append(ld.errs, fmt.Errorf("%s: %w", src, err))
		}
		return
	}
	ld.origin[o.key] = src
}

func (ld *loader) fail(format string, args ...any) {
	ld.errs = append(ld.errs, fmt.Errorf(format, args...))
}

// loadFile reads a YAML (.yaml, .yml) or TOML (.toml) file. Both are walked as syntax
// trees against the declarations rather than decoded into tagged structs: the walk names
// the full dotted key of an unknown or bad entry and its line, and reports all of them,
// where a struct decoder names a Go type and stops at the first.
func (ld *loader) loadFile(path string) {
	data, err := os.ReadFile(path)
	if err != nil {
		ld.fail("config: %v", err)
		return
	}
	name := "config " + path
	switch strings.ToLower(filepath.Ext(path)) {
	case ".yaml", ".yml":
		ld.loadYAML(name, data)
	case ".toml":
		ld.loadTOML(name, data)
	default:
		ld.fail("%s: unknown format %q: use .yaml, .yml or .toml", name, filepath.Ext(path))
	}
}

// isSection reports whether key is a section of the file (a prefix of declared keys).
func (ld *loader) isSection(key string) bool {
	for _, o := range ld.opts {
		if strings.HasPrefix(o.key, key+".") {
			return true
		}
	}
	return false
}

func (ld *loader) loadYAML(name string, data []byte) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		if strings.HasPrefix(msg, "line ") { // "line 3: did not find expected key"
			ld.fail("%s %s", name, msg)
		} else {
			ld.fail("%s: %s", name, msg)
		}
		return
	}
	if len(doc.Content) == 0 { // an empty file: all defaults
		return
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		ld.fail("%s line %d: the top level must be a mapping of sections (listen:, engine:, ...)", name, root.Line)
		return
	}
	ld.walkYAML(name, "", root, map[string]int{})
}

func (ld *loader) walkYAML(name, prefix string, m *yaml.Node, seen map[string]int) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		if v.Kind == yaml.AliasNode {
			v = v.Alias
		}
		key := prefix + k.Value
		at := fmt.Sprintf("%s line %d", name, k.Line)
		if line, dup := seen[key]; dup {
			ld.fail("%s: %q is already set on line %d", at, key, line)
			continue
		}
		seen[key] = k.Line
		o := ld.byKey[key]
		switch {
		case o == nil && v.Kind == yaml.MappingNode && ld.isSection(key):
			ld.walkYAML(name, key+".", v, seen)
		case o == nil && ld.isSection(key):
			ld.fail("%s: %s: a section must be a mapping of keys", at, key)
		case o == nil:
			ld.fail("%s: unknown key %q", at, key)
		case v.Kind == yaml.ScalarNode:
			ld.set(o, yamlText(v), at)
		case v.Kind == yaml.SequenceNode && isList(o):
			ld.setList(name, o, v, at)
		case v.Kind == yaml.SequenceNode && isJSON(o):
			ld.setJSONYAML(name, o, v, at)
		default:
			ld.fail("%s: %s: want a %s", at, key, o.val.kind())
		}
	}
}

// yamlText is a scalar's text; null (an empty value) is the empty string.
func yamlText(v *yaml.Node) string {
	if v.Tag == "!!null" {
		return ""
	}
	return v.Value
}

func isList(o *option) bool { _, ok := o.val.(*listVal); return ok }

// tomlList is where a list of rules is in a TOML file: the line of its key or first table,
// and each entry's line when it is an array of tables.
type tomlList struct {
	at    int
	lines []int
}

// jsonList is a value holding a list of objects (jsonVal).
type jsonList interface {
	value
	checkItem(b []byte) error
}

func isJSON(o *option) bool { _, ok := o.val.(jsonList); return ok }

// setJSONYAML sets a list of objects from a YAML sequence of mappings; a bad entry is
// reported with its line.
func (ld *loader) setJSONYAML(name string, o *option, seq *yaml.Node, at string) {
	items := make([]any, 0, len(seq.Content))
	ok := true
	for _, it := range seq.Content {
		var x any
		if it.Kind != yaml.MappingNode || it.Decode(&x) != nil {
			ld.fail("%s line %d: %s: each entry must be a mapping of keys", name, it.Line, o.key)
			ok = false
			continue
		}
		b, err := json.Marshal(x)
		if err == nil {
			err = o.val.(jsonList).checkItem(b)
		}
		if err != nil {
			ld.fail("%s line %d: %s: %v", name, it.Line, o.key, err)
			ok = false
			continue
		}
		items = append(items, x)
	}
	if ok {
		b, _ := json.Marshal(items)
		ld.set(o, string(b), at)
	}
}

// setJSONTOML sets the lists of objects of a TOML file (arrays of tables or inline arrays)
// from its decoded form; lines has each entry's line when known.
func (ld *loader) setJSONTOML(name string, m map[string]any, o *option, lines []int, at string) {
	var v any = m
	for _, part := range strings.Split(o.key, ".") {
		t, _ := v.(map[string]any)
		v = t[part]
	}
	list, isList := v.([]any)
	if !isList {
		ld.fail("%s: %s: want a list of tables", at, o.key)
		return
	}
	ok := true
	for i, it := range list {
		where := at
		if i < len(lines) {
			where = fmt.Sprintf("%s line %d", name, lines[i])
		}
		b, err := json.Marshal(it)
		if _, isTable := it.(map[string]any); !isTable {
			err = fmt.Errorf("each entry must be a table")
		} else if err == nil {
			err = o.val.(jsonList).checkItem(b)
		}
		if err != nil {
			ld.fail("%s: %s: %v", where, o.key, err)
			ok = false
		}
	}
	if ok {
		b, _ := json.Marshal(list)
		ld.set(o, string(b), at)
	}
}

func (ld *loader) setList(name string, o *option, seq *yaml.Node, at string) {
	var items []string
	for _, it := range seq.Content {
		if it.Kind != yaml.ScalarNode || strings.Contains(it.Value, ",") {
			ld.fail("%s line %d: %s: each item must be one string without commas", name, it.Line, o.key)
			return
		}
		items = append(items, it.Value)
	}
	ld.set(o, strings.Join(items, ","), at)
}

func (ld *loader) loadTOML(name string, data []byte) {
	// The decoder checks what the syntax walk below does not: duplicate keys, tables
	// defined twice. Its errors carry the position.
	var m map[string]any
	if err := toml.Unmarshal(data, &m); err != nil {
		var de *toml.DecodeError
		if errors.As(err, &de) {
			row, _ := de.Position()
			ld.fail("%s line %d: %s", name, row, strings.TrimPrefix(de.Error(), "toml: "))
		} else {
			ld.fail("%s: %v", name, err)
		}
		return
	}
	p := unstable.Parser{}
	p.Reset(data)
	ld.tomlJSON = map[string]*tomlList{}
	prefix, skip := "", false // skip: inside an array of tables (checked from the decoded form)
	for p.NextExpression() {
		e := p.Expression()
		switch e.Kind {
		case unstable.Table:
			key, line := tomlKey(&p, e.Key())
			prefix, skip = key+".", false
			if !ld.isSection(key) {
				ld.fail("%s line %d: unknown section %q", name, line, key)
			}
		case unstable.ArrayTable:
			key, line := tomlKey(&p, e.Key())
			prefix, skip = key+".", true
			if o := ld.byKey[key]; o != nil && isJSON(o) {
				if ld.tomlJSON[key] == nil {
					ld.tomlJSON[key] = &tomlList{at: line}
				}
				ld.tomlJSON[key].lines = append(ld.tomlJSON[key].lines, line)
			} else {
				ld.fail("%s line %d: %s: arrays of tables are only used for lists of rules", name, line, key)
			}
		case unstable.KeyValue:
			if !skip {
				ld.tomlKeyValue(name, &p, prefix, e)
			}
		}
	}
	for key, l := range ld.tomlJSON {
		ld.setJSONTOML(name, m, ld.byKey[key], l.lines, fmt.Sprintf("%s line %d", name, l.at))
	}
}

func (ld *loader) tomlKeyValue(name string, p *unstable.Parser, prefix string, e *unstable.Node) {
	k, line := tomlKey(p, e.Key())
	key := prefix + k
	at := fmt.Sprintf("%s line %d", name, line)
	v := e.Value()
	o := ld.byKey[key]
	switch {
	case o == nil && v.Kind == unstable.InlineTable && ld.isSection(key):
		it := v.Children()
		for it.Next() {
			ld.tomlKeyValue(name, p, key+".", it.Node())
		}
	case o == nil:
		ld.fail("%s: unknown key %q", at, key)
	case isJSON(o):
		ld.tomlJSON[key] = &tomlList{at: line} // an inline array: read from the decoded form
	case v.Kind == unstable.Array && isList(o):
		var items []string
		it := v.Children()
		for it.Next() {
			if n := it.Node(); n.Kind == unstable.String && !strings.Contains(string(n.Data), ",") {
				items = append(items, string(n.Data))
			} else if n.Kind != unstable.Comment {
				ld.fail("%s: %s: each item must be one string without commas", at, key)
				return
			}
		}
		ld.set(o, strings.Join(items, ","), at)
	case v.Kind == unstable.String || v.Kind == unstable.Integer || v.Kind == unstable.Bool || v.Kind == unstable.Float:
		ld.set(o, string(v.Data), at)
	default:
		ld.fail("%s: %s: want a %s", at, key, o.val.kind())
	}
}

// tomlKey joins a dotted key and finds the line it starts on.
func tomlKey(p *unstable.Parser, it unstable.Iterator) (string, int) {
	var parts []string
	line := 0
	for it.Next() {
		n := it.Node()
		if line == 0 {
			line = p.Shape(n.Raw).Start.Line
		}
		parts = append(parts, string(n.Data))
	}
	return strings.Join(parts, "."), line
}
