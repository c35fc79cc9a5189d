package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/plugboard/plugboard/actors"
	"github.com/plugboard/plugboard/config"
)

// workspaceRequest is the socket's "workspace list" and "workspace use
// NAME" (or "workspace use --default").
const workspaceRequest = "workspace"

// workspacesJSON is what `plugboard workspace list --json` prints.
type workspacesJSON struct {
	Default    string          `json:"default"` // "" for every server
	Workspaces []workspaceJSON `json:"workspaces"`
}

type workspaceJSON struct {
	Name     string   `json:"name"`
	Servers  []string `json:"servers"`
	Sessions int      `json:"sessions"` // sessions that chose it (and, for the default, those that chose none)
}

func answerWorkspace(d daemonParts, args []string, conn net.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), reloadTimeout)
	defer cancel()
	var cfg *config.Config
	if _, err := d.reloads.request(ctx, reloadRequest{read: func(c *config.Config) { cfg = c }}); err != nil {
		answerError(conn, err.Error())
		return
	}
	switch {
	case len(args) == 1 && args[0] == "list":
		sessions, err := d.sys.Sessions(ctx)
		if err != nil {
			answerError(conn, err.Error())
			return
		}
		_ = json.NewEncoder(conn).Encode(listWorkspaces(cfg, sessions))
	case len(args) == 2 && args[0] == "use":
		name := args[1]
		if name == "--default" {
			name = ""
		} else if !cfg.HasWorkspace(name) {
			answerError(conn, fmt.Sprintf("no workspace %q in %s (%s)", name, cfg.Source, workspaceNames(sortedWorkspaces(cfg))))
			return
		}
		change := func(st *config.State) bool {
			was := st.Workspace
			st.Workspace = name
			return was != name
		}
		answerReconfigured(conn, d.reloads, reloadRequest{why: "plugboard workspace use " + args[1], change: change})
	default:
		answerError(conn, "usage: workspace list | workspace use NAME | workspace use --default")
	}
}

func sortedWorkspaces(cfg *config.Config) []string {
	names := make([]string, 0, len(cfg.Workspaces))
	for n := range cfg.Workspaces {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// listWorkspaces describes the configuration's workspaces and how many
// sessions see each.
func listWorkspaces(cfg *config.Config, sessions []actors.SessionStatus) workspacesJSON {
	count := map[string]int{}
	for _, s := range sessions {
		name := s.Workspace
		if name == "" {
			name = cfg.Workspace
		}
		count[name]++
	}
	out := workspacesJSON{Default: cfg.Workspace, Workspaces: []workspaceJSON{}}
	for _, name := range sortedWorkspaces(cfg) {
		servers := cfg.Workspaces[name]
		if servers == nil {
			servers = []string{}
		}
		out.Workspaces = append(out.Workspaces, workspaceJSON{Name: name, Servers: servers, Sessions: count[name]})
	}
	return out
}

// runWorkspaceList prints the workspaces of a running plugboard serve.
func runWorkspaceList(socket string, asJSON bool, stdout, stderr io.Writer) int {
	answer, err := askDaemon(socket, workspaceRequest+" list", 2*statusTimeout)
	var ws workspacesJSON
	if err == nil {
		err = json.Unmarshal(answer, &ws)
	}
	if err != nil {
		fmt.Fprintln(stderr, "plugboard workspace list:", err)
		return exitFailure
	}
	if asJSON {
		_, _ = stdout.Write(answer)
		return exitOK
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "WORKSPACE\tSESSIONS\tSERVERS")
	if ws.Default == "" {
		fmt.Fprintln(tw, "* (every server)\t-\t-")
	}
	for _, w := range ws.Workspaces {
		mark := "  "
		if w.Name == ws.Default {
			mark = "* "
		}
		fmt.Fprintf(tw, "%s%s\t%d\t%s\n", mark, w.Name, w.Sessions, strings.Join(w.Servers, ", "))
	}
	_ = tw.Flush()
	fmt.Fprintln(stdout, "* the default workspace: sessions that choose none see it")
	return exitOK
}

// runWorkspaceUse switches the default workspace of a running plugboard
// serve, kept in the state file so that it survives restarts.
func runWorkspaceUse(socket, name string, asJSON bool, stdout, stderr io.Writer) int {
	answer, err := askDaemon(socket, workspaceRequest+" use "+name, reloadTimeout+10*time.Second)
	if err != nil {
		fmt.Fprintln(stderr, "plugboard workspace use:", err)
		return exitFailure
	}
	if asJSON {
		_, _ = stdout.Write(answer)
		return exitOK
	}
	if name == "--default" {
		fmt.Fprintln(stdout, "the default workspace is the configuration's again")
	} else {
		fmt.Fprintf(stdout, "the default workspace is %s\n", name)
	}
	return exitOK
}
