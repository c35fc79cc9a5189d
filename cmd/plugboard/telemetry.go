package main

import (
	"context"
	"log/slog"
	"os"
	"time"

	"github.com/plugboard/plugboard/actors"
	"github.com/plugboard/plugboard/config"
	"github.com/plugboard/plugboard/metrics"
	"github.com/plugboard/plugboard/tracing"
)

// startTracing returns the tracer the OpenTelemetry environment asks for
// (OTEL_EXPORTER_OTLP_ENDPOINT), or nil; stop sends the spans not yet
// exported. A tracer that cannot start is warned about, not fatal.
func startTracing(log *slog.Logger) (tracer *tracing.Tracer, stop func()) {
	tracer, err := tracing.FromEnvironment(context.Background(), actors.Version)
	if err != nil {
		log.Warn("traces are off", "err", err)
		return nil, func() {}
	}
	if tracer == nil {
		return nil, func() {}
	}
	for _, v := range []string{"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"} {
		if p := os.Getenv(v); p != "" && p != "http/protobuf" {
			log.Warn("traces go over OTLP/HTTP with protobuf only; "+v+" is ignored", "protocol", p)
			break
		}
	}
	log.Info("sending traces over OTLP, as OTEL_EXPORTER_OTLP_* say")
	return tracer, func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := tracer.Shutdown(ctx); err != nil {
			log.Warn("sending the last traces", "err", err)
		}
	}
}

// serverStates are the values of plugboard_server_state's state label.
var serverStates = []string{actors.StateReady, actors.StateStarting, actors.StateRestarting, actors.StateFailed,
	actors.StateDisabled, actors.StateIdle, actors.StateNeedsLogin}

// newMetrics returns the metrics `plugboard serve` records and serves.
func newMetrics(cfg *config.Config) *metrics.Metrics {
	return metrics.New(metrics.Options{ToolLabels: cfg.Metrics.ToolLabels})
}

// observeServers makes each scrape of m ask sys for its servers' state.
func observeServers(m *metrics.Metrics, sys *actors.System, log *slog.Logger) {
	m.ObserveServers(serverStates, func(ctx context.Context) ([]metrics.ServerState, error) {
		status, err := sys.Status(ctx)
		if err != nil {
			return nil, err
		}
		out := make([]metrics.ServerState, len(status))
		for i, st := range status {
			out[i] = metrics.ServerState{Name: st.Name, State: st.State, Tools: st.Tools, Restarts: st.Restarts,
				InFlight: st.InFlight - st.Queued, Queued: st.Queued}
		}
		return out, nil
	}, log)
}
