package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/plugboard/plugboard/config"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// scrape fetches /metrics with the bearer token and parses it with
// Prometheus's own text parser.
func scrape(t *testing.T, d *daemon, token string) map[string]*dto.MetricFamily {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, d.url+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: HTTP %d", resp.StatusCode)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parsing /metrics: %v", err)
	}
	return families
}

// sample is the value of the series of family whose labels include all of
// labels; ok is false when there is no such series.
func sample(families map[string]*dto.MetricFamily, family string, labels map[string]string) (float64, bool) {
	f := families[family]
	if f == nil {
		return 0, false
	}
next:
	for _, m := range f.Metric {
		have := map[string]string{}
		for _, l := range m.Label {
			have[l.GetName()] = l.GetValue()
		}
		for k, v := range labels {
			if have[k] != v {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount()), true
		}
	}
	return 0, false
}

func TestMetricsCountWhatAWorkloadDid(t *testing.T) {
	const token = "metrics-token"
	d := startServe(t, writeConfig(t, "servers:\n"+fixtureServer("alpha")+fixtureServer("beta")), "--auth-token", token)
	s := newHTTPSession(t, d.url)
	s.header.Set("Authorization", "Bearer "+token)
	s.initialize(map[string]any{})
	list, _ := s.call("tools/list", nil)
	var tools struct {
		Tools []struct{ Name string } `json:"tools"`
	}
	if err := json.Unmarshal(list.Result, &tools); err != nil {
		t.Fatal(err)
	}
	betaTools := 0
	for _, tool := range tools.Tools {
		if strings.HasPrefix(tool.Name, "beta__") {
			betaTools++
		}
	}
	frames := 3 // initialize, notifications/initialized, tools/list; call counts the rest

	call := func(tool string, args map[string]any) *message {
		t.Helper()
		frames++
		m, _ := s.call("tools/call", map[string]any{"name": tool, "arguments": args})
		return m
	}
	const echoes, failures = 5, 2
	for i := range echoes {
		if m := call("alpha__echo", map[string]any{"text": fmt.Sprint(i)}); m.Error != nil {
			t.Fatalf("alpha__echo: %s", m.raw)
		}
	}
	for range failures {
		if m := call("alpha__meta_echo", map[string]any{"fail": true}); m.Error == nil {
			t.Fatalf("alpha__meta_echo fail: true answered %s, want a JSON-RPC error", m.raw)
		}
	}
	if m := call("alpha__test_error_handling", nil); m.Error != nil || !strings.Contains(string(m.Result), `"isError":true`) {
		t.Fatalf("alpha__test_error_handling: %s, want a result with isError", m.raw)
	}
	if m := call("beta__echo", map[string]any{"text": "b"}); m.Error != nil {
		t.Fatalf("beta__echo: %s", m.raw)
	}
	if m := call("alpha__crash", map[string]any{"code": 3}); m.Error == nil {
		t.Fatalf("alpha__crash answered %s, want an error", m.raw)
	}
	// A message that is not JSON is refused by the front itself.
	req, _ := http.NewRequest(http.MethodPost, d.url+"/mcp", strings.NewReader("{not json"))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Mcp-Session-Id", s.id)
	if resp, err := http.DefaultClient.Do(req); err != nil {
		t.Fatal(err)
	} else if resp.Body.Close(); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("a body that is not JSON: HTTP %d, want 400", resp.StatusCode)
	}

	var families map[string]*dto.MetricFamily
	eventually(t, 20*time.Second, "alpha ready again after its crash", func() bool {
		families = scrape(t, d, token)
		ready, _ := sample(families, "plugboard_server_state", map[string]string{"server": "alpha", "state": "ready"})
		return ready == 1
	})
	if m := call("alpha__echo", map[string]any{"text": "back"}); m.Error != nil {
		t.Fatalf("alpha__echo after the restart: %s", m.raw)
	}
	families = scrape(t, d, token)

	calls := func(server, outcome string) map[string]string {
		return map[string]string{"server": server, "method": "tools/call", "outcome": outcome}
	}
	for _, tc := range []struct {
		family string
		labels map[string]string
		want   float64
	}{
		{"plugboard_server_calls_total", calls("alpha", "ok"), echoes + 1},
		{"plugboard_server_calls_total", calls("alpha", "error"), failures},
		{"plugboard_server_calls_total", calls("alpha", "tool_error"), 1},
		{"plugboard_server_calls_total", calls("alpha", "server_down"), 1},
		{"plugboard_server_calls_total", calls("beta", "ok"), 1},
		{"plugboard_server_call_duration_seconds", map[string]string{"server": "alpha", "method": "tools/call"}, echoes + 1 + failures + 1 + 1},
		{"plugboard_server_call_duration_seconds", map[string]string{"server": "beta", "method": "tools/call"}, 1},
		{"plugboard_server_restarts_total", map[string]string{"server": "alpha"}, 1},
		{"plugboard_server_restarts_total", map[string]string{"server": "beta"}, 0},
		{"plugboard_server_state", map[string]string{"server": "beta", "state": "ready"}, 1},
		{"plugboard_server_state", map[string]string{"server": "beta", "state": "failed"}, 0},
		{"plugboard_server_tools", map[string]string{"server": "beta"}, float64(betaTools)},
		{"plugboard_server_in_flight", map[string]string{"server": "alpha"}, 0},
		{"plugboard_server_queued", map[string]string{"server": "alpha"}, 0},
		{"plugboard_front_sessions_open", map[string]string{"transport": "streamable"}, 1},
		{"plugboard_front_frames_received_total", map[string]string{"transport": "streamable"}, float64(frames)},
		{"plugboard_front_refused_total", map[string]string{"reason": "bad_input"}, 1},
		{"plugboard_front_refused_total", map[string]string{"reason": "too_large"}, 0},
	} {
		got, ok := sample(families, tc.family, tc.labels)
		if !ok || got != tc.want {
			t.Errorf("%s%v = %v (present %v), want %v", tc.family, tc.labels, got, ok, tc.want)
		}
	}
	// Every request got its answer: at least as many frames out as
	// requests in (notifications from the servers come on top).
	if sent, _ := sample(families, "plugboard_front_frames_sent_total", map[string]string{"transport": "streamable"}); sent < float64(frames-1) {
		t.Errorf("plugboard_front_frames_sent_total = %v, want at least %d", sent, frames-1)
	}
	for _, family := range []string{"go_goroutines", "process_resident_memory_bytes"} {
		if v, ok := sample(families, family, nil); !ok || v <= 0 {
			t.Errorf("%s = %v (present %v), want the standard collector's positive value", family, v, ok)
		}
	}
	if _, ok := families["plugboard_server_tool_calls_total"]; ok {
		t.Errorf("tool names are labels without metrics.tool_labels")
	}
}

func TestMetricsAreGuardedLikeTheFronts(t *testing.T) {
	d := startServe(t, writeConfig(t, "servers:\n"+fixtureServer("alpha")), "--auth-token", "sesame")
	for _, tc := range []struct {
		name    string
		headers map[string]string
		want    int
	}{
		{"no token", nil, http.StatusUnauthorized},
		{"wrong token", map[string]string{"Authorization": "Bearer nope"}, http.StatusUnauthorized},
		{"foreign Host", map[string]string{"Authorization": "Bearer sesame", "Host": "evil.example:80"}, http.StatusForbidden},
		{"foreign Origin", map[string]string{"Authorization": "Bearer sesame", "Origin": "http://evil.example"}, http.StatusForbidden},
		{"the token", map[string]string{"Authorization": "Bearer sesame"}, http.StatusOK},
	} {
		if got := getStatus(t, d.url+"/metrics", tc.headers); got != tc.want {
			t.Errorf("%s: HTTP %d, want %d", tc.name, got, tc.want)
		}
	}
}

func TestMetricsLabelToolNamesOnlyWhenAsked(t *testing.T) {
	const token = "sesame"
	d := startServe(t, writeConfig(t, "metrics:\n  tool_labels: true\nservers:\n"+fixtureServer("alpha")), "--auth-token", token)
	s := newHTTPSession(t, d.url)
	s.header.Set("Authorization", "Bearer "+token)
	s.initialize(map[string]any{})
	s.call("tools/list", nil)
	for range 3 {
		if m, _ := s.call("tools/call", map[string]any{"name": "alpha__echo", "arguments": map[string]any{"text": "x"}}); m.Error != nil {
			t.Fatalf("alpha__echo: %s", m.raw)
		}
	}
	families := scrape(t, d, token)
	// The server's own name for the tool: what the label holds is bounded
	// by its catalog, not by what clients send.
	if got, ok := sample(families, "plugboard_server_tool_calls_total", map[string]string{"server": "alpha", "tool": "echo", "outcome": "ok"}); !ok || got != 3 {
		t.Errorf("plugboard_server_tool_calls_total{tool=echo} = %v (present %v), want 3", got, ok)
	}
}

func TestAReloadSaysMetricsAreReadOnlyAtStart(t *testing.T) {
	old, changed := &config.Config{}, &config.Config{Metrics: config.Metrics{ToolLabels: true}}
	if got := restartOnlySettings(old, changed); len(got) != 1 || got[0] != "metrics" {
		t.Errorf("restartOnlySettings = %v, want [metrics]", got)
	}
	if got := restartOnlySettings(old, &config.Config{}); len(got) != 0 {
		t.Errorf("restartOnlySettings of equal settings = %v", got)
	}
}

func TestMetricsCountWhatTheFrontsRefuse(t *testing.T) {
	const token = "sesame"
	d := startServe(t, writeConfig(t, "servers:\n"+fixtureServer("alpha")), "--auth-token", token, "--max-sessions", "1")
	first := newHTTPSession(t, d.url)
	first.header.Set("Authorization", "Bearer "+token)
	first.initialize(map[string]any{})
	post := func(body string) int {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, d.url+"/mcp", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	initialize := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"second","version":"1"}}}`
	if code := post(initialize); code != http.StatusServiceUnavailable {
		t.Fatalf("a second session past --max-sessions 1: HTTP %d, want 503", code)
	}
	huge := `{"jsonrpc":"2.0","id":2,"method":"ping","params":{"pad":"` + strings.Repeat("x", 17<<20) + `"}}`
	if code := post(huge); code != http.StatusRequestEntityTooLarge {
		t.Fatalf("a 17 MiB message: HTTP %d, want 413", code)
	}
	families := scrape(t, d, token)
	for reason, want := range map[string]float64{"overloaded": 1, "too_large": 1, "bad_input": 0} {
		if got, _ := sample(families, "plugboard_front_refused_total", map[string]string{"reason": reason}); got != want {
			t.Errorf("plugboard_front_refused_total{reason=%s} = %v, want %v", reason, got, want)
		}
	}
	if got, _ := sample(families, "plugboard_front_sessions_open", map[string]string{"transport": "streamable"}); got != 1 {
		t.Errorf("plugboard_front_sessions_open{transport=streamable} = %v, want 1", got)
	}
}
