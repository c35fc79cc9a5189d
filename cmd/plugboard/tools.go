package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/plugboard/plugboard/actors"
	"github.com/plugboard/plugboard/messages"
	"github.com/spf13/pflag"
)

// catalogJSON is what `plugboard tools --json` prints.
type catalogJSON struct {
	Tools             []entryJSON  `json:"tools"`
	Prompts           []entryJSON  `json:"prompts"`
	Resources         []entryJSON  `json:"resources"`
	ResourceTemplates []entryJSON  `json:"resourceTemplates"`
	Servers           []serverJSON `json:"servers"`
}

type entryJSON struct {
	Name        string `json:"name"`
	Server      string `json:"server"`
	Original    string `json:"original"`
	Description string `json:"description,omitempty"`
	Disabled    bool   `json:"disabled,omitempty"` // by plugboard tools disable: clients neither see nor call it
}

type serverJSON struct {
	Name   string `json:"name"`
	Status string `json:"status"`
	Reason string `json:"reason,omitempty"`
}

// runTools starts the configured servers, waits for each to be ready or to
// fail (at most the start-up timeout), prints the client-facing catalog and
// exits: 0 when every enabled server is ready, 1 otherwise.
func runTools(fs *pflag.FlagSet, asJSON *bool, server string, stdout, stderr io.Writer) int {
	cfg, log, app, code := load(fs, stderr)
	if cfg == nil {
		return code
	}
	children := childRecords(cfg, log)
	opts := actors.Options{Offer: json.RawMessage(`{}`), EraCache: eraCachePath(), Children: children}
	app.options(&opts)
	sys := actors.Start(cfg, log, opts)
	ctx, cancel := context.WithTimeout(context.Background(), cfg.StartupTimeout+5*time.Second)
	snap, err := sys.Snapshot(ctx, true)
	cancel()
	shutdownCtx, cancelShutdown := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancelShutdown()
	defer func() {
		if sys.Shutdown(shutdownCtx) == nil {
			children.Close()
		}
	}()
	if err != nil {
		fmt.Fprintln(stderr, "plugboard:", err)
		return exitFailure
	}

	out := toCatalogJSON(snap)
	explainStillStarting(&out, cfg.StartupTimeout)
	return printTools(out, server, *asJSON, stdout, stderr)
}

// printTools prints a catalog, or one server's part of it: 0 when every
// server shown is ready or disabled, 1 otherwise.
func printTools(out catalogJSON, server string, asJSON bool, stdout, stderr io.Writer) int {
	if server != "" {
		out = out.of(server)
		if len(out.Servers) == 0 {
			fmt.Fprintf(stderr, "plugboard tools: no server %q (see plugboard status)\n", server)
			return exitFailure
		}
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(out); err != nil {
			return exitFailure
		}
	} else {
		printCatalog(stdout, out)
	}
	for _, s := range out.Servers {
		if s.Status != "ready" && s.Status != "disabled" {
			return exitFailure
		}
	}
	return exitOK
}

// of returns the part of the catalog that is one server's.
func (c catalogJSON) of(server string) catalogJSON {
	keep := func(entries []entryJSON) []entryJSON {
		out := []entryJSON{}
		for _, e := range entries {
			if e.Server == server {
				out = append(out, e)
			}
		}
		return out
	}
	out := catalogJSON{Tools: keep(c.Tools), Prompts: keep(c.Prompts), Resources: keep(c.Resources), ResourceTemplates: keep(c.ResourceTemplates), Servers: []serverJSON{}}
	for _, s := range c.Servers {
		if s.Name == server {
			out.Servers = append(out.Servers, s)
		}
	}
	return out
}

func toCatalogJSON(snap *messages.Snapshot) catalogJSON {
	out := catalogJSON{Tools: []entryJSON{}, Prompts: []entryJSON{}, Resources: []entryJSON{}, ResourceTemplates: []entryJSON{}, Servers: []serverJSON{}}
	for _, e := range snap.Entries {
		entry := entryJSON{Name: e.Name, Server: e.Server, Original: e.Original, Description: e.Description, Disabled: e.Disabled}
		switch e.Kind {
		case messages.Tools:
			out.Tools = append(out.Tools, entry)
		case messages.Prompts:
			out.Prompts = append(out.Prompts, entry)
		case messages.Resources:
			out.Resources = append(out.Resources, entry)
		case messages.ResourceTemplates:
			out.ResourceTemplates = append(out.ResourceTemplates, entry)
		}
	}
	for _, s := range snap.Servers {
		out.Servers = append(out.Servers, serverJSON{Name: s.Name, Status: s.Status, Reason: s.Reason})
	}
	return out
}

// explainStillStarting gives each server still starting when the wait
// ended the reason: the wait is startup_timeout, which the user can raise
// (a server fetched by npx on a cold cache takes tens of seconds).
func explainStillStarting(c *catalogJSON, timeout time.Duration) {
	for i, s := range c.Servers {
		if s.Status == "starting" && s.Reason == "" {
			c.Servers[i].Reason = fmt.Sprintf("still starting after %s: raise startup_timeout", timeout)
		}
	}
}

func printCatalog(w io.Writer, c catalogJSON) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	section := func(title, nameHeader string, entries []entryJSON, withOriginal bool) {
		if len(entries) == 0 {
			return
		}
		fmt.Fprintf(tw, "%s (%d)\n", title, len(entries))
		if withOriginal {
			fmt.Fprintf(tw, "  %s\tSERVER\tORIGINAL\tDESCRIPTION\n", nameHeader)
		} else {
			fmt.Fprintf(tw, "  %s\tSERVER\tDESCRIPTION\n", nameHeader)
		}
		for _, e := range entries {
			desc := truncate(e.Description, 60)
			if e.Disabled {
				desc = "(disabled: plugboard tools enable " + e.Name + ")"
			}
			if withOriginal {
				fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", e.Name, e.Server, e.Original, desc)
			} else {
				fmt.Fprintf(tw, "  %s\t%s\t%s\n", e.Name, e.Server, truncate(e.Description, 60))
			}
		}
		fmt.Fprintln(tw)
	}
	section("TOOLS", "NAME", c.Tools, true)
	section("PROMPTS", "NAME", c.Prompts, true)
	section("RESOURCES", "URI", c.Resources, false)
	section("RESOURCE TEMPLATES", "URI TEMPLATE", c.ResourceTemplates, false)
	fmt.Fprintf(tw, "SERVERS (%d)\n", len(c.Servers))
	for _, s := range c.Servers {
		switch {
		case s.Status == "starting" && s.Reason != "":
			fmt.Fprintf(tw, "  %s\t%s\n", s.Name, s.Reason) // "still starting after ..."
		case s.Reason != "":
			fmt.Fprintf(tw, "  %s\t%s: %s\n", s.Name, s.Status, s.Reason)
		default:
			fmt.Fprintf(tw, "  %s\t%s\n", s.Name, s.Status)
		}
	}
	_ = tw.Flush()
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
