package main

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// promRefs is what a PromQL expression refers to: its vector selectors and the label names
// of its grouping clauses (by, without, on, ignoring, group_left, group_right).
type promRefs struct {
	selectors []promSelector
	grouping  []string
}

type promSelector struct {
	metric   string
	matchers []promMatcher
}

type promMatcher struct{ label, op, value string }

// promFunctions are PromQL's functions and aggregation operators: a word followed by "(".
var promFunctions = wordSet(`abs absent absent_over_time avg_over_time ceil changes clamp
	clamp_max clamp_min count_over_time day_of_month day_of_week day_of_year days_in_month delta
	deriv exp floor histogram_count histogram_fraction histogram_quantile histogram_sum
	holt_winters hour idelta increase irate label_join label_replace last_over_time ln log10
	log2 max_over_time min_over_time minute month predict_linear present_over_time
	quantile_over_time rate resets round scalar sgn sort sort_desc sqrt stddev_over_time
	stdvar_over_time sum_over_time time timestamp vector year
	sum min max avg group stddev stdvar count count_values bottomk topk quantile`)

// promKeywords are the words that are neither metrics nor functions.
var promKeywords = wordSet("and or unless bool offset atan2 inf nan")

// promGrouping are the keywords followed by a parenthesized list of label names.
var promGrouping = wordSet("by without on ignoring group_left group_right")

func wordSet(s string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(s) {
		m[w] = true
	}
	return m
}

// scanPromQL finds the selectors and grouping labels of a PromQL expression, as Prometheus
// and Grafana would read it: strings, ranges ([5m], [$__rate_interval]), Grafana variables
// and numbers are skipped; a word followed by "(" must be a function; any other word that
// is not a keyword is a metric name, with its {matchers} if it has some. It is a scanner,
// not a parser (promtool checks the grammar when it is installed); it fails on unbalanced
// brackets, unknown functions, selectors without a metric name and malformed matchers.
func scanPromQL(expr string) (promRefs, error) {
	var r promRefs
	s := expr
	depth := 0
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '#':
			for i < len(s) && s[i] != '\n' {
				i++
			}
		case c == '"' || c == '\'' || c == '`':
			_, n, err := promString(s[i:])
			if err != nil {
				return r, err
			}
			i += n
		case c == '$':
			i += grafanaVar(s[i:])
		case c == '[':
			j := strings.IndexByte(s[i:], ']')
			if j < 0 {
				return r, fmt.Errorf("unclosed [ at %d", i)
			}
			i += j + 1
		case c == '{':
			return r, fmt.Errorf("selector without a metric name at %d", i)
		case c == '(':
			depth++
			i++
		case c == ')':
			if depth--; depth < 0 {
				return r, fmt.Errorf("unbalanced ) at %d", i)
			}
			i++
		case c >= '0' && c <= '9' || c == '.':
			for i < len(s) && (isWordByte(s[i]) || s[i] == '.') {
				i++
			}
		case isWordStart(c):
			j := i
			for j < len(s) && isWordByte(s[j]) {
				j++
			}
			word := s[i:j]
			next := skipSpace(s, j)
			i = j
			switch {
			case promKeywords[strings.ToLower(word)]:
			case promGrouping[word]:
				if next < len(s) && s[next] == '(' {
					labels, n, err := promLabelList(s[next:])
					if err != nil {
						return r, fmt.Errorf("%s: %w", word, err)
					}
					r.grouping = append(r.grouping, labels...)
					i = next + n
				}
			case promFunctions[word]:
				// sum (...) and sum by (l) (...) alike; "by" is read next.
				if next >= len(s) || s[next] != '(' && !strings.HasPrefix(s[next:], "by") && !strings.HasPrefix(s[next:], "without") {
					return r, fmt.Errorf("%s without arguments", word)
				}
			case next < len(s) && s[next] == '(':
				return r, fmt.Errorf("unknown function %s", word)
			default:
				sel := promSelector{metric: word}
				if next < len(s) && s[next] == '{' {
					ms, n, err := promMatchers(s[next:])
					if err != nil {
						return r, fmt.Errorf("%s: %w", word, err)
					}
					sel.matchers = ms
					i = next + n
				}
				r.selectors = append(r.selectors, sel)
			}
		default: // operators, commas, the ":" of a subquery, "@"
			i++
		}
	}
	if depth != 0 {
		return r, fmt.Errorf("%d unclosed (", depth)
	}
	return r, nil
}

func isWordStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == ':'
}

func isWordByte(c byte) bool { return isWordStart(c) || c >= '0' && c <= '9' }

func skipSpace(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
		i++
	}
	return i
}

// grafanaVar is the length of the Grafana variable at the start of s: $name or ${...}.
func grafanaVar(s string) int {
	if strings.HasPrefix(s, "${") {
		if j := strings.IndexByte(s, '}'); j > 0 {
			return j + 1
		}
		return len(s)
	}
	j := 1
	for j < len(s) && isWordByte(s[j]) {
		j++
	}
	return j
}

// promString reads the quoted string at the start of s: its value and its length.
func promString(s string) (string, int, error) {
	q := s[0]
	for j := 1; j < len(s); j++ {
		switch {
		case s[j] == '\\' && q != '`':
			j++
		case s[j] == q:
			if q == '"' {
				v, err := strconv.Unquote(s[:j+1])
				return v, j + 1, err
			}
			return s[1:j], j + 1, nil
		}
	}
	return "", 0, fmt.Errorf("unclosed string %.20q", s)
}

// promLabelList reads "(a, b)" at the start of s.
func promLabelList(s string) ([]string, int, error) {
	end := strings.IndexByte(s, ')')
	if end < 0 {
		return nil, 0, fmt.Errorf("unclosed label list")
	}
	var labels []string
	for _, l := range strings.Split(s[1:end], ",") {
		if l = strings.TrimSpace(l); l != "" {
			labels = append(labels, l)
		}
	}
	return labels, end + 1, nil
}

// promMatchers reads `{a="x", b=~"y"}` at the start of s.
func promMatchers(s string) ([]promMatcher, int, error) {
	var ms []promMatcher
	i := 1
	for {
		i = skipSpace(s, i)
		if i < len(s) && s[i] == '}' {
			return ms, i + 1, nil
		}
		j := i
		for j < len(s) && isWordByte(s[j]) {
			j++
		}
		if j == i {
			return nil, 0, fmt.Errorf("bad matcher at %.20q", s[i:])
		}
		m := promMatcher{label: s[i:j]}
		i = skipSpace(s, j)
		for _, op := range []string{"=~", "!~", "!=", "="} {
			if strings.HasPrefix(s[i:], op) {
				m.op = op
				break
			}
		}
		if m.op == "" {
			return nil, 0, fmt.Errorf("no operator after %s", m.label)
		}
		i = skipSpace(s, i+len(m.op))
		if i >= len(s) || !strings.ContainsRune("\"'`", rune(s[i])) {
			return nil, 0, fmt.Errorf("no string after %s%s", m.label, m.op)
		}
		v, n, err := promString(s[i:])
		if err != nil {
			return nil, 0, err
		}
		m.value = v
		ms = append(ms, m)
		i = skipSpace(s, i+n)
		if i < len(s) && s[i] == ',' {
			i++
		}
	}
}

// The scanner finds selectors, matchers and grouping labels through functions, ranges,
// strings and Grafana variables, and refuses what Prometheus would refuse.
func TestScanPromQL(t *testing.T) {
	refs, err := scanPromQL(`histogram_quantile(0.99, sum by (op, le) (rate(a_bucket{x="1",y=~"$v"}[$__rate_interval])))
		/ on (instance) group_left (z) b # a comment: c{d="e"}
		+ label_replace(c, "dst", "$1", "src", "(.*)") offset 5m and sum(d) without (w)`)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range refs.selectors {
		got = append(got, fmt.Sprint(s.metric, s.matchers))
	}
	want := []string{"a_bucket[{x = 1} {y =~ $v}]", "b[]", "c[]", "d[]"}
	if !slices.Equal(got, want) || !slices.Equal(refs.grouping, []string{"op", "le", "instance", "z", "w"}) {
		t.Fatalf("selectors %q grouping %q", got, refs.grouping)
	}
	for _, bad := range []string{`rate(a[5m]`, `a)`, `{job="x"}`, `rat(a[5m])`, `a{b}`, `a{b="c"`, `a{b=c}`, `sum`} {
		if _, err := scanPromQL(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}
