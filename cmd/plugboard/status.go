package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/plugboard/plugboard/actors"
	"github.com/plugboard/plugboard/transports"
)

// The status request on the unix socket: one line, answered with one JSON
// line (statusJSON), then the connection closes. Its first byte, a letter
// no JSON text starts with, tells it from an MCP session, which starts
// with '{' or '['. The socket is the daemon's user's alone, so status
// needs no token, and it never goes over TCP.
const (
	statusRequest   = "status"
	statusTimeout   = 5 * time.Second
	maxStatusAnswer = 16 << 20
)

// statusJSON is what `plugboard status --json` prints and serve answers.
type statusJSON struct {
	PID      int                 `json:"pid"` // the daemon's
	Servers  []serverStatusJSON  `json:"servers"`
	Sessions []sessionStatusJSON `json:"sessions"`
	// PluggedIn is the plugged.in App's state, with a key.
	PluggedIn *appStatusJSON `json:"pluggedin,omitempty"`
}

type sessionStatusJSON struct {
	Transport  string `json:"transport"`
	ClientName string `json:"client_name"`
	Workspace  string `json:"workspace"`
	InFlight   int    `json:"in_flight"`
}

type serverStatusJSON struct {
	Name             string   `json:"name"`
	State            string   `json:"state"` // ready, starting, restarting, failed, disabled, idle, needs-login
	RetryInSeconds   float64  `json:"retry_in_seconds,omitempty"`
	Transport        string   `json:"transport"`
	Target           string   `json:"target"` // redacted URL, or the command without arguments
	Tools            int      `json:"tools"`
	Restarts         int      `json:"restarts"`
	RestartsOverSecs float64  `json:"restarts_over_seconds,omitempty"`
	LastFailureAgo   float64  `json:"last_failure_seconds_ago,omitempty"`
	LastFailure      string   `json:"last_failure,omitempty"`
	PID              int      `json:"pid,omitempty"`      // a stdio server's process, while it runs
	Revision         string   `json:"revision,omitempty"` // the protocol revision negotiated
	UptimeSeconds    float64  `json:"uptime_seconds,omitempty"`
	InFlight         int      `json:"in_flight"`
	Stderr           []string `json:"stderr,omitempty"` // its last lines, when it is not ready
}

// serveSocketConn serves one connection to the unix socket: a request
// line (socketRequests), or else an MCP session of newline-delimited
// JSON-RPC. A request line starts with a lowercase letter, which no JSON
// text does; a session starts with '{' or '['.
func serveSocketConn(conn net.Conn, d daemonParts) {
	defer conn.Close()
	r := bufio.NewReader(conn)
	first, err := r.Peek(1)
	if err != nil {
		return
	}
	if first[0] >= 'a' && first[0] <= 'z' {
		answerRequest(r, conn, d)
		return
	}
	<-d.sys.ServeStreamOver("socket", r, conn, transports.DefaultMaxFrame)
}

func answerStatus(d daemonParts, _ []string, conn net.Conn) {
	sys, log := d.sys, d.log
	_ = conn.SetDeadline(time.Now().Add(2 * statusTimeout))
	ctx, cancel := context.WithTimeout(context.Background(), statusTimeout)
	defer cancel()
	servers, err := sys.Status(ctx)
	var sessions []actors.SessionStatus
	if err == nil {
		sessions, err = sys.Sessions(ctx)
	}
	if err != nil {
		log.Warn("status", "err", err)
		answerError(conn, err.Error())
		return
	}
	out := statusJSON{PID: os.Getpid(), Servers: make([]serverStatusJSON, 0, len(servers)), Sessions: make([]sessionStatusJSON, 0, len(sessions)),
		PluggedIn: d.app.status()}
	for _, s := range servers {
		out.Servers = append(out.Servers, serverStatusJSON{
			Name: s.Name, State: s.State, RetryInSeconds: s.RetryIn.Seconds(), Transport: s.Transport, Target: s.Target,
			Tools: s.Tools, Restarts: s.Restarts, RestartsOverSecs: s.RestartsOver.Seconds(),
			LastFailureAgo: s.LastFailure.Seconds(), LastFailure: s.Reason,
			PID: s.ProcessID, Revision: s.Revision, UptimeSeconds: s.Uptime.Seconds(), InFlight: s.InFlight, Stderr: s.Stderr,
		})
	}
	for _, s := range sessions {
		out.Sessions = append(out.Sessions, sessionStatusJSON(s))
	}
	_ = json.NewEncoder(conn).Encode(out)
}

// runStatus asks a running `plugboard serve` over its unix socket for its
// servers' states and prints them.
func runStatus(socket *string, asJSON *bool, stdout, stderr io.Writer) int {
	// The same checks as attach: status talks only to this user's serve.
	conn, err := transports.DialLocalSocket(*socket)
	if err != nil {
		fmt.Fprintf(stderr, "plugboard status: no plugboard serve of yours at %s (status needs a running plugboard serve; in stdio mode there is none to ask): %v\n", *socket, err)
		return exitFailure
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(3 * statusTimeout))
	if _, err := io.WriteString(conn, statusRequest+"\n"); err != nil {
		fmt.Fprintln(stderr, "plugboard status:", err)
		return exitFailure
	}
	answer, err := io.ReadAll(io.LimitReader(conn, maxStatusAnswer))
	if err != nil {
		fmt.Fprintln(stderr, "plugboard status:", err)
		return exitFailure
	}
	var probe struct {
		Error   string          `json:"error"`
		Servers json.RawMessage `json:"servers"`
	}
	if err := json.Unmarshal(answer, &probe); err != nil || probe.Error != "" || probe.Servers == nil {
		fmt.Fprintf(stderr, "plugboard status: %s answered %s\n", *socket, strings.TrimSpace(string(answer)))
		return exitFailure
	}
	if *asJSON {
		_, _ = stdout.Write(answer)
		return exitOK
	}
	var st statusJSON
	if err := json.Unmarshal(answer, &st); err != nil {
		fmt.Fprintln(stderr, "plugboard status:", err)
		return exitFailure
	}
	printStatus(stdout, st)
	return exitOK
}

func printStatus(w io.Writer, st statusJSON) {
	if a := st.PluggedIn; a != nil {
		fmt.Fprintf(w, "plugged.in App: %s (%s), %d servers", a.State, a.BaseURL, a.Servers)
		if a.LastError != "" {
			fmt.Fprintf(w, "; last error: %s", a.LastError)
		}
		fmt.Fprintf(w, "; activity reported %d, dropped %d; tools reported %d\n\n", a.ActivitySent, a.ActivityDropped, a.ToolsReported)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SERVER\tSTATE\tTRANSPORT\tTARGET\tTOOLS\tRESTARTS\tLAST FAILURE\tPID\tREVISION\tUPTIME\tIN FLIGHT")
	for _, s := range st.Servers {
		state := s.State
		switch s.State {
		case actors.StateRestarting:
			state = "restarting in " + roughly(s.RetryInSeconds)
		case actors.StateNeedsLogin:
			state = "needs login: run plugboard login " + s.Name
		}
		restarts := "-"
		switch {
		case s.Restarts == 1:
			restarts = "1 restart " + roughly(s.RestartsOverSecs) + " ago"
		case s.Restarts > 1:
			restarts = fmt.Sprintf("%d restarts in %s", s.Restarts, roughly(s.RestartsOverSecs))
		}
		failure := "-"
		if s.LastFailure != "" {
			failure = roughly(s.LastFailureAgo) + " ago: " + truncate(s.LastFailure, 100)
		}
		pid, revision, uptime := "-", "-", "-"
		if s.PID > 0 {
			pid = strconv.Itoa(s.PID)
		}
		if s.Revision != "" {
			revision = s.Revision
		}
		if s.UptimeSeconds > 0 {
			uptime = roughly(s.UptimeSeconds)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t%d\n", s.Name, state, s.Transport, s.Target, s.Tools, restarts, failure,
			pid, revision, uptime, s.InFlight)
	}
	_ = tw.Flush()
	for _, s := range st.Servers {
		if len(s.Stderr) == 0 {
			continue
		}
		fmt.Fprintf(w, "\n%s is %s; the last lines of its stderr (plugboard logs %s for more):\n", s.Name, s.State, s.Name)
		for _, line := range s.Stderr {
			fmt.Fprintln(w, "  "+truncate(line, 200))
		}
	}
	fmt.Fprintln(w)
	if len(st.Sessions) == 0 {
		fmt.Fprintln(w, "no client sessions")
		return
	}
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SESSION\tTRANSPORT\tCLIENT\tWORKSPACE\tIN FLIGHT")
	for i, s := range st.Sessions {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\n", i+1, orDash(s.Transport), orDash(s.ClientName), orDash(s.Workspace), s.InFlight)
	}
	_ = tw.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// roughly renders seconds as people say them: "12 s", "3 min", "2 h".
func roughly(seconds float64) string {
	switch {
	case seconds < 60:
		return fmt.Sprintf("%d s", int(math.Ceil(seconds)))
	case seconds < 3600:
		return fmt.Sprintf("%d min", int(seconds/60))
	default:
		return fmt.Sprintf("%d h", int(seconds/3600))
	}
}
