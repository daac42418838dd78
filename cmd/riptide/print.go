package main

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// The printers below render the declarations: --help, `riptide config`, the example files
// in deploy/ and the table in docs/configuration.md. Tests compare the committed files with
// their output, so none of them can drift from options.

// inSection returns the options of section s, in declaration order.
func inSection(opts []*option, s string) []*option {
	var out []*option
	for _, o := range opts {
		if strings.HasPrefix(o.key, s+".") {
			out = append(out, o)
		}
	}
	return out
}

func (o *option) name() string { return o.key[strings.IndexByte(o.key, '.')+1:] }

// yamlValue renders a value (its text in flag syntax) as a YAML scalar or flow sequence;
// the encoder quotes what would otherwise read back as another type.
func yamlValue(o *option, text string) string {
	var n *yaml.Node
	switch o.val.(type) {
	case jsonList:
		return text // JSON is YAML's flow style: a list of mappings
	case *listVal:
		var l listVal
		_ = l.set(text)
		n = &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
		for _, s := range l {
			n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s, Style: yaml.DoubleQuotedStyle})
		}
	case *intVal:
		n = &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: text}
	case *floatVal:
		tag := "!!int"
		if strings.ContainsAny(text, ".eE") {
			tag = "!!float"
		}
		n = &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: text}
	case *boolVal:
		n = &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: text}
	default: // strings and durations, always quoted: ":3000" and "25s" read as text at a glance
		n = &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: text, Style: yaml.DoubleQuotedStyle}
	}
	b, err := yaml.Marshal(n)
	if err != nil {
		panic(err) // scalars and flat sequences always encode
	}
	return strings.TrimSuffix(string(b), "\n")
}

// tomlValue renders a value as TOML. Strings use Go quoting, which agrees with TOML's basic
// strings for the printable text configuration holds.
func tomlValue(o *option, text string) string {
	switch o.val.(type) {
	case jsonList:
		return tomlInline(text)
	case *listVal:
		var l listVal
		_ = l.set(text)
		q := make([]string, len(l))
		for i, s := range l {
			q[i] = strconv.Quote(s)
		}
		return "[" + strings.Join(q, ", ") + "]"
	case *intVal, *boolVal, *floatVal:
		return text
	default:
		return strconv.Quote(text)
	}
}

// tomlInline renders a JSON list of flat objects as a TOML array of inline tables, keys in
// order.
func tomlInline(text string) string {
	var items []map[string]any
	_ = json.Unmarshal([]byte(text), &items)
	var b strings.Builder
	b.WriteString("[")
	for i, it := range items {
		if i > 0 {
			b.WriteString(", ")
		}
		keys := make([]string, 0, len(it))
		for k := range it {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b.WriteString("{")
		for j, k := range keys {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString(k + " = ")
			switch v := it[k].(type) {
			case string:
				b.WriteString(strconv.Quote(v))
			case float64:
				b.WriteString(strconv.FormatFloat(v, 'g', -1, 64))
			case bool:
				b.WriteString(strconv.FormatBool(v))
			}
		}
		b.WriteString("}")
	}
	b.WriteString("]")
	return b.String()
}

// wrap writes text in lines of at most about 92 columns, each starting with prefix.
func wrap(w io.Writer, prefix, text string) {
	line := prefix
	for _, word := range strings.Fields(text) {
		if len(line)+len(word) > 92 && len(line) > len(prefix) {
			fmt.Fprintln(w, strings.TrimRight(line, " "))
			line = prefix
		}
		line += word + " "
	}
	fmt.Fprintln(w, strings.TrimRight(line, " "))
}

func (o *option) where() string {
	return fmt.Sprintf("env %s, flag --%s", o.envName(), o.flagName())
}

// writeYAML prints the configuration of opts as YAML: bare for `riptide config` (secrets
// redacted), annotated with every option's help, variable and flag for the example file.
func writeYAML(w io.Writer, opts []*option, annotated bool) {
	if annotated {
		fmt.Fprint(w, exampleHeader("yaml"))
	}
	for i, s := range sections {
		if i > 0 {
			fmt.Fprintln(w)
		}
		if annotated {
			wrap(w, "# ", s.help)
		}
		fmt.Fprintf(w, "%s:\n", s.name)
		for j, o := range inSection(opts, s.name) {
			if annotated {
				if j > 0 {
					fmt.Fprintln(w)
				}
				wrap(w, "  # ", o.help)
				fmt.Fprintf(w, "  # %s\n", o.where())
			}
			fmt.Fprintf(w, "  %s: %s\n", o.name(), yamlValue(o, o.shown()))
		}
	}
}

// writeTOML prints the annotated example in TOML.
func writeTOML(w io.Writer, opts []*option) {
	fmt.Fprint(w, exampleHeader("toml"))
	for i, s := range sections {
		if i > 0 {
			fmt.Fprintln(w)
		}
		wrap(w, "# ", s.help)
		fmt.Fprintf(w, "[%s]\n", s.name)
		for j, o := range inSection(opts, s.name) {
			if j > 0 {
				fmt.Fprintln(w)
			}
			wrap(w, "# ", o.help)
			fmt.Fprintf(w, "# %s\n", o.where())
			fmt.Fprintf(w, "%s = %s\n", o.name(), tomlValue(o, o.shown()))
		}
	}
}

func exampleHeader(format string) string {
	return `# riptide configuration: every option with its default.
#   riptide --config riptide.` + format + `            serve with it
#   riptide validate --config riptide.` + format + `   check it (exit 2 and every error)
#   riptide config --config riptide.` + format + `     print the effective values
# Flags beat environment variables, which beat this file. Durations are Go duration
# strings ("25s", "1m30s"); sizes are integers, in bytes. Keep only the keys you change.
# Generated from the declarations in cmd/riptide/config.go (go test ./cmd/riptide -update).

`
}

// markdownTable is the options table of docs/configuration.md.
func markdownTable(opts []*option) string {
	var b strings.Builder
	b.WriteString("| Key | Flag | Environment variable | Default | Meaning |\n|---|---|---|---|---|\n")
	for _, o := range opts {
		fmt.Fprintf(&b, "| `%s` | `--%s` | `%s` | `%s` | %s |\n",
			o.key, o.flagName(), o.envName(), yamlValue(o, o.def), strings.ReplaceAll(o.help, "|", `\|`))
	}
	return b.String()
}

// usage is --help: the commands, then every option with its key, variable and default.
func usage(w io.Writer, opts []*option) {
	fmt.Fprint(w, `Usage: riptide [validate | config] [--config FILE] [flags]

  riptide            serve (no file and no flags: open relay on :3000)
  riptide validate   check the configuration: print "ok", or every error and exit 2
  riptide config     print the effective configuration as YAML, secrets redacted

Every option is a key of the config file (YAML or TOML, by extension), a flag and a
RIPTIDE_* environment variable. Flags beat the environment, which beats the file.
Durations: "25s", "1m30s"; sizes: bytes. See docs/configuration.md.

  --config FILE
        YAML (.yaml, .yml) or TOML (.toml) config file (env RIPTIDE_CONFIG)
`)
	for _, s := range sections {
		fmt.Fprintln(w)
		wrap(w, "", s.name+": "+s.help)
		for _, o := range inSection(opts, s.name) {
			fmt.Fprintf(w, "  --%s %s   (%s, env %s, default %s)\n", o.flagName(), o.val.kind(), o.key, o.envName(), yamlValue(o, o.def))
			wrap(w, "        ", o.help)
		}
	}
}
