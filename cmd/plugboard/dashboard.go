package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/plugboard/plugboard/metrics"
	"github.com/plugboard/plugboard/transports"
	"github.com/plugboard/plugboard/ui"
)

// uiRequest is the socket's "ui": the dashboard's URL, and a login link
// that works once, within a minute (`plugboard ui` opens it).
const uiRequest = "ui"

// uiJSON answers uiRequest.
type uiJSON struct {
	URL   string `json:"url"`   // the dashboard
	Login string `json:"login"` // the dashboard, logged in, once
}

// dashboardDaemon answers the dashboard's requests with the unix socket's
// request table, in process: the dashboard shows and changes the daemon's
// state exactly as plugboard status, tools, workspace, restart and logs do.
type dashboardDaemon struct{ parts daemonParts }

// dashboardRequests are the socket's requests the dashboard may make.
var dashboardRequests = map[string]bool{statusRequest: true, toolsRequest: true, workspaceRequest: true, restartRequest: true, "logs": true}

// Ask sends one request line and returns the answer.
func (d dashboardDaemon) Ask(ctx context.Context, request string) (json.RawMessage, error) {
	word, _, _ := strings.Cut(request, " ")
	if !dashboardRequests[word] || strings.ContainsAny(request, "\r\n") {
		return nil, fmt.Errorf("the dashboard does not ask %q", word)
	}
	client, server := net.Pipe()
	defer client.Close()
	go serveSocketConn(server, d.parts)
	if deadline, ok := ctx.Deadline(); ok {
		_ = client.SetDeadline(deadline)
	}
	stop := context.AfterFunc(ctx, func() { _ = client.SetDeadline(time.Now()) })
	defer stop()
	answer, err := exchangeRequest(client, request, word)
	if err != nil {
		return nil, err
	}
	return json.RawMessage(answer), nil
}

// dashboardURL is the dashboard's address on the HTTP listener at addr:
// a loopback address when it listens on every interface.
func dashboardURL(addr net.Addr) string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return "http://" + addr.String() + "/ui/"
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
		if ip.To4() == nil {
			host = "::1"
		}
	}
	return "http://" + net.JoinHostPort(host, port) + "/ui/"
}

func answerUI(d daemonParts, _ []string, conn net.Conn) {
	if d.dashboard == nil {
		answerError(conn, "this plugboard serve has no dashboard")
		return
	}
	_ = json.NewEncoder(conn).Encode(uiJSON{URL: d.dashboardURL, Login: d.dashboardURL + "login?code=" + d.dashboard.LoginCode()})
}

// runUI prints the dashboard's URL of the running plugboard serve and
// opens it, logged in, in a browser.
func runUI(socket string, stdout, stderr io.Writer) int {
	answer, err := askDaemon(socket, uiRequest, statusTimeout)
	var out uiJSON
	if err == nil {
		err = json.Unmarshal(answer, &out)
	}
	if err != nil {
		fmt.Fprintln(stderr, "plugboard ui:", err)
		return exitFailure
	}
	fmt.Fprintln(stdout, out.URL)
	if len(browserCommands(out.Login)) == 0 {
		fmt.Fprintf(stdout, "no browser to open ($BROWSER is unset and there is no display); open this within a minute, once, to skip the login:\n%s\n", out.Login)
		return exitOK
	}
	select {
	case <-openBrowser(out.Login, "plugboard ui", stderr):
	case <-time.After(transports.BrowserWait):
	}
	return exitOK
}

// newDashboard returns the dashboard of a plugboard serve, asking for
// token ("" with --no-auth: no login, but changes still need the page's
// CSRF token). Its calls per second and latency are the metrics' counts.
func newDashboard(parts daemonParts, token string, meter *metrics.Metrics) *ui.Dashboard {
	opts := ui.Options{Daemon: dashboardDaemon{parts: parts}, Token: token, Log: parts.log}
	if meter != nil {
		opts.Traffic = meteredTraffic{meter}
	}
	return ui.New(opts)
}

// meteredTraffic gives the dashboard the metrics' per-server counts.
type meteredTraffic struct{ m *metrics.Metrics }

func (t meteredTraffic) ServerTraffic() map[string]ui.TrafficCounts {
	counts := t.m.ServerTraffic()
	out := make(map[string]ui.TrafficCounts, len(counts))
	for name, c := range counts {
		out[name] = ui.TrafficCounts{Calls: c.Calls, Errors: c.Errors, LatencySum: c.LatencySum, LatencyCount: c.LatencyCount}
	}
	return out
}
