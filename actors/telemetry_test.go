package actors

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/plugboard/plugboard/config"
	"github.com/plugboard/plugboard/messages"
	"github.com/plugboard/plugboard/metrics"
	"github.com/plugboard/plugboard/tracing"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

func TestWithTraceContextEditsOnlyMeta(t *testing.T) {
	tc := tracing.Parent{Traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}
	tp := `"traceparent":"` + tc.Traceparent + `"`
	for _, c := range []struct{ params, want string }{
		{`{"name":"x","arguments":{"n":1.50}}`, `{"_meta":{` + tp + `},"name":"x","arguments":{"n":1.50}}`},
		{`{"name":"x","_meta":{"progressToken":7,"vendor/k":[1]}}`, `{"name":"x","_meta":{` + tp + `,"progressToken":7,"vendor/k":[1]}}`},
		{`{"_meta":{"traceparent":"00-old-old-00","tracestate":"a=1"}}`, `{"_meta":{` + tp + `,"tracestate":"a=1"}}`},
		{`{"_meta":null}`, `{"_meta":{` + tp + `}}`},
		{``, `{"_meta":{` + tp + `}}`},
		{`null`, `{"_meta":{` + tp + `}}`},
		{`[1,2]`, `[1,2]`},
	} {
		if got := string(withTraceContext(json.RawMessage(c.params), tc)); got != c.want {
			t.Errorf("withTraceContext(%s) = %s, want %s", c.params, got, c.want)
		}
	}
	withState := withTraceContext(json.RawMessage(`{}`), tracing.Parent{Traceparent: "tp", Tracestate: "s=1"})
	if got := traceParent(withState); got.Traceparent != "tp" || got.Tracestate != "s=1" {
		t.Errorf("traceParent(%s) = %+v", withState, got)
	}
	if got := traceParent(json.RawMessage(`{"_meta":{"traceparent":3}}`)); got != (tracing.Parent{}) {
		t.Errorf("a traceparent that is not a string was read: %+v", got)
	}
}

func TestCallOutcome(t *testing.T) {
	for _, c := range []struct {
		method string
		done   callDone
		want   metrics.Outcome
	}{
		{"tools/call", callDone{result: json.RawMessage(`{"content":[]}`)}, metrics.OK},
		{"tools/call", callDone{result: json.RawMessage(`{"content":[],"isError":true}`)}, metrics.ToolError},
		{"tools/call", callDone{result: json.RawMessage(`{"content":[], "isError" : true }`)}, metrics.ToolError},
		{"tools/call", callDone{result: json.RawMessage(`{"content":[],"isError":false}`)}, metrics.OK},
		// A text that mentions isError is not the result's member.
		{"tools/call", callDone{result: json.RawMessage(`{"content":[{"type":"text","text":"\"isError\":true"}]}`)}, metrics.OK},
		{"tools/call", callDone{rpcErr: &messages.RPCError{Code: -32603, Message: "boom"}}, metrics.Error},
		{"tools/call", callDone{err: context.DeadlineExceeded}, metrics.Timeout},
		{"tools/call", callDone{err: errors.New("HTTP 500")}, metrics.Failed},
		{"completion/complete", callDone{rpcErr: &messages.RPCError{Code: messages.CodeMethodNotFound}}, metrics.OK},
		{"resources/read", callDone{result: json.RawMessage(`{"contents":[],"isError":true}`)}, metrics.OK},
	} {
		if got, _ := callOutcome(c.method, &c.done); got != c.want {
			t.Errorf("callOutcome(%s, %+v) = %s, want %s", c.method, c.done, got, c.want)
		}
	}
}

// BenchmarkToolsCallRoundTripObserved is BenchmarkToolsCallRoundTrip with
// metrics on, and with metrics and traces on (spans exported to nowhere):
// what recording adds to a call, against BenchmarkToolsCallRoundTrip.
func BenchmarkToolsCallRoundTripObserved(b *testing.B) {
	b.Run("metrics", func(b *testing.B) {
		benchToolsCallRoundTrip(b, Options{Metrics: metrics.New(metrics.Options{})})
	})
	b.Run("metrics+traces", func(b *testing.B) {
		tracer := tracing.New(sdktrace.NewBatchSpanProcessor(tracetest.NewNoopExporter()), "bench")
		defer tracer.Shutdown(context.Background())
		benchToolsCallRoundTrip(b, Options{Metrics: metrics.New(metrics.Options{}), Tracer: tracer})
	})
}

func TestTelemetryRecordsTimeoutsAndCancellations(t *testing.T) {
	bin := buildFixture(t)
	meter := metrics.New(metrics.Options{})
	recorder := tracetest.NewSpanRecorder()
	server := fixtureConfig(bin, "fx")
	server.Timeout = 300 * time.Millisecond
	cfg := &config.Config{StartupTimeout: 10 * time.Second, PageSize: 100, Servers: []config.Server{server}}
	sys := Start(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), Options{Metrics: meter, Tracer: tracing.New(recorder, "test")})
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = sys.Shutdown(ctx)
	})
	s := openSession(t, sys, `{}`, nil)
	s.call("tools/list", `{}`)

	if line := s.call("tools/call", `{"name":"fx__hang","arguments":{}}`); !strings.Contains(line, "timed out") {
		t.Fatalf("fx__hang: %s, want a timeout", line)
	}
	s.write(`{"jsonrpc":"2.0","id":"sleepy","method":"tools/call","params":{"name":"fx__sleep","arguments":{"ms":20000}}}`)
	s.write(`{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":"sleepy","reason":"changed my mind"}}`)

	scraped := func() string {
		rec := httptest.NewRecorder()
		meter.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
		return rec.Body.String()
	}
	want := []string{
		`plugboard_server_calls_total{method="tools/call",outcome="timeout",server="fx"} 1`,
		`plugboard_server_calls_total{method="tools/call",outcome="cancelled",server="fx"} 1`,
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		text, missing := scraped(), ""
		for _, w := range want {
			if !strings.Contains(text, w) {
				missing = w
			}
		}
		if missing == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s in\n%s", missing, text)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if traffic := meter.ServerTraffic()["fx"]; traffic.Calls != 2 || traffic.Errors != 2 || traffic.LatencyCount != 2 {
		t.Errorf("ServerTraffic = %+v, want 2 calls, both errors, both timed", traffic)
	}

	// Each call has its span, ended with its outcome, under the span of
	// the client's request (the cancelled one's ends just after it is
	// counted).
	linked := func() (map[string]string, map[string]bool) {
		outcomes, requests := map[string]string{}, map[string]bool{}
		for _, span := range recorder.Ended() {
			switch span.Name() {
			case "tools/call fx":
				for _, a := range span.Attributes() {
					if a.Key == "plugboard.outcome" {
						outcomes[a.Value.AsString()] = span.Parent().SpanID().String()
					}
				}
			case "tools/call":
				requests[span.SpanContext().SpanID().String()] = true
			}
		}
		return outcomes, requests
	}
	deadline = time.Now().Add(10 * time.Second)
	for {
		outcomes, requests := linked()
		ok := true
		for _, o := range []string{"timeout", "cancelled"} {
			if parent, ended := outcomes[o]; !ended || !requests[parent] {
				ok = false
			}
		}
		if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("call spans by outcome %v (their parents), request spans %v: want a timeout and a cancelled call, each under a request's span", outcomes, requests)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
