package config

import (
	"strings"
	"testing"
)

func TestMetricsSection(t *testing.T) {
	for _, tc := range []struct {
		yaml string
		want Metrics
	}{
		{"servers: {}\n", Metrics{}},
		{"metrics:\n  tool_labels: true\n", Metrics{ToolLabels: true}},
		{"metrics:\n  tool_labels: false\n", Metrics{}},
		{"metrics:\n", Metrics{}},
	} {
		clearOverrides(t)
		cfg := mustLoad(t, writeConfig(t, "config.yaml", tc.yaml))
		if cfg.Metrics != tc.want {
			t.Errorf("%q: got %+v, want %+v", tc.yaml, cfg.Metrics, tc.want)
		}
	}
}

func TestMetricsSectionErrors(t *testing.T) {
	for _, tc := range []struct{ yaml, key string }{
		{"metrics: 3\n", "metrics"},
		{"metrics:\n  tool_labels: yes please\n", "metrics.tool_labels"},
	} {
		clearOverrides(t)
		_, err := Load(writeConfig(t, "config.yaml", tc.yaml), nil)
		if err == nil || !strings.Contains(err.Error(), tc.key+":") {
			t.Errorf("%q: got %v, want an error naming %s", tc.yaml, err, tc.key)
		}
	}
}

func TestMetricsSectionWarnsOfUnknownKeys(t *testing.T) {
	clearOverrides(t)
	cfg := mustLoad(t, writeConfig(t, "config.yaml", "metrics:\n  tool_label: true\n"))
	found := false
	for _, w := range cfg.Warnings {
		if strings.Contains(w, "metrics") && strings.Contains(w, "tool_labels") {
			found = true
		}
	}
	if !found || cfg.Metrics.ToolLabels {
		t.Errorf("warnings %q, metrics %+v: want a warning suggesting tool_labels, and no tool labels", cfg.Warnings, cfg.Metrics)
	}
}
