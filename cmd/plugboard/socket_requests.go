package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sort"
	"strings"
	"time"

	"github.com/plugboard/plugboard/actors"
	"github.com/plugboard/plugboard/transports"
	"github.com/plugboard/plugboard/ui"
)

// maxRequestLine bounds a request line on the unix socket.
const maxRequestLine = 4 << 10

// socketRequest answers one request line on the daemon's unix socket:
// the line's first word names it, the other words are its arguments. It
// writes JSON lines (an {"error":...} object for a failure) and returns;
// the connection then closes.
type socketRequest func(d daemonParts, args []string, conn net.Conn)

// daemonParts are what the unix socket's requests are answered from.
type daemonParts struct {
	sys     *actors.System
	reloads *reloader
	log     *slog.Logger
	app     *appSource // nil without a plugged.in key
	// dashboard serves /ui on the HTTP listener, at dashboardURL.
	dashboard    *ui.Dashboard
	dashboardURL string
}

// socketRequests are the requests the socket serves beside MCP sessions.
var socketRequests = map[string]socketRequest{
	statusRequest:     answerStatus,
	"logs":            answerLogs,
	reloadRequestLine: answerReload,
	toolsRequest:      answerTools,
	restartRequest:    answerRestart,
	workspaceRequest:  answerWorkspace,
	uiRequest:         answerUI,
}

// answerRequest reads a request line and answers it.
func answerRequest(r *bufio.Reader, conn net.Conn, d daemonParts) {
	_ = conn.SetReadDeadline(time.Now().Add(statusTimeout))
	line, err := r.ReadSlice('\n')
	_ = conn.SetReadDeadline(time.Time{})
	words := strings.Fields(string(line))
	if err == nil && len(words) == 2 && words[0] == sessionRequest {
		serveSessionIn(r, conn, d, words[1])
		return
	}
	var answer socketRequest
	if err == nil && len(line) <= maxRequestLine && len(words) > 0 {
		answer = socketRequests[words[0]]
	}
	if answer == nil {
		names := make([]string, 0, len(socketRequests))
		for name := range socketRequests {
			names = append(names, name)
		}
		sort.Strings(names)
		answerError(conn, "unknown request; the socket serves MCP sessions and the lines "+strings.Join(names, ", "))
		return
	}
	answer(d, words[1:], conn)
}

func answerError(w io.Writer, msg string) {
	b, _ := json.Marshal(map[string]string{"error": msg})
	_, _ = w.Write(append(b, '\n'))
}

// logsJSON is one answer line of a logs request.
type logsJSON struct {
	Lines []string `json:"lines"`
	Error string   `json:"error,omitempty"`
}

// logsPoll is how often a followed log is asked for new lines.
const logsPoll = 250 * time.Millisecond

// answerLogs answers "logs NAME" with one line holding the kept stderr of
// server NAME, and "logs NAME follow" with that and then a line per batch
// of new lines, until the client closes the connection.
func answerLogs(d daemonParts, args []string, conn net.Conn) {
	sys := d.sys
	if len(args) == 0 || len(args) > 2 || len(args) == 2 && args[1] != "follow" {
		answerError(conn, "usage: logs NAME [follow]")
		return
	}
	name, follow := args[0], len(args) == 2
	closed := make(chan struct{})
	if follow {
		go func() {
			_, _ = io.Copy(io.Discard, conn) // the client sends nothing more: EOF is its leaving
			close(closed)
		}()
	}
	var next uint64
	for first := true; ; first = false {
		ctx, cancel := context.WithTimeout(context.Background(), statusTimeout)
		logs, err := sys.Logs(ctx, name, next)
		cancel()
		switch {
		case err != nil:
			answerError(conn, err.Error())
			return
		case logs.Unknown:
			answerError(conn, fmt.Sprintf("no server named %q; the servers are: %s", name, strings.Join(logs.Servers, ", ")))
			return
		}
		if first || len(logs.Lines) > 0 {
			if logs.Lines == nil {
				logs.Lines = []string{}
			}
			b, _ := json.Marshal(logsJSON{Lines: logs.Lines})
			_ = conn.SetWriteDeadline(time.Now().Add(statusTimeout))
			if _, err := conn.Write(append(b, '\n')); err != nil {
				return
			}
		}
		next = logs.Next
		if !follow {
			return
		}
		select {
		case <-closed:
			return
		case <-time.After(logsPoll):
		}
	}
}

// sessionRequest starts an MCP session in a workspace: the line "session
// NAME" is answered with {"workspace":NAME} (or an error, and the
// connection closes), then the connection is the session's
// newline-delimited JSON-RPC, as `plugboard attach --workspace` speaks.
const sessionRequest = "session"

func serveSessionIn(r *bufio.Reader, conn net.Conn, d daemonParts, workspace string) {
	w, ok := d.sys.InWorkspace(workspace)
	if !ok {
		answerError(conn, fmt.Sprintf("no workspace %q in plugboard's configuration (%s)", workspace, workspaceNames(d.sys.Workspaces())))
		return
	}
	b, _ := json.Marshal(map[string]string{"workspace": workspace})
	if _, err := conn.Write(append(b, '\n')); err != nil {
		return
	}
	<-w.ServeStreamOver("socket", r, conn, transports.DefaultMaxFrame)
}

// workspaceNames lists workspace names for a message.
func workspaceNames(names []string) string {
	if len(names) == 0 {
		return "it defines none"
	}
	return "it defines " + strings.Join(names, ", ")
}
