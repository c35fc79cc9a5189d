package actors

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/plugboard/plugboard/messages"
	"github.com/plugboard/plugboard/metrics"
	"github.com/plugboard/plugboard/tracing"
	"github.com/plugboard/plugboard/transports"
)

// telemetry is where the actors record what they do: Prometheus metrics
// and OpenTelemetry traces. Either may be nil (off); recording into a nil
// one is a nil check.
type telemetry struct {
	metrics *metrics.Metrics
	tracer  *tracing.Tracer
}

// callObservation is what a server actor keeps of a client's call for
// its metrics and its span.
type callObservation struct {
	sent time.Time     // zero unless metrics are on
	tool string        // the server's tool name, with metrics.tool_labels only
	span *tracing.Span // nil unless traces are on
}

// observeSent starts observing a client's call being sent: it returns the
// params to send, which carry the call's span's trace context in _meta
// when traces are on.
func (s *serverActor) observeSent(p *pendingCall, params json.RawMessage) json.RawMessage {
	if p.session == nil {
		return params // plugboard's own requests are neither counted nor traced
	}
	if s.meter != nil {
		p.observed.sent = time.Now()
		if p.method == "tools/call" && s.meter.WantsToolNames() {
			p.observed.tool = stringField(params, "name")
		}
	}
	if s.tracer == nil {
		return params
	}
	p.observed.span = s.tracer.StartCall(s.cfg.Name, p.method, traceParent(params))
	return withTraceContext(params, p.observed.span.Context())
}

// observeDone records how a call that was answered (or failed alone)
// ended.
func (s *serverActor) observeDone(p *pendingCall, msg *callDone) {
	if p.session == nil || (s.meter == nil && p.observed.span == nil) {
		return
	}
	outcome, failure := callOutcome(p.method, msg)
	s.observeEnd(p, outcome, failure)
}

// observeEnd records that a call ended with outcome; failure says why
// when it failed.
func (s *serverActor) observeEnd(p *pendingCall, outcome metrics.Outcome, failure string) {
	if p.session == nil {
		return
	}
	var took time.Duration
	if !p.observed.sent.IsZero() {
		took = time.Since(p.observed.sent)
	}
	s.meter.Called(p.method, p.observed.tool, outcome, took)
	p.observed.span.End(outcome.String(), failure)
}

// observeWithdrawn counts a queued request the client cancelled; it is
// always true, for use in withdraw's match.
func (s *serverActor) observeWithdrawn(f *messages.Forward) bool {
	s.meter.Called(f.Method, "", metrics.Cancelled, 0)
	return true
}

// callOutcome classifies a call's answer.
func callOutcome(method string, msg *callDone) (metrics.Outcome, string) {
	switch {
	case msg.err != nil && errors.Is(msg.err, context.DeadlineExceeded):
		return metrics.Timeout, "timed out"
	case msg.err != nil:
		return metrics.Failed, msg.err.Error()
	case msg.rpcErr != nil && msg.rpcErr.Code == messages.CodeMethodNotFound && method == "completion/complete":
		return metrics.OK, "" // the client gets an empty completion
	case msg.rpcErr != nil:
		return metrics.Error, msg.rpcErr.Message
	case method == "tools/call" && isToolError(msg.result):
		return metrics.ToolError, "the tool reported an error"
	}
	return metrics.OK, ""
}

var isErrorMember = []byte(`"isError"`)

// isToolError reports whether a tools/call result says isError: true. The
// member's name is searched for first: most results lack it, and finding
// that out is a fast byte search, not a parse.
func isToolError(result json.RawMessage) bool {
	if !bytes.Contains(result, isErrorMember) {
		return false
	}
	return bytes.Equal(field(result, "isError"), []byte("true"))
}

// stringField is obj's top-level string member key, or "".
func stringField(obj json.RawMessage, key string) string {
	var s string
	if raw := field(obj, key); raw == nil || json.Unmarshal(raw, &s) != nil {
		return ""
	}
	return s
}

// traceParent is the W3C trace context in params._meta, as MCP carries
// it; empty when there is none.
func traceParent(params json.RawMessage) tracing.Parent {
	meta := field(params, "_meta")
	if meta == nil {
		return tracing.Parent{}
	}
	return tracing.Parent{Traceparent: stringField(meta, "traceparent"), Tracestate: stringField(meta, "tracestate")}
}

// withTraceContext returns params with _meta.traceparent (and
// _meta.tracestate, when there is one) set to tc, every other byte kept.
// Params that are not an object are returned unchanged.
func withTraceContext(params json.RawMessage, tc tracing.Parent) json.RawMessage {
	if tc.Traceparent == "" {
		return params
	}
	trimmed := bytes.TrimSpace(params)
	if len(trimmed) == 0 || string(trimmed) == "null" {
		params = json.RawMessage(`{}`)
	}
	meta := field(params, "_meta")
	if meta == nil || bytes.Equal(bytes.TrimSpace(meta), []byte("null")) {
		meta = json.RawMessage(`{}`)
	}
	meta, err := setField(meta, "traceparent", quoteJSON(tc.Traceparent))
	if err != nil {
		return params
	}
	if tc.Tracestate != "" {
		if meta, err = setField(meta, "tracestate", quoteJSON(tc.Tracestate)); err != nil {
			return params
		}
	}
	out, err := setField(params, "_meta", meta)
	if err != nil {
		return params
	}
	return out
}

// frontTelemetry is what a front records into: its transport's counters,
// and the spans of the client's requests in flight.
type frontTelemetry struct {
	metrics *metrics.Metrics
	frames  *metrics.Front // its transport's; nil until the transport is named
	tracer  *tracing.Tracer
	spans   map[string]*tracing.Span // by the client's raw id; nil unless traces are on
}

// observeTransport counts the session as open over transport.
func (f *frontActor) observeTransport(transport string) {
	if f.tel.metrics == nil {
		return
	}
	f.tel.frames.SessionClosed() // named twice: counted under the last name
	f.tel.frames = f.tel.metrics.Front(transport)
	f.tel.frames.SessionOpened()
}

// observeRejected counts a client message refused before it was read.
func (f *frontActor) observeRejected(e *transports.FrameError) {
	if f.tel.metrics == nil {
		return
	}
	f.tel.frames.Received()
	if bytes.Contains([]byte(e.Message), []byte(transports.ErrFrameTooLarge.Error())) {
		f.tel.metrics.Refused(metrics.RefusedTooLarge)
	} else {
		f.tel.metrics.Refused(metrics.RefusedBadInput)
	}
}

// routedMethods are the requests a server answers: their span's context
// goes with them, for the server's span to be its child.
func routedMethod(method string) bool {
	switch method {
	case "tools/call", "prompts/get", "resources/read", "resources/subscribe", "resources/unsubscribe", "completion/complete":
		return true
	}
	return false
}

// traceRequest starts the span of a client's request, in the client's
// trace when its _meta carries one, and puts the span's context in the
// request's _meta for the server's span to continue.
func (f *frontActor) traceRequest(fr *transports.Frame) {
	if f.tel.spans == nil {
		f.tel.spans = map[string]*tracing.Span{}
	}
	span := f.tel.tracer.StartRequest(fr.Method, traceParent(fr.Params))
	f.tel.spans[string(fr.ID)] = span
	if routedMethod(fr.Method) {
		fr.Params = withTraceContext(fr.Params, span.Context())
	}
}

// traceAnswered ends the span of the client's request id: answered
// (failed when rpcErr is set), or cancelled when outcome says so.
func (f *frontActor) traceAnswered(id string, outcome string, rpcErr *messages.RPCError) {
	span, ok := f.tel.spans[id]
	if !ok {
		return
	}
	delete(f.tel.spans, id)
	failure := ""
	if rpcErr != nil {
		failure = rpcErr.Message
	}
	span.End(outcome, failure)
}

// outcomeOf is how a client's request was answered, for its span.
func outcomeOf(r *messages.Reply) string {
	if r.Error != nil {
		return "error"
	}
	return "ok"
}
