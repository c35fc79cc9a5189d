package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
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
	Servers []serverStatusJSON `json:"servers"`
}

type serverStatusJSON struct {
	Name             string  `json:"name"`
	State            string  `json:"state"` // ready, starting, restarting, failed, disabled
	RetryInSeconds   float64 `json:"retry_in_seconds,omitempty"`
	Transport        string  `json:"transport"`
	Target           string  `json:"target"` // redacted URL, or the command without arguments
	Tools            int     `json:"tools"`
	Restarts         int     `json:"restarts"`
	RestartsOverSecs float64 `json:"restarts_over_seconds,omitempty"`
	LastFailureAgo   float64 `json:"last_failure_seconds_ago,omitempty"`
	LastFailure      string  `json:"last_failure,omitempty"`
}

// daemonParts are what the unix socket's requests are answered from.
type daemonParts struct {
	sys     *actors.System
	reloads *reloader
	log     *slog.Logger
}

// socketRequests are the one-line requests the unix socket answers, by
// their first word; the rest of the line are its arguments. Each answers
// one JSON line, then the connection closes.
var socketRequests = map[string]func(d daemonParts, args []string, conn net.Conn){
	statusRequest:     answerStatus,
	reloadRequestLine: answerReload,
	toolsRequest:      answerTools,
	restartRequest:    answerRestart,
}

// serveSocketConn serves one connection to the unix socket: a request
// line, or else an MCP session of newline-delimited JSON-RPC. A request
// starts with a letter, which no JSON text starts with; a session starts
// with '{' or '['.
func serveSocketConn(conn net.Conn, d daemonParts) {
	defer conn.Close()
	r := bufio.NewReader(conn)
	first, err := r.Peek(1)
	if err != nil {
		return
	}
	if first[0] == '{' || first[0] == '[' || first[0] == ' ' || first[0] == '\t' || first[0] == '\r' || first[0] == '\n' {
		<-d.sys.ServeStream(r, conn, transports.DefaultMaxFrame)
		return
	}
	_ = conn.SetDeadline(time.Now().Add(2 * reloadTimeout))
	line, err := r.ReadString('\n')
	if err != nil && line == "" {
		return
	}
	words := strings.Fields(line)
	var answer func(daemonParts, []string, net.Conn)
	if len(words) > 0 {
		answer = socketRequests[words[0]]
	}
	if answer == nil {
		fmt.Fprintf(conn, "{\"error\":%q}\n", "unknown request; the socket serves MCP sessions and the lines status, reload, tools, restart")
		return
	}
	answer(d, words[1:], conn)
}

// answerError answers a request with an error.
func answerError(conn net.Conn, err error) {
	_ = json.NewEncoder(conn).Encode(map[string]string{"error": err.Error()})
}

func answerStatus(d daemonParts, _ []string, conn net.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), statusTimeout)
	defer cancel()
	servers, err := d.sys.Status(ctx)
	if err != nil {
		d.log.Warn("status", "err", err)
		answerError(conn, err)
		return
	}
	out := statusJSON{Servers: make([]serverStatusJSON, 0, len(servers))}
	for _, s := range servers {
		out.Servers = append(out.Servers, serverStatusJSON{
			Name: s.Name, State: s.State, RetryInSeconds: s.RetryIn.Seconds(), Transport: s.Transport, Target: s.Target,
			Tools: s.Tools, Restarts: s.Restarts, RestartsOverSecs: s.RestartsOver.Seconds(),
			LastFailureAgo: s.LastFailure.Seconds(), LastFailure: s.Reason,
		})
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
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SERVER\tSTATE\tTRANSPORT\tTARGET\tTOOLS\tRESTARTS\tLAST FAILURE")
	for _, s := range st.Servers {
		state := s.State
		if s.State == actors.StateRestarting {
			state = "restarting in " + roughly(s.RetryInSeconds)
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
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\n", s.Name, state, s.Transport, s.Target, s.Tools, restarts, failure)
	}
	_ = tw.Flush()
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
