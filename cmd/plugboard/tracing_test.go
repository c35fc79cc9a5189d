package main

import (
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"
)

// otlpReceiver is an OTLP/HTTP trace collector: it keeps every span it is
// sent.
type otlpReceiver struct {
	mu    sync.Mutex
	spans []*tracepb.Span
}

func newOTLPReceiver(t *testing.T) (*otlpReceiver, string) {
	r := &otlpReceiver{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.URL.Path != "/v1/traces" || req.Header.Get("Content-Type") != "application/x-protobuf" {
			http.Error(w, "not OTLP/HTTP protobuf traces", http.StatusNotFound)
			return
		}
		body, err := io.ReadAll(req.Body)
		var export coltracepb.ExportTraceServiceRequest
		if err == nil {
			err = proto.Unmarshal(body, &export)
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.mu.Lock()
		for _, rs := range export.ResourceSpans {
			for _, ss := range rs.ScopeSpans {
				r.spans = append(r.spans, ss.Spans...)
			}
		}
		r.mu.Unlock()
		out, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
		w.Header().Set("Content-Type", "application/x-protobuf")
		_, _ = w.Write(out)
	}))
	t.Cleanup(srv.Close)
	return r, srv.URL
}

// span returns the span named name received so far, or nil.
func (r *otlpReceiver) span(name string) *tracepb.Span {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range r.spans {
		if s.Name == name {
			return s
		}
	}
	return nil
}

const (
	clientTraceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	clientSpanID  = "00f067aa0ba902b7"
)

// metaSeen calls meta_echo with a traceparent in _meta and returns the
// _meta the server received.
func metaSeen(t *testing.T, c *client) map[string]any {
	t.Helper()
	res := c.mustCall("tools/call", map[string]any{
		"name": "alpha__meta_echo", "arguments": map[string]any{},
		"_meta": map[string]any{"traceparent": "00-" + clientTraceID + "-" + clientSpanID + "-01", "tracestate": "vendor=1", "vendor/x": 7},
	})
	var meta map[string]any
	if err := json.Unmarshal([]byte(textOf(t, res)), &meta); err != nil {
		t.Fatalf("meta_echo answered %s: %v", res, err)
	}
	return meta
}

// startFixtureStdio starts plugboard in stdio mode with env and the
// fixture server alpha, and initializes a session with its tools listed.
func startFixtureStdio(t *testing.T, env ...string) *client {
	t.Helper()
	c := launchCommandEnv(t, append(env, "XDG_RUNTIME_DIR="+t.TempDir()),
		plugboardBin, "--config", writeConfig(t, "servers:\n"+fixtureServer("alpha")))
	if res := c.call("initialize", map[string]any{"protocolVersion": "2025-06-18", "capabilities": map[string]any{},
		"clientInfo": map[string]any{"name": "e2e", "version": "1"}}); res.Error != nil {
		t.Fatalf("initialize: %s", res.raw)
	}
	c.notify("notifications/initialized", nil)
	c.mustCall("tools/list", nil)
	return c
}

func TestTracesLinkTheClientsRequestToTheServersCall(t *testing.T) {
	receiver, endpoint := newOTLPReceiver(t)
	meta := metaSeen(t, startFixtureStdio(t, "OTEL_EXPORTER_OTLP_ENDPOINT="+endpoint, "OTEL_BSP_SCHEDULE_DELAY=50"))

	// The server got the trace context of plugboard's span of the call,
	// in the client's trace; the rest of _meta as the client sent it.
	parts := strings.Split(meta["traceparent"].(string), "-")
	if len(parts) != 4 || parts[0] != "00" || parts[1] != clientTraceID || parts[2] == clientSpanID || parts[3] != "01" {
		t.Fatalf("the server got traceparent %v, want plugboard's span in trace %s", meta["traceparent"], clientTraceID)
	}
	if meta["tracestate"] != "vendor=1" || meta["vendor/x"] != float64(7) {
		t.Errorf("the server got _meta %v, want tracestate and vendor/x as the client sent them", meta)
	}

	var request, call *tracepb.Span
	eventually(t, 10*time.Second, "both spans exported", func() bool {
		request, call = receiver.span("tools/call"), receiver.span("tools/call alpha")
		return request != nil && call != nil
	})
	hexOf := hex.EncodeToString
	if hexOf(request.TraceId) != clientTraceID || hexOf(request.ParentSpanId) != clientSpanID || request.Kind != tracepb.Span_SPAN_KIND_SERVER {
		t.Errorf("the client request's span: trace %s parent %s kind %v, want trace %s parent %s (the client's) kind server",
			hexOf(request.TraceId), hexOf(request.ParentSpanId), request.Kind, clientTraceID, clientSpanID)
	}
	if hexOf(call.TraceId) != clientTraceID || string(call.ParentSpanId) != string(request.SpanId) || call.Kind != tracepb.Span_SPAN_KIND_CLIENT {
		t.Errorf("the server call's span: trace %s parent %s kind %v, want trace %s parent %s (the request's span) kind client",
			hexOf(call.TraceId), hexOf(call.ParentSpanId), call.Kind, clientTraceID, hexOf(request.SpanId))
	}
	if hexOf(call.SpanId) != parts[2] {
		t.Errorf("the server got parent span %s, want the call's span %s", parts[2], hexOf(call.SpanId))
	}
}

func TestWithoutAnOTLPEndpointTheClientsTraceContextPassesUntouched(t *testing.T) {
	meta := metaSeen(t, startFixtureStdio(t, "OTEL_EXPORTER_OTLP_ENDPOINT=", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT="))
	if want := "00-" + clientTraceID + "-" + clientSpanID + "-01"; meta["traceparent"] != want {
		t.Errorf("the server got traceparent %v, want the client's %s", meta["traceparent"], want)
	}
}
