package metrics

import (
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
)

// Options tune what Metrics records.
type Options struct {
	// ToolLabels adds plugboard_server_tool_calls_total, whose tool label
	// takes every tool name a server has (config metrics.tool_labels).
	ToolLabels bool
}

// Metrics is plugboard's Prometheus registry and the handles the actors
// record into. The zero value is not usable; a nil *Metrics records
// nothing.
type Metrics struct {
	registry   *prometheus.Registry
	toolLabels bool

	calls     *prometheus.CounterVec
	latency   *prometheus.HistogramVec
	toolCalls *prometheus.CounterVec
	sessions  *prometheus.GaugeVec
	framesIn  *prometheus.CounterVec
	framesOut *prometheus.CounterVec
	refused   *prometheus.CounterVec
	refusedBy map[string]prometheus.Counter // the refused counter of each known reason, resolved at New

	mu      sync.Mutex // guards servers; taken when a server actor starts, never per call
	servers map[string]*Server
	// fronts are the transports' handles: a 2026-07-28 request opens a
	// session of its own, so this is read per request, without a lock.
	fronts sync.Map // transport -> *Front
}

// New returns a registry with plugboard's metrics and the Go runtime's and
// the process's standard collectors.
func New(opts Options) *Metrics {
	m := &Metrics{
		registry:   prometheus.NewRegistry(),
		toolLabels: opts.ToolLabels,
		servers:    map[string]*Server{},
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "plugboard_server_calls_total",
			Help: "Client requests sent to a server (or refused for it), by method and outcome.",
		}, []string{"server", "method", "outcome"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "plugboard_server_call_duration_seconds",
			Help:    "Time from sending a client request to a server until its answer, by method.",
			Buckets: []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60},
		}, []string{"server", "method"}),
		sessions: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "plugboard_front_sessions_open",
			Help: "Client sessions open, by transport.",
		}, []string{"transport"}),
		framesIn: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "plugboard_front_frames_received_total",
			Help: "JSON-RPC messages received from clients, by transport.",
		}, []string{"transport"}),
		framesOut: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "plugboard_front_frames_sent_total",
			Help: "JSON-RPC messages sent to clients, by transport.",
		}, []string{"transport"}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "plugboard_front_refused_total",
			Help: "Client messages and sessions refused by the fronts, by reason (overloaded, too_large, bad_input).",
		}, []string{"reason"}),
	}
	m.registry.MustRegister(m.calls, m.latency, m.sessions, m.framesIn, m.framesOut, m.refused,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if opts.ToolLabels {
		m.toolCalls = prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "plugboard_server_tool_calls_total",
			Help: "tools/call requests sent to a server, by the server's tool name and outcome (metrics.tool_labels).",
		}, []string{"server", "tool", "outcome"})
		m.registry.MustRegister(m.toolCalls)
	}
	m.refusedBy = map[string]prometheus.Counter{}
	for _, reason := range []string{RefusedOverloaded, RefusedTooLarge, RefusedBadInput} {
		m.refusedBy[reason] = m.refused.WithLabelValues(reason)
	}
	return m
}

// Handler serves the metrics in Prometheus's text format (or OpenMetrics,
// when the scraper asks for it). A collector that fails (the actors did
// not answer in time) leaves its metrics out; the rest is served.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError, EnableOpenMetrics: true})
}

// Outcome is how a client request to a server ended.
type Outcome uint8

// Outcomes of a request, the values of the outcome label.
const (
	OK         Outcome = iota // answered with a result
	Error                     // answered with a JSON-RPC error
	ToolError                 // a tools/call answered with isError: true
	Failed                    // the request alone failed on its way (an HTTP error)
	Timeout                   // no answer within the server's timeout
	Overloaded                // refused: the server's in-flight and queue caps were reached
	Cancelled                 // the client cancelled it, or its session ended
	ServerDown                // the server exited, or was stopped or removed, with it pending
	numOutcomes
)

var outcomeNames = [numOutcomes]string{"ok", "error", "tool_error", "failed", "timeout", "overloaded", "cancelled", "server_down"}

// String is the outcome's label value.
func (o Outcome) String() string { return outcomeNames[o] }

// Reasons a front refuses a client's message or session.
const (
	RefusedOverloaded = "overloaded" // too many sessions
	RefusedTooLarge   = "too_large"  // a message over the frame limit
	RefusedBadInput   = "bad_input"  // not JSON, or not a valid JSON-RPC message
)

// methods are the values of the method label: the requests routed to a
// server, and "other" for the rest (subscriptions, logging, pings).
var methods = [...]string{"tools/call", "resources/read", "prompts/get", "completion/complete", "other"}

const numMethods = len(methods)

func methodIndex(method string) int {
	switch method {
	case "tools/call":
		return 0
	case "resources/read":
		return 1
	case "prompts/get":
		return 2
	case "completion/complete":
		return 3
	}
	return 4
}

// Server holds one server's handles. Recording resolves a labelled child
// the first time a method and outcome occur, and keeps it.
type Server struct {
	name       string
	m          *Metrics
	calls      [numMethods][numOutcomes]atomic.Pointer[counter]
	latency    [numMethods]atomic.Pointer[histogram]
	toolLabels bool
}

type counter struct{ prometheus.Counter }
type histogram struct{ prometheus.Histogram }

// Server returns the handles of the server named name, made on first use
// and shared by every actor of that server (its restarts, and its
// instances per session).
func (m *Metrics) Server(name string) *Server {
	if m == nil {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.servers[name]
	if s == nil {
		s = &Server{name: name, m: m, toolLabels: m.toolLabels}
		m.servers[name] = s
	}
	return s
}

// WantsToolNames reports whether Called wants the tool of a tools/call
// (metrics.tool_labels): callers read it only then.
func (s *Server) WantsToolNames() bool {
	return s != nil && s.toolLabels
}

// Called records a client request that ended with outcome, took long
// after it was sent (zero for one never sent: it is counted, not timed),
// and, with tool labels, was a call of tool.
func (s *Server) Called(method, tool string, outcome Outcome, took time.Duration) {
	if s == nil {
		return
	}
	i := methodIndex(method)
	c := s.calls[i][outcome].Load()
	if c == nil {
		c = &counter{s.m.calls.WithLabelValues(s.name, methods[i], outcome.String())}
		s.calls[i][outcome].Store(c)
	}
	c.Inc()
	if took > 0 {
		h := s.latency[i].Load()
		if h == nil {
			h = &histogram{s.m.latency.WithLabelValues(s.name, methods[i]).(prometheus.Histogram)}
			s.latency[i].Store(h)
		}
		h.Observe(took.Seconds())
	}
	if tool != "" && s.m.toolCalls != nil {
		s.m.toolCalls.WithLabelValues(s.name, tool, outcome.String()).Inc()
	}
}

// TrafficCounts are one server's totals since plugboard started: for a
// dashboard.
type TrafficCounts struct {
	Calls        uint64        // client requests, whatever their outcome
	Errors       uint64        // those whose outcome was not ok
	LatencySum   time.Duration // the time the timed ones took, summed
	LatencyCount uint64        // how many were timed (sent and ended)
}

// ServerTraffic returns every server's totals, by name. It reads the
// counters without stopping anyone recording.
func (m *Metrics) ServerTraffic() map[string]TrafficCounts {
	if m == nil {
		return nil
	}
	m.mu.Lock()
	servers := make([]*Server, 0, len(m.servers))
	for _, s := range m.servers {
		servers = append(servers, s)
	}
	m.mu.Unlock()
	out := make(map[string]TrafficCounts, len(servers))
	var d dto.Metric
	for _, s := range servers {
		var t TrafficCounts
		for i := range s.calls {
			for o := range s.calls[i] {
				if c := s.calls[i][o].Load(); c != nil && c.Write(&d) == nil {
					n := uint64(d.GetCounter().GetValue())
					t.Calls += n
					if Outcome(o) != OK {
						t.Errors += n
					}
				}
			}
			if h := s.latency[i].Load(); h != nil && h.Write(&d) == nil {
				t.LatencySum += time.Duration(d.GetHistogram().GetSampleSum() * float64(time.Second))
				t.LatencyCount += d.GetHistogram().GetSampleCount()
			}
		}
		out[s.name] = t
	}
	return out
}

// Front holds one client-facing transport's handles.
type Front struct {
	sessions prometheus.Gauge
	in, out  prometheus.Counter
}

// Front returns the handles of a transport ("stdio", "socket",
// "streamable-http", ...), made on first use.
func (m *Metrics) Front(transport string) *Front {
	if m == nil {
		return nil
	}
	if f, ok := m.fronts.Load(transport); ok {
		return f.(*Front)
	}
	f, _ := m.fronts.LoadOrStore(transport, &Front{sessions: m.sessions.WithLabelValues(transport),
		in: m.framesIn.WithLabelValues(transport), out: m.framesOut.WithLabelValues(transport)})
	return f.(*Front)
}

// SessionOpened counts a session open.
func (f *Front) SessionOpened() {
	if f != nil {
		f.sessions.Inc()
	}
}

// SessionClosed counts a session no longer open.
func (f *Front) SessionClosed() {
	if f != nil {
		f.sessions.Dec()
	}
}

// Received counts a message from a client.
func (f *Front) Received() {
	if f != nil {
		f.in.Inc()
	}
}

// Sent counts a message to a client.
func (f *Front) Sent() {
	if f != nil {
		f.out.Inc()
	}
}

// Refused counts a client message or session refused for reason
// (RefusedOverloaded, RefusedTooLarge, RefusedBadInput).
func (m *Metrics) Refused(reason string) {
	if m == nil {
		return
	}
	if c, ok := m.refusedBy[reason]; ok {
		c.Inc()
		return
	}
	m.refused.WithLabelValues(reason).Inc()
}
