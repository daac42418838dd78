package main

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/riptide-io/riptide/server/tier"
)

var mPolicy = desc("policy_refusals_total", "Refusals by the tier's policies (connect_errors, \"error\" events and refused acks), by code (docs/tier.md).", "code")

func describePolicy(ch chan<- *prometheus.Desc) { ch <- mPolicy }

// collectPolicy reads server/tier's refusal counters.
func collectPolicy(ch chan<- prometheus.Metric) {
	tier.EachRefusal(func(code tier.Code, n uint64) {
		ch <- prometheus.MustNewConstMetric(mPolicy, prometheus.CounterValue, float64(n), string(code))
	})
}
