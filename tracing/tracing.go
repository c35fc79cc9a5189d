// Package tracing gives plugboard's requests OpenTelemetry spans: one for
// each client request, and a child of it for each request sent to a
// server, linked across processes by W3C trace context (the traceparent
// and tracestate that MCP carries in params._meta). It is on only when
// the OpenTelemetry environment names an OTLP endpoint; off, there is no
// Tracer, and callers hold a nil one.
//
// The package knows nothing of JSON-RPC: callers read and write _meta.
package tracing

import (
	"context"
	"fmt"
	"os"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.39.0"
	"go.opentelemetry.io/otel/trace"
)

// Tracer starts plugboard's spans and sends them to an exporter.
type Tracer struct {
	provider *sdktrace.TracerProvider
	tracer   trace.Tracer
	context  propagation.TraceContext
}

// Enabled reports whether the environment asks for traces: it names an
// OTLP endpoint (OTEL_EXPORTER_OTLP_ENDPOINT or
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) and does not turn the SDK off
// (OTEL_SDK_DISABLED=true) or choose no traces exporter
// (OTEL_TRACES_EXPORTER=none).
func Enabled(getenv func(string) string) bool {
	if getenv("OTEL_SDK_DISABLED") == "true" || getenv("OTEL_TRACES_EXPORTER") == "none" {
		return false
	}
	return getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != ""
}

// FromEnvironment returns a Tracer exporting over OTLP/HTTP (protobuf) as
// the OTEL_EXPORTER_OTLP_* variables say, or nil when Enabled is false.
// version is plugboard's, for the service.version resource attribute;
// OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES are honoured.
func FromEnvironment(ctx context.Context, version string) (*Tracer, error) {
	if !Enabled(os.Getenv) {
		return nil, nil
	}
	exporter, err := otlptracehttp.New(ctx)
	if err != nil {
		return nil, fmt.Errorf("starting the OTLP trace exporter: %w", err)
	}
	return New(sdktrace.NewBatchSpanProcessor(exporter), version), nil
}

// New returns a Tracer whose spans end in processor (tests give a
// tracetest.SpanRecorder).
func New(processor sdktrace.SpanProcessor, version string) *Tracer {
	res, err := resource.Merge(resource.Default(), resource.NewSchemaless(
		semconv.ServiceName("plugboard"), semconv.ServiceVersion(version)))
	if err != nil {
		res = resource.Default()
	}
	// The environment's service name (resource.Default reads
	// OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES) wins over ours.
	if env, err := resource.New(context.Background(), resource.WithFromEnv()); err == nil {
		if merged, err := resource.Merge(res, env); err == nil {
			res = merged
		}
	}
	provider := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(processor), sdktrace.WithResource(res))
	return &Tracer{provider: provider, tracer: provider.Tracer("github.com/plugboard/plugboard")}
}

// Shutdown sends the spans not yet exported and stops the exporter.
func (t *Tracer) Shutdown(ctx context.Context) error {
	if t == nil {
		return nil
	}
	return t.provider.Shutdown(ctx)
}

// Parent is the trace context a span continues: W3C traceparent and
// tracestate values, empty when there is none.
type Parent struct {
	Traceparent, Tracestate string
}

// Span is one started span; a nil *Span does nothing.
type Span struct {
	span trace.Span
}

// StartRequest starts the span of a client's request for method, in the
// trace of parent when the client sent one (it is ignored when invalid).
func (t *Tracer) StartRequest(method string, parent Parent) *Span {
	return t.start(method, parent, trace.SpanKindServer, []attribute.KeyValue{attribute.String("mcp.method.name", method)})
}

// StartCall starts the span of a request for method sent to server, as a
// child of parent (the client request's span, as its traceparent).
func (t *Tracer) StartCall(server, method string, parent Parent) *Span {
	return t.start(method+" "+server, parent, trace.SpanKindClient,
		[]attribute.KeyValue{attribute.String("mcp.method.name", method), attribute.String("plugboard.server", server)})
}

func (t *Tracer) start(name string, parent Parent, kind trace.SpanKind, attrs []attribute.KeyValue) *Span {
	ctx := context.Background()
	if parent.Traceparent != "" {
		ctx = t.context.Extract(ctx, propagation.MapCarrier{"traceparent": parent.Traceparent, "tracestate": parent.Tracestate})
	}
	_, span := t.tracer.Start(ctx, name, trace.WithSpanKind(kind), trace.WithAttributes(attrs...))
	return &Span{span: span}
}

// Context is the span's trace context to propagate to whoever works on
// its behalf.
func (s *Span) Context() Parent {
	if s == nil {
		return Parent{}
	}
	sc := s.span.SpanContext()
	if !sc.IsValid() {
		return Parent{}
	}
	// W3C trace context, version 00: what propagation.TraceContext
	// writes, without a carrier map.
	return Parent{
		Traceparent: "00-" + sc.TraceID().String() + "-" + sc.SpanID().String() + "-" + sc.TraceFlags().String(),
		Tracestate:  sc.TraceState().String(),
	}
}

// End ends the span; a non-empty failure marks it failed, saying why.
func (s *Span) End(outcome, failure string) {
	if s == nil {
		return
	}
	if outcome != "" {
		s.span.SetAttributes(attribute.String("plugboard.outcome", outcome))
	}
	if failure != "" {
		s.span.SetStatus(codes.Error, failure)
	}
	s.span.End()
}
