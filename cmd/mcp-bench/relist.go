package main

import (
	"context"
	"fmt"
	"io"
	"time"
)

// relistReport is the result of --relist-after: how long a server takes
// to list its tools anew after a call that changes them.
type relistReport struct {
	Mode   mode        `json:"mode"`
	Target targetInfo  `json:"target"`
	Server *serverInfo `json:"server,omitempty"`
	Tool   string      `json:"tool"`
	Runs   int         `json:"runs"`
	// Tools and Pages describe the listing before the first change.
	Tools int `json:"tools"`
	Pages int `json:"pages"`
	// RelistMS runs from sending the call to the end of the first whole
	// listing whose count of tools differs from the one before it. The
	// listings follow each other without a pause, so each time is
	// exact to within one listing.
	RelistMS startupTimes `json:"relist_ms"`
	// Listings counts the listings made while waiting, over all runs.
	Listings int      `json:"listings"`
	Notes    []string `json:"notes,omitempty"`
}

// relistTimeout bounds the wait for one change to show.
const relistTimeout = 60 * time.Second

// runRelist opens one session, lists the tools, and opts.runs times
// calls opts.tool, which changes the tool list, then lists the tools
// again and again until the count differs from the last one's.
func runRelist(ctx context.Context, opts options) (*relistReport, error) {
	params, err := toolCallParams(opts.tool, opts.args)
	if err != nil {
		return nil, err
	}
	t := newTarget(opts)
	defer t.release()
	sessions, server, err := openSessions(ctx, t, 1, 1)
	if err != nil {
		return nil, err
	}
	r := &relistReport{Mode: modeRelist, Target: t.info(), Server: server, Tool: opts.tool, Runs: opts.runs}
	err = relist(ctx, sessions[0].caller(0), params, opts.runs, r)
	r.Notes = append(r.Notes, closeSessions(sessions)...)
	if err != nil {
		return nil, err
	}
	return r, nil
}

func relist(ctx context.Context, c caller, params []byte, runs int, r *relistReport) error {
	before := listAll(ctx, c)
	if before.kind != outcomeOK {
		return fmt.Errorf("tools/list: %s", before.describe())
	}
	r.Tools, r.Pages = before.tools, before.pages
	var times []time.Duration
	for run := 1; run <= runs; run++ {
		began := time.Now()
		if o := c.call(ctx, methodToolsCall, params); o.kind != outcomeOK {
			return fmt.Errorf("run %d: tools/call %s: %s", run, r.Tool, o.describe())
		}
		for {
			after := listAll(ctx, c)
			r.Listings++
			if after.kind != outcomeOK {
				return fmt.Errorf("run %d: tools/list: %s", run, after.describe())
			}
			if after.tools != before.tools {
				times = append(times, after.done.Sub(began))
				before = after
				break
			}
			if time.Since(began) > relistTimeout {
				return fmt.Errorf("run %d: the tool list still held %d tools %s after tools/call %s", run, after.tools, relistTimeout, r.Tool)
			}
		}
	}
	r.RelistMS = newStartupTimes(times)
	return nil
}

func (r *relistReport) writeTable(w io.Writer) {
	line(w, "target", "%s", describeTarget(r.Target, 1))
	if r.Server != nil {
		line(w, "server", "%s %s, protocol %s", r.Server.Name, r.Server.Version, r.Server.ProtocolVersion)
	}
	line(w, "workload", "tools/call %s, then whole tools/list until the count changes; %s (%d tools in %s at first)",
		r.Tool, plural(r.Runs, "run"), r.Tools, plural(r.Pages, "page"))
	t := r.RelistMS
	line(w, "relisted", "median %.1f ms, min %.1f ms, max %.1f ms, after %d listings in all", t.Median, t.Min, t.Max, r.Listings)
	for _, n := range r.Notes {
		line(w, "note", "%s", n)
	}
}
