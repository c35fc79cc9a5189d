package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/plugboard/plugboard/config"
	"github.com/plugboard/plugboard/messages"
	"github.com/plugboard/plugboard/transports"
)

// More requests of the unix socket (socketRequests).
const (
	toolsRequest   = "tools"   // "tools": the live catalog; "tools disable|enable NAME...": change and reload
	restartRequest = "restart" // "restart NAME...": restart servers
)

// askDaemon sends one request line to the plugboard serve at socket, after
// the checks attach makes (the socket's owner and the peer's uid), and
// returns its one-line JSON answer. An answer with an "error" member is
// returned as that error.
func askDaemon(socket, request string, timeout time.Duration) ([]byte, error) {
	conn, err := transports.DialLocalSocket(socket)
	if err != nil {
		return nil, &daemonAbsent{socket: socket, err: err}
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(timeout))
	return exchangeRequest(conn, request, socket)
}

// exchangeRequest writes one request line on conn and reads the one-line
// JSON answer to the end of the connection; who names the other end in
// an error. An answer with an "error" member is returned with that error.
func exchangeRequest(conn net.Conn, request, who string) ([]byte, error) {
	if _, err := io.WriteString(conn, request+"\n"); err != nil {
		return nil, err
	}
	answer, err := io.ReadAll(io.LimitReader(conn, maxStatusAnswer))
	if err != nil {
		return nil, err
	}
	var probe struct {
		Error *string `json:"error"`
	}
	if err := json.Unmarshal(answer, &probe); err != nil {
		return nil, fmt.Errorf("%s answered %q", who, strings.TrimSpace(string(answer)))
	}
	if probe.Error != nil {
		return answer, errors.New(*probe.Error)
	}
	return answer, nil
}

// daemonAbsent is askDaemon's error when no plugboard serve of the user's
// answers at the socket.
type daemonAbsent struct {
	socket string
	err    error
}

func (e *daemonAbsent) Error() string {
	return fmt.Sprintf("no plugboard serve of yours at %s: %v", e.socket, e.err)
}

func (e *daemonAbsent) Unwrap() error { return e.err }

// answerTools answers "tools" with the live catalog (catalogJSON), and
// "tools disable|enable NAME..." by changing the state file and reloading.
func answerTools(d daemonParts, args []string, conn net.Conn) {
	if len(args) == 0 {
		ctx, cancel := context.WithTimeout(context.Background(), statusTimeout)
		defer cancel()
		snap, err := d.sys.Snapshot(ctx, false)
		if err != nil {
			answerError(conn, err.Error())
			return
		}
		_ = json.NewEncoder(conn).Encode(toCatalogJSON(snap))
		return
	}
	change, err := toolsChange(args[0], args[1:])
	if err != nil {
		answerError(conn, err.Error())
		return
	}
	answerReconfiguredWith(conn, d.reloads, reloadRequest{why: "plugboard tools " + args[0], change: change}, func(out *reloadJSON) {
		ctx, cancel := context.WithTimeout(context.Background(), statusTimeout)
		defer cancel()
		snap, err := d.sys.Snapshot(ctx, false)
		if err != nil {
			return
		}
		offered := map[string]bool{}
		out.DisabledTools = []string{}
		for _, e := range snap.Entries {
			if e.Kind == messages.Tools {
				offered[e.Name] = true
				if e.Disabled {
					out.DisabledTools = append(out.DisabledTools, e.Name)
				}
			}
		}
		for _, name := range args[1:] {
			if !offered[name] {
				out.Unknown = append(out.Unknown, name)
			}
		}
	})
}

// toolsChange is the state change of `tools disable|enable NAME...`.
func toolsChange(verb string, names []string) (func(*config.State) bool, error) {
	if len(names) == 0 {
		return nil, fmt.Errorf("tools %s: name the tools (as `plugboard tools` lists them)", verb)
	}
	switch verb {
	case "disable":
		return func(st *config.State) bool {
			before := len(st.DisabledTools)
			for _, n := range names {
				if !slices.Contains(st.DisabledTools, n) {
					st.DisabledTools = append(st.DisabledTools, n)
				}
			}
			return len(st.DisabledTools) != before
		}, nil
	case "enable":
		return func(st *config.State) bool {
			before := len(st.DisabledTools)
			st.DisabledTools = slices.DeleteFunc(st.DisabledTools, func(n string) bool { return slices.Contains(names, n) })
			return len(st.DisabledTools) != before
		}, nil
	}
	return nil, fmt.Errorf("tools %s: unknown; tools takes disable or enable", verb)
}

// answerRestart answers "restart NAME...": the servers restart, the rest
// of the configuration is read again as by reload.
func answerRestart(d daemonParts, args []string, conn net.Conn) {
	if len(args) == 0 {
		answerError(conn, "restart: name the servers (as `plugboard status` lists them)")
		return
	}
	answerReconfigured(conn, d.reloads, reloadRequest{why: "plugboard restart", restart: args})
}

// runRestart asks a running plugboard serve to restart servers.
func runRestart(socket string, names []string, asJSON bool, stdout, stderr io.Writer) int {
	return printReconfigured("plugboard restart", socket, restartRequest+" "+strings.Join(names, " "), asJSON, stdout, stderr)
}

// runToolsToggle disables or enables tools: through the running plugboard
// serve, or, with a config path, in that configuration's state file, which
// a plugboard serving it picks up as it watches the file.
func runToolsToggle(verb string, names []string, socket, path string, asJSON bool, stdout, stderr io.Writer) int {
	change, err := toolsChange(verb, names)
	if err != nil {
		fmt.Fprintln(stderr, "plugboard", err)
		return exitUsage
	}
	if path == "" {
		return printToolsToggled(verb, names, socket, asJSON, stdout, stderr)
	}
	statePath := config.StatePath(path)
	st, err := config.LoadState(statePath)
	if err == nil && change(&st) {
		err = config.SaveState(statePath, st)
	}
	if err != nil {
		fmt.Fprintf(stderr, "plugboard tools %s: %v\n", verb, err)
		return exitFailure
	}
	if asJSON {
		_ = json.NewEncoder(stdout).Encode(st)
	} else {
		fmt.Fprintf(stdout, "%sd in %s; disabled now: %s\n", verb, statePath, list(st.DisabledTools))
	}
	return exitOK
}

// runToolsLive prints the live catalog of the running plugboard serve at
// socket; ok is false when none answers there (then the caller starts the
// configuration's servers itself).
func runToolsLive(socket, server string, asJSON bool, stdout, stderr io.Writer) (code int, ok bool) {
	answer, err := askDaemon(socket, toolsRequest, 2*statusTimeout)
	var cat catalogJSON
	if err == nil {
		err = json.Unmarshal(answer, &cat)
	}
	if err != nil {
		var dial *daemonAbsent
		if errors.As(err, &dial) {
			return 0, false
		}
		fmt.Fprintln(stderr, "plugboard tools:", err)
		return exitFailure, true
	}
	return printTools(cat, server, asJSON, stdout, stderr), true
}

// printToolsToggled asks the running plugboard serve to disable or
// enable tools and says what is disabled now.
func printToolsToggled(verb string, names []string, socket string, asJSON bool, stdout, stderr io.Writer) int {
	cmd := "plugboard tools " + verb
	answer, err := askDaemon(socket, toolsRequest+" "+verb+" "+strings.Join(names, " "), reloadTimeout+10*time.Second)
	var out reloadJSON
	if err == nil {
		err = json.Unmarshal(answer, &out)
	}
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", cmd, err)
		return exitFailure
	}
	if len(out.Unknown) > 0 {
		fmt.Fprintf(stderr, "%s: no server offers %s now; kept, it applies once one does (names as plugboard tools lists them)\n", cmd, strings.Join(out.Unknown, ", "))
	}
	if asJSON {
		_, _ = stdout.Write(answer)
		return exitOK
	}
	fmt.Fprintf(stdout, "%sd %s; disabled now: %s\n", verb, strings.Join(names, ", "), list(out.DisabledTools))
	return exitOK
}

// printReconfigured sends a request answered with reloadJSON and prints
// the answer.
func printReconfigured(cmd, socket, request string, asJSON bool, stdout, stderr io.Writer) int {
	answer, err := askDaemon(socket, request, reloadTimeout+10*time.Second)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", cmd, err)
		return exitFailure
	}
	var out reloadJSON
	if err := json.Unmarshal(answer, &out); err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", cmd, err)
		return exitFailure
	}
	if asJSON {
		_, _ = stdout.Write(answer)
		return exitOK
	}
	fmt.Fprintf(stdout, "added %s; removed %s; restarted %s; renamed %s; %d unchanged\n",
		list(out.Added), list(out.Removed), list(out.Restarted), list(out.Renamed), len(out.Unchanged))
	return exitOK
}
