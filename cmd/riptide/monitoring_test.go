package main

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"gopkg.in/yaml.v3"

	"github.com/riptide-io/riptide/internal/redistest"
)

const (
	dashboardFile = "../../deploy/grafana/riptide-dashboard.json"
	alertsFile    = "../../deploy/prometheus/riptide-alerts.yml"
	operationsDoc = "../../docs/operations.md"
)

// served is what a node's /metrics serves, by the series names a query can use: a
// histogram X as X_bucket (with le), X_sum and X_count, a summary as X (with quantile),
// X_sum and X_count. Each name maps to its label names and the values seen for each.
type served map[string]map[string]map[string]bool

// scrapeFamilies scrapes the admin listener at addr and parses the exposition.
func scrapeFamilies(t *testing.T, addr string) served {
	t.Helper()
	status, body := httpGet(t, "http://"+addr+"/metrics")
	if status != 200 {
		t.Fatalf("/metrics: %d", status)
	}
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("/metrics does not parse: %v", err)
	}
	out := served{}
	add := func(name string, m *dto.Metric, extra string) {
		labels := out[name]
		if labels == nil {
			labels = map[string]map[string]bool{}
			out[name] = labels
		}
		for _, l := range m.GetLabel() {
			if labels[l.GetName()] == nil {
				labels[l.GetName()] = map[string]bool{}
			}
			labels[l.GetName()][l.GetValue()] = true
		}
		if extra != "" && labels[extra] == nil {
			labels[extra] = map[string]bool{}
		}
	}
	for name, f := range fams {
		for _, m := range f.GetMetric() {
			switch f.GetType() {
			case dto.MetricType_HISTOGRAM:
				add(name+"_bucket", m, "le")
				add(name+"_sum", m, "")
				add(name+"_count", m, "")
			case dto.MetricType_SUMMARY:
				add(name, m, "quantile")
				add(name+"_sum", m, "")
				add(name+"_count", m, "")
			default:
				add(name, m, "")
			}
		}
	}
	return out
}

// targetLabels are added by Prometheus to every series it scrapes.
var targetLabels = wordSet("job instance")

// documentedValues reads the Metrics table of docs/operations.md: for each riptide_ metric,
// the backquoted words of its row (label names and documented values).
func documentedValues(t *testing.T) map[string]map[string]bool {
	t.Helper()
	b, err := os.ReadFile(operationsDoc)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]bool{}
	quoted := regexp.MustCompile("`([^`]*)`")
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(line, "| `riptide_") {
			continue
		}
		words := quoted.FindAllStringSubmatch(line, -1)
		name := words[0][1]
		out[name] = map[string]bool{}
		for _, w := range words[1:] {
			out[name][w[1]] = true
		}
	}
	return out
}

// checkExpr checks that every selector of expr names a series /metrics serves, with label
// names it has and, for = and != matchers, a value it serves or docs/operations.md names;
// and that every grouping label is a label of one of those series. up, the series
// Prometheus makes for each scrape, is allowed where allowUp is set.
func checkExpr(t *testing.T, where, expr string, s served, docs map[string]map[string]bool, allowUp bool) []string {
	t.Helper()
	refs, err := scanPromQL(expr)
	if err != nil {
		t.Errorf("%s: %q: %v", where, expr, err)
		return nil
	}
	if len(refs.selectors) == 0 {
		t.Errorf("%s: %q uses no metric", where, expr)
	}
	known := map[string]bool{}
	for l := range targetLabels {
		known[l] = true
	}
	var names []string
	for _, sel := range refs.selectors {
		names = append(names, sel.metric)
		labels, ok := s[sel.metric]
		if !ok && allowUp && sel.metric == "up" {
			labels, ok = map[string]map[string]bool{}, true
		}
		if !ok {
			t.Errorf("%s: %q uses %s, which /metrics does not serve", where, expr, sel.metric)
			continue
		}
		for l := range labels {
			known[l] = true
		}
		for _, m := range sel.matchers {
			values, has := labels[m.label]
			if !has && !targetLabels[m.label] {
				t.Errorf("%s: %q: %s has no label %s", where, expr, sel.metric, m.label)
				continue
			}
			if has && (m.op == "=" || m.op == "!=") && !values[m.value] && !docs[baseName(sel.metric)][m.value] {
				t.Errorf("%s: %q: %s{%s=%q}: no such value served or documented", where, expr, sel.metric, m.label, m.value)
			}
		}
	}
	for _, l := range refs.grouping {
		if !known[l] {
			t.Errorf("%s: %q groups by %s, a label of none of %v", where, expr, l, names)
		}
	}
	return names
}

// baseName is a histogram's or summary's family name for its _bucket, _sum and _count.
func baseName(series string) string {
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		if b, ok := strings.CutSuffix(series, suffix); ok && strings.HasSuffix(b, "_seconds") {
			return b
		}
	}
	return series
}

// grafanaDashboard is the part of a dashboard JSON model the test reads.
type grafanaDashboard struct {
	UID           string                           `json:"uid"`
	Title         string                           `json:"title"`
	SchemaVersion int                              `json:"schemaVersion"`
	Panels        []grafanaPanel                   `json:"panels"`
	Inputs        []grafanaInput                   `json:"__inputs"`
	Templating    struct{ List []grafanaVariable } `json:"templating"`
}

type grafanaInput struct {
	Name     string `json:"name"`
	Type     string `json:"type"`
	PluginID string `json:"pluginId"`
}

type grafanaVariable struct {
	Name       string          `json:"name"`
	Type       string          `json:"type"`
	Query      json.RawMessage `json:"query"`
	Datasource json.RawMessage `json:"datasource"`
}

type grafanaPanel struct {
	ID         int                       `json:"id"`
	Type       string                    `json:"type"`
	Title      string                    `json:"title"`
	Datasource json.RawMessage           `json:"datasource"`
	GridPos    *struct{ H, W, X, Y int } `json:"gridPos"`
	Targets    []struct {
		Expr  string `json:"expr"`
		RefID string `json:"refId"`
	} `json:"targets"`
	Panels []grafanaPanel `json:"panels"` // a collapsed row's
}

// loadDashboard reads the dashboard and checks its frame: a schema version of Grafana 10
// or later, a Prometheus data source as an import input or a datasource variable that
// every panel uses, unique panel ids, a position and a PromQL query for every panel.
func loadDashboard(t *testing.T) (grafanaDashboard, []grafanaPanel) {
	t.Helper()
	b, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var d grafanaDashboard
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("%s: %v", dashboardFile, err)
	}
	if d.SchemaVersion < 36 || d.UID == "" || d.Title == "" {
		t.Errorf("dashboard: schemaVersion %d, uid %q, title %q", d.SchemaVersion, d.UID, d.Title)
	}
	var dsRef string
	for _, in := range d.Inputs {
		if in.Type == "datasource" && in.PluginID == "prometheus" {
			dsRef = "${" + in.Name + "}"
		}
	}
	for _, v := range d.Templating.List {
		if v.Type == "datasource" && string(v.Query) == `"prometheus"` {
			dsRef = "${" + v.Name + "}"
		}
	}
	if dsRef == "" {
		t.Fatal("dashboard: no Prometheus data source input or variable")
	}
	var panels []grafanaPanel
	var walk func([]grafanaPanel)
	walk = func(ps []grafanaPanel) {
		for _, p := range ps {
			panels = append(panels, p)
			walk(p.Panels)
		}
	}
	walk(d.Panels)
	ids := map[int]bool{}
	for _, p := range panels {
		if ids[p.ID] || p.GridPos == nil || p.GridPos.W == 0 {
			t.Errorf("panel %q: id %d repeated or no gridPos", p.Title, p.ID)
		}
		ids[p.ID] = true
		if p.Type == "row" {
			continue
		}
		var ds struct{ Type, UID string }
		if err := json.Unmarshal(p.Datasource, &ds); err != nil || ds.Type != "prometheus" || ds.UID != dsRef {
			t.Errorf("panel %q: datasource %s, want prometheus %s", p.Title, p.Datasource, dsRef)
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			if tg.Expr == "" || tg.RefID == "" {
				t.Errorf("panel %q: a target without expr or refId", p.Title)
			}
		}
	}
	return d, panels
}

// variableQuery is a query variable's PromQL, from Grafana's label_values(metric, label)
// or query_result(expr) forms; label is label_values's label.
func variableQuery(raw json.RawMessage) (expr, label string) {
	var q string
	if json.Unmarshal(raw, &q) != nil {
		var obj struct{ Query string }
		_ = json.Unmarshal(raw, &obj)
		q = obj.Query
	}
	if in, ok := strings.CutPrefix(q, "label_values("); ok {
		in = strings.TrimSuffix(strings.TrimSpace(in), ")")
		if i := strings.LastIndexByte(in, ','); i >= 0 {
			return strings.TrimSpace(in[:i]), strings.TrimSpace(in[i+1:])
		}
	}
	if in, ok := strings.CutPrefix(q, "query_result("); ok {
		return strings.TrimSuffix(in, ")"), ""
	}
	return q, ""
}

// alertRules is the structure of a Prometheus rule file.
type alertRules struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []struct {
			Alert       string            `yaml:"alert"`
			Record      string            `yaml:"record,omitempty"`
			Expr        string            `yaml:"expr"`
			For         string            `yaml:"for,omitempty"`
			Labels      map[string]string `yaml:"labels"`
			Annotations map[string]string `yaml:"annotations,omitempty"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

// loadAlerts reads the rule file strictly (an unknown key is an error) and checks that
// every rule is an alert with an expression, a valid for, a severity, a summary and a
// description.
func loadAlerts(t *testing.T) alertRules {
	t.Helper()
	f, err := os.Open(alertsFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := yaml.NewDecoder(f)
	dec.KnownFields(true)
	var rules alertRules
	if err := dec.Decode(&rules); err != nil {
		t.Fatalf("%s: %v", alertsFile, err)
	}
	if len(rules.Groups) == 0 {
		t.Fatalf("%s: no groups", alertsFile)
	}
	for _, g := range rules.Groups {
		if g.Name == "" || len(g.Rules) == 0 {
			t.Errorf("group %q: no name or no rules", g.Name)
		}
		for _, r := range g.Rules {
			if r.Alert == "" || r.Record != "" || r.Expr == "" {
				t.Errorf("rule %q: an alert with an expr is expected", r.Alert+r.Record)
			}
			if r.For != "" {
				if _, err := model.ParseDuration(r.For); err != nil {
					t.Errorf("%s: for %q: %v", r.Alert, r.For, err)
				}
			}
			if !slices.Contains([]string{"critical", "warning", "info"}, r.Labels["severity"]) {
				t.Errorf("%s: severity %q", r.Alert, r.Labels["severity"])
			}
			if r.Annotations["summary"] == "" || r.Annotations["description"] == "" {
				t.Errorf("%s: summary and description annotations are expected", r.Alert)
			}
		}
	}
	return rules
}

// TestDashboardAndAlerts: the Grafana dashboard and the Prometheus alerts parse, and every
// metric, label and label value their queries use is one that a node's /metrics serves
// (a clustered node, so that the Redis metrics are there). The dashboard has a panel for
// every riptide metric, and docs/operations.md a row. With promtool installed, the rules
// and every dashboard query are also checked by Prometheus's own parser, and each alert is
// shown to fire on the series it is about (promtool test rules).
func TestDashboardAndAlerts(t *testing.T) {
	r := redistest.Start(t)
	c := flags(t, "--addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0", "--redis", r.URL())
	_, _, o := startOps(t, c, slog.New(slog.NewTextHandler(io.Discard, nil)))
	s := scrapeFamilies(t, o.addr)
	for _, name := range []string{"riptide_redis_up", "riptide_cluster_nodes", "process_open_fds", "go_goroutines"} {
		if s[name] == nil {
			t.Fatalf("/metrics of a clustered node lacks %s", name)
		}
	}
	docs := documentedValues(t)

	d, panels := loadDashboard(t)
	used := map[string]bool{}
	var dashExprs []string
	for _, p := range panels {
		for _, tg := range p.Targets {
			for _, n := range checkExpr(t, "panel "+p.Title, tg.Expr, s, docs, false) {
				used[baseName(n)] = true
			}
			dashExprs = append(dashExprs, tg.Expr)
		}
	}
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		expr, label := variableQuery(v.Query)
		names := checkExpr(t, "variable "+v.Name, expr, s, docs, false)
		for _, n := range names {
			if _, ok := s[n][label]; label != "" && !ok && !targetLabels[label] {
				t.Errorf("variable %s: %s has no label %s", v.Name, n, label)
			}
		}
	}
	var missing []string
	for name := range s {
		if strings.HasPrefix(name, "riptide_") && !used[baseName(name)] {
			missing = append(missing, baseName(name))
		}
		if strings.HasPrefix(name, "riptide_") && docs[baseName(name)] == nil {
			t.Errorf("docs/operations.md, Metrics: no row for %s", baseName(name))
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		t.Errorf("no dashboard panel shows %v", slices.Compact(missing))
	}

	rules := loadAlerts(t)
	for _, g := range rules.Groups {
		for _, rule := range g.Rules {
			checkExpr(t, "alert "+rule.Alert, rule.Expr, s, docs, true)
		}
	}
	promtoolChecks(t, rules, dashExprs)
}

// promtoolChecks runs Prometheus's own checks when promtool is installed (Debian's
// prometheus package): check rules on the alerts, on the dashboard's queries turned into
// recording rules (Grafana's variables replaced by values), and test rules with
// alertTests, on a copy of the alerts without annotations (test rules compares them
// whole; check rules has already parsed their templates).
func promtoolChecks(t *testing.T, rules alertRules, dashExprs []string) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Log("promtool not installed (apt-get install prometheus): the Go checks above stand alone")
		return
	}
	run := func(args ...string) {
		t.Helper()
		out, err := exec.Command(promtool, args...).CombinedOutput()
		if err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	run("check", "rules", alertsFile)

	dir := t.TempDir()
	vars := strings.NewReplacer("$__rate_interval", "5m", "$__interval", "1m", "$__range", "1h", "$instance", ".*")
	var rec []map[string]string
	for i, e := range dashExprs {
		rec = append(rec, map[string]string{"record": fmt.Sprintf("dashboard:query_%d", i), "expr": vars.Replace(e)})
	}
	saveYAML(t, filepath.Join(dir, "dashboard-rules.yml"), map[string]any{"groups": []any{map[string]any{"name": "dashboard", "rules": rec}}})
	run("check", "rules", filepath.Join(dir, "dashboard-rules.yml"))

	for gi := range rules.Groups {
		for ri := range rules.Groups[gi].Rules {
			rules.Groups[gi].Rules[ri].Annotations = nil
		}
	}
	saveYAML(t, filepath.Join(dir, "alerts.yml"), rules)
	tests := alertTests(t, rules)
	saveYAML(t, filepath.Join(dir, "alerts.test.yml"), map[string]any{
		"rule_files": []string{"alerts.yml"}, "evaluation_interval": "1m", "tests": tests})
	run("test", "rules", filepath.Join(dir, "alerts.test.yml"))
}

func saveYAML(t *testing.T, path string, v any) {
	t.Helper()
	b, err := yaml.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// alertCase is one alert shown to fire: the series (1 minute apart) that make it fire,
// a time at which it must not fire yet, and the time and labels at which it fires.
type alertCase struct {
	series map[string]string
	quiet  string
	at     string
	labels []map[string]string // besides alertname and the rule's own labels
}

var alertCases = map[string]alertCase{
	"RiptideDown": {
		series: map[string]string{`up{job="riptide",instance="n1"}`: "1 0 0 0", `up{job="riptide",instance="n2"}`: "1 1 1 1"},
		quiet:  "1m", at: "3m", labels: []map[string]string{{"job": "riptide", "instance": "n1"}},
	},
	"RiptideRestarting": {
		series: map[string]string{`process_start_time_seconds{job="riptide",instance="n1"}`: "100 100 200 300 400"},
		quiet:  "2m", at: "4m", labels: []map[string]string{{"job": "riptide", "instance": "n1"}},
	},
	"RiptideRedisDown": {
		series: map[string]string{`riptide_redis_up{job="riptide",instance="n1"}`: "1 0 0 0"},
		quiet:  "1m", at: "3m", labels: []map[string]string{{"job": "riptide", "instance": "n1"}},
	},
	"RiptideRedisReconnecting": {
		series: map[string]string{`riptide_redis_reconnects_total{job="riptide",instance="n1"}`: "0 0 1 2 3 4"},
		quiet:  "2m", at: "5m", labels: []map[string]string{{"job": "riptide", "instance": "n1"}},
	},
	"RiptideClusterMessagesDropped": {
		series: map[string]string{
			`riptide_redis_dropped_total{job="riptide",instance="n1",queue="outbox"}`: "0+10x15",
			`riptide_redis_dropped_total{job="riptide",instance="n1",queue="inbox"}`:  "0x15",
		},
		quiet: "3m", at: "10m", labels: []map[string]string{{"job": "riptide", "instance": "n1", "queue": "outbox"}},
	},
	"RiptideClusterNodeSilent": {
		series: map[string]string{
			`riptide_cluster_nodes{job="riptide",instance="n1",state="silent"}`: "0 1 1 1 1",
			`riptide_cluster_nodes{job="riptide",instance="n1",state="alive"}`:  "2 1 1 1 1",
		},
		quiet: "2m", at: "4m", labels: []map[string]string{{"job": "riptide", "instance": "n1", "state": "silent"}},
	},
	"RiptideDrainStuck": { // n2 is not ready because of Redis: RiptideRedisDown's case
		series: map[string]string{
			`riptide_ready{job="riptide",instance="n1"}`:    "1 0x10",
			`riptide_redis_up{job="riptide",instance="n1"}`: "1x10",
			`riptide_ready{job="riptide",instance="n2"}`:    "1 0x10",
			`riptide_redis_up{job="riptide",instance="n2"}`: "1 0x10",
		},
		quiet: "4m", at: "8m", labels: []map[string]string{{"job": "riptide", "instance": "n1"}},
	},
	"RiptideSlowConsumersClosed": { // n1: 2 closes/s; n2: 0.5/s, under the threshold
		series: map[string]string{
			`riptide_slow_sessions_closed_total{job="riptide",instance="n1"}`:       "0+60x25",
			`riptide_stalled_connections_closed_total{job="riptide",instance="n1"}`: "0+60x25",
			`riptide_slow_sessions_closed_total{job="riptide",instance="n2"}`:       "0+30x25",
			`riptide_stalled_connections_closed_total{job="riptide",instance="n2"}`: "0x25",
		},
		quiet: "8m", at: "20m", labels: []map[string]string{{"job": "riptide", "instance": "n1"}},
	},
	"RiptideRefusalsHigh": { // n1: half the connects refused; n2: only draining refusals
		series: map[string]string{
			`riptide_handshakes_total{job="riptide",instance="n1",transport="websocket"}`:                              "0+60x25",
			`riptide_connection_refusals_total{job="riptide",instance="n1",stage="connect",code="AUTH_TOKEN_INVALID"}`: "0+30x25",
			`riptide_connection_refusals_total{job="riptide",instance="n1",stage="handshake",code="SERVER_DRAINING"}`:  "0x25",
			`riptide_handshakes_total{job="riptide",instance="n2",transport="websocket"}`:                              "0+60x25",
			`riptide_connection_refusals_total{job="riptide",instance="n2",stage="handshake",code="SERVER_DRAINING"}`:  "0+600x25",
		},
		quiet: "8m", at: "20m", labels: []map[string]string{{"job": "riptide", "instance": "n1"}},
	},
	"RiptideFileDescriptorsNearLimit": {
		series: map[string]string{
			`process_open_fds{job="riptide",instance="n1"}`: "500 900x10",
			`process_max_fds{job="riptide",instance="n1"}`:  "1000x10",
		},
		quiet: "3m", at: "7m", labels: []map[string]string{{"job": "riptide", "instance": "n1"}},
	},
	"RiptideHandlerQueueSaturated": {
		series: map[string]string{`riptide_handler_waiting_queues{job="riptide",instance="n1"}`: "0 3x15"},
		quiet:  "6m", at: "12m", labels: []map[string]string{{"job": "riptide", "instance": "n1"}},
	},
}

// alertTests turns alertCases into promtool's test format; every alert of rules needs a
// case, and every case an alert.
func alertTests(t *testing.T, rules alertRules) []any {
	t.Helper()
	own := map[string]map[string]string{}
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			own[r.Alert] = r.Labels
		}
	}
	var tests []any
	for name, c := range alertCases {
		if own[name] == nil {
			t.Errorf("alertCases has %s, the rules do not", name)
			continue
		}
		var series []any
		for s, v := range c.series {
			series = append(series, map[string]string{"series": s, "values": v})
		}
		var exp []any
		for _, l := range c.labels {
			labels := map[string]string{}
			for k, v := range own[name] {
				labels[k] = v
			}
			for k, v := range l {
				labels[k] = v
			}
			exp = append(exp, map[string]any{"exp_labels": labels})
		}
		tests = append(tests, map[string]any{"interval": "1m", "input_series": series, "alert_rule_test": []any{
			map[string]any{"eval_time": c.quiet, "alertname": name, "exp_alerts": []any{}},
			map[string]any{"eval_time": c.at, "alertname": name, "exp_alerts": exp},
		}})
	}
	for name := range own {
		if _, ok := alertCases[name]; !ok {
			t.Errorf("alert %s has no case in alertCases", name)
		}
	}
	return tests
}
