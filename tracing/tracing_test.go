package tracing

import (
	"context"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

func TestEnabledOnlyWithAnEndpoint(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		want bool
	}{
		{map[string]string{}, false},
		{map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, true},
		{map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"}, true},
		{map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318", "OTEL_SDK_DISABLED": "true"}, false},
		{map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318", "OTEL_TRACES_EXPORTER": "none"}, false},
	} {
		if got := Enabled(func(k string) string { return tc.env[k] }); got != tc.want {
			t.Errorf("Enabled(%v) = %v, want %v", tc.env, got, tc.want)
		}
	}
}

func TestSpansAreLinkedThroughTheirTraceContext(t *testing.T) {
	recorder := tracetest.NewSpanRecorder()
	tr := New(recorder, "test")
	const clientTrace, clientSpan = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	request := tr.StartRequest("tools/call", Parent{Traceparent: "00-" + clientTrace + "-" + clientSpan + "-01", Tracestate: "vendor=1"})
	call := tr.StartCall("github", "tools/call", request.Context())
	tc := call.Context()
	call.End("error", "the server failed")
	request.End("ok", "")

	if !strings.HasPrefix(tc.Traceparent, "00-"+clientTrace+"-") || tc.Tracestate != "vendor=1" {
		t.Errorf("the call's context is %+v, want the client's trace and tracestate", tc)
	}
	ended := recorder.Ended()
	if len(ended) != 2 {
		t.Fatalf("%d spans ended, want 2", len(ended))
	}
	callSpan, requestSpan := ended[0], ended[1]
	if requestSpan.Parent().SpanID().String() != clientSpan || requestSpan.SpanContext().TraceID().String() != clientTrace || requestSpan.SpanKind() != trace.SpanKindServer {
		t.Errorf("request span: parent %s trace %s kind %v", requestSpan.Parent().SpanID(), requestSpan.SpanContext().TraceID(), requestSpan.SpanKind())
	}
	if callSpan.Parent().SpanID() != requestSpan.SpanContext().SpanID() || callSpan.Name() != "tools/call github" || callSpan.SpanKind() != trace.SpanKindClient {
		t.Errorf("call span %q: parent %s, want the request's %s", callSpan.Name(), callSpan.Parent().SpanID(), requestSpan.SpanContext().SpanID())
	}
	if callSpan.Status().Description != "the server failed" || !strings.Contains(tc.Traceparent, callSpan.SpanContext().SpanID().String()) {
		t.Errorf("call span status %+v; propagated %s", callSpan.Status(), tc.Traceparent)
	}
}

func TestContextIsWhatTheW3CPropagatorWrites(t *testing.T) {
	tr := New(tracetest.NewSpanRecorder(), "test")
	span := tr.StartRequest("tools/call", Parent{Traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", Tracestate: "a=1,b=2"})
	carrier := propagation.MapCarrier{}
	propagation.TraceContext{}.Inject(trace.ContextWithSpan(context.Background(), span.span), carrier)
	if got := span.Context(); got.Traceparent != carrier["traceparent"] || got.Tracestate != carrier["tracestate"] {
		t.Errorf("Context() = %+v, the propagator writes %v", got, carrier)
	}
}

func TestAnInvalidTraceparentStartsANewTrace(t *testing.T) {
	recorder := tracetest.NewSpanRecorder()
	tr := New(recorder, "test")
	tr.StartRequest("tools/call", Parent{Traceparent: "garbage"}).End("ok", "")
	if s := recorder.Ended()[0]; s.Parent().IsValid() || !s.SpanContext().IsValid() {
		t.Errorf("span parent %v valid %v, want a root span", s.Parent(), s.SpanContext().IsValid())
	}
}

func TestNilSpansAndTracersDoNothing(t *testing.T) {
	var s *Span
	s.End("ok", "")
	if s.Context() != (Parent{}) {
		t.Errorf("a nil span has a context")
	}
	var tr *Tracer
	if err := tr.Shutdown(t.Context()); err != nil {
		t.Error(err)
	}
}
