package metrics

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// ServerState is what the actors know of one server at a scrape.
type ServerState struct {
	Name     string
	State    string // one of the states given to ObserveServers
	Tools    int
	Restarts int // since plugboard started, or since the server was last reconfigured
	InFlight int // clients' requests sent to it and not answered
	Queued   int // clients' requests waiting for a slot or for the server to be ready
}

// scrapeTimeout bounds how long a scrape waits for the actors' answer.
const scrapeTimeout = 5 * time.Second

// ObserveServers makes each scrape ask servers for every server's state,
// tools, restarts and requests in flight and queued: nothing is recorded
// as they change. states are every value State can take; the state
// metric has a series per state, 1 for the current one.
func (m *Metrics) ObserveServers(states []string, servers func(ctx context.Context) ([]ServerState, error), log *slog.Logger) {
	if m == nil {
		return
	}
	m.registry.MustRegister(&serverCollector{states: states, servers: servers, log: log})
}

var (
	stateDesc = prometheus.NewDesc("plugboard_server_state",
		"The server's state: 1 for the state it is in, 0 for the others.", []string{"server", "state"}, nil)
	toolsDesc = prometheus.NewDesc("plugboard_server_tools",
		"Tools the server lists, after its filters.", []string{"server"}, nil)
	restartsDesc = prometheus.NewDesc("plugboard_server_restarts_total",
		"Times the server was restarted after it failed.", []string{"server"}, nil)
	inFlightDesc = prometheus.NewDesc("plugboard_server_in_flight",
		"Client requests sent to the server and not answered yet.", []string{"server"}, nil)
	queuedDesc = prometheus.NewDesc("plugboard_server_queued",
		"Client requests waiting for a slot at the server, or for it to be ready.", []string{"server"}, nil)
)

// serverCollector asks the actors at scrape time.
type serverCollector struct {
	states  []string
	servers func(ctx context.Context) ([]ServerState, error)
	log     *slog.Logger
}

func (c *serverCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{stateDesc, toolsDesc, restartsDesc, inFlightDesc, queuedDesc} {
		ch <- d
	}
}

func (c *serverCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	servers, err := c.servers(ctx)
	if err != nil {
		if c.log != nil {
			c.log.Warn("metrics: the servers' state is left out of this scrape", "err", err)
		}
		ch <- prometheus.NewInvalidMetric(stateDesc, err)
		return
	}
	for _, s := range servers {
		for _, state := range c.states {
			v := 0.0
			if state == s.State {
				v = 1
			}
			ch <- prometheus.MustNewConstMetric(stateDesc, prometheus.GaugeValue, v, s.Name, state)
		}
		ch <- prometheus.MustNewConstMetric(toolsDesc, prometheus.GaugeValue, float64(s.Tools), s.Name)
		ch <- prometheus.MustNewConstMetric(restartsDesc, prometheus.CounterValue, float64(s.Restarts), s.Name)
		ch <- prometheus.MustNewConstMetric(inFlightDesc, prometheus.GaugeValue, float64(s.InFlight), s.Name)
		ch <- prometheus.MustNewConstMetric(queuedDesc, prometheus.GaugeValue, float64(s.Queued), s.Name)
	}
}
