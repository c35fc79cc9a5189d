package metrics

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// scrapeText serves m's handler once and returns the families.
func scrapeText(t *testing.T, m *Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 {
		t.Fatalf("HTTP %d", rec.Code)
	}
	return rec.Body.String()
}

func TestCalledCountsAndTimesByMethodAndOutcome(t *testing.T) {
	m := New(Options{})
	s := m.Server("github")
	s.Called("tools/call", "", OK, 10*time.Millisecond)
	s.Called("tools/call", "", OK, 30*time.Millisecond)
	s.Called("tools/call", "", Error, 5*time.Millisecond)
	s.Called("resources/read", "", Overloaded, 0) // never sent: counted, not timed
	s.Called("resources/subscribe", "", OK, time.Millisecond)
	if m.Server("github") != s {
		t.Errorf("a second Server(github) made new handles")
	}

	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(scrapeText(t, m)))
	if err != nil {
		t.Fatal(err)
	}
	count := func(method, outcome string) float64 {
		for _, metric := range families["plugboard_server_calls_total"].Metric {
			labels := map[string]string{}
			for _, l := range metric.Label {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["server"] == "github" && labels["method"] == method && labels["outcome"] == outcome {
				return metric.Counter.GetValue()
			}
		}
		return -1
	}
	for _, c := range []struct {
		method, outcome string
		want            float64
	}{{"tools/call", "ok", 2}, {"tools/call", "error", 1}, {"resources/read", "overloaded", 1}, {"other", "ok", 1}, {"tools/call", "timeout", -1}} {
		if got := count(c.method, c.outcome); got != c.want {
			t.Errorf("calls{%s,%s} = %v, want %v", c.method, c.outcome, got, c.want)
		}
	}
	traffic := m.ServerTraffic()["github"]
	if traffic.Calls != 5 || traffic.Errors != 2 || traffic.LatencyCount != 4 || traffic.LatencySum != 46*time.Millisecond {
		t.Errorf("ServerTraffic = %+v, want 5 calls, 2 errors, 4 timed summing to 46ms", traffic)
	}
	if _, ok := families["plugboard_server_tool_calls_total"]; ok {
		t.Errorf("tool labels without ToolLabels")
	}
	for _, name := range []string{"go_goroutines", "process_resident_memory_bytes", "plugboard_front_refused_total"} {
		if families[name] == nil {
			t.Errorf("%s missing", name)
		}
	}
}

func TestToolLabelsOnlyWhenAsked(t *testing.T) {
	m := New(Options{ToolLabels: true})
	s := m.Server("github")
	if !s.WantsToolNames() || New(Options{}).Server("x").WantsToolNames() {
		t.Fatalf("WantsToolNames does not follow ToolLabels")
	}
	s.Called("tools/call", "search", OK, time.Millisecond)
	if text := scrapeText(t, m); !strings.Contains(text, `plugboard_server_tool_calls_total{outcome="ok",server="github",tool="search"} 1`) {
		t.Errorf("no tool series:\n%s", text)
	}
}

func TestServersAreAskedAtScrapeTime(t *testing.T) {
	m := New(Options{})
	asked := 0
	m.ObserveServers([]string{"ready", "failed"}, func(context.Context) ([]ServerState, error) {
		asked++
		return []ServerState{{Name: "fs", State: "failed", Tools: 3, Restarts: 2, InFlight: 1, Queued: 4}}, nil
	}, nil)
	text := scrapeText(t, m)
	for _, want := range []string{
		`plugboard_server_state{server="fs",state="failed"} 1`, `plugboard_server_state{server="fs",state="ready"} 0`,
		`plugboard_server_tools{server="fs"} 3`, `plugboard_server_restarts_total{server="fs"} 2`,
		`plugboard_server_in_flight{server="fs"} 1`, `plugboard_server_queued{server="fs"} 4`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("missing %s", want)
		}
	}
	if asked != 1 {
		t.Errorf("asked %d times for one scrape", asked)
	}
}

func TestFrontsCountSessionsFramesAndRefusals(t *testing.T) {
	m := New(Options{})
	f := m.Front("stdio")
	f.SessionOpened()
	f.SessionOpened()
	f.SessionClosed()
	f.Received()
	f.Sent()
	f.Sent()
	m.Refused(RefusedTooLarge)
	m.Refused("something new")
	text := scrapeText(t, m)
	for _, want := range []string{
		`plugboard_front_sessions_open{transport="stdio"} 1`, `plugboard_front_frames_received_total{transport="stdio"} 1`,
		`plugboard_front_frames_sent_total{transport="stdio"} 2`, `plugboard_front_refused_total{reason="too_large"} 1`,
		`plugboard_front_refused_total{reason="bad_input"} 0`, `plugboard_front_refused_total{reason="something new"} 1`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("missing %s in\n%s", want, text)
		}
	}
}

func TestNilRecordsNothing(t *testing.T) {
	var m *Metrics
	s, f := m.Server("x"), m.Front("stdio")
	s.Called("tools/call", "t", OK, time.Second)
	f.SessionOpened()
	f.Received()
	f.Sent()
	f.SessionClosed()
	m.Refused(RefusedBadInput)
	m.ObserveServers(nil, nil, nil)
	if s.WantsToolNames() || m.ServerTraffic() != nil {
		t.Errorf("a nil Metrics recorded something")
	}
}

// BenchmarkCalled is the cost the call path pays per call with metrics on.
func BenchmarkCalled(b *testing.B) {
	s := New(Options{}).Server("github")
	b.ReportAllocs()
	for b.Loop() {
		s.Called("tools/call", "", OK, 3*time.Millisecond)
	}
}

// BenchmarkCalledParallel is BenchmarkCalled from every core at once, on
// one server's series: contention on its atomics.
func BenchmarkCalledParallel(b *testing.B) {
	s := New(Options{}).Server("github")
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			s.Called("tools/call", "", OK, 3*time.Millisecond)
		}
	})
}

// BenchmarkCalledOff is the cost with metrics off: a nil check.
func BenchmarkCalledOff(b *testing.B) {
	var s *Server
	b.ReportAllocs()
	for b.Loop() {
		s.Called("tools/call", "", OK, 3*time.Millisecond)
	}
}
