package main

import (
	"context"
	"fmt"
	"strconv"
)

// measureGrowth measures what a call and a listing cost through
// plugboard as its configuration grows: more servers (calls to one of
// them) and bigger catalogs. The sessions' part is in measureHTTPFront,
// which has an HTTP server running.
func measureGrowth(ctx context.Context, r *runner, s settings) (*growthResults, error) {
	res := &growthResults{Seconds: s.growthDuration.Seconds()}
	flags := []string{"--duration", seconds(s.growthDuration)}
	direct, _, err := stdioFronts(r)
	if err != nil {
		r.note("how cost grows: %v", err)
		return nil, err
	}
	out, err := r.call(ctx, "echo over stdio, direct, for how cost grows", direct.args("echo", append(flags, "--warmup", seconds(s.warmup))...)...)
	if err != nil {
		return res, err
	}
	res.Direct = out.sample()

	for _, n := range s.growthServers {
		servers := fixtureServers(n)
		cfg, err := r.writeConfig(fmt.Sprintf("servers-%d.yaml", n), servers)
		if err != nil {
			r.note("how cost grows: %v", err)
			return res, err
		}
		// The listing first waits for every server to be up, so that the
		// calls share the machine with idle servers, not starting ones.
		p := front{target: []string{"--", r.path("plugboard"), "--config", cfg}, prefix: servers[0].name + "__"}
		what := fmt.Sprintf("echo to 1 of %d servers, plugboard", n)
		// A first listing of hundreds of servers may take longer than a
		// call's default timeout.
		out, err := r.call(ctx, what, p.args("echo", append(flags, "--list-first", "--timeout", "120s", "--warmup", seconds(s.warmup))...)...)
		if err != nil {
			return res, err
		}
		row := serversRow{Servers: n, Sample: out.sample()}
		if out.RSS != nil {
			row.RSSBytes = out.RSS.LastBytes
		}
		res.Servers = append(res.Servers, row)
	}

	for _, tools := range s.growthTools {
		row, err := measureCatalogSize(ctx, r, s, tools)
		if err != nil {
			return res, err
		}
		res.Catalogs = append(res.Catalogs, row)
	}
	return res, nil
}

// measureCatalogSize lists a catalog of tools generated tools over
// growthCatalogServers fixtures, holds it idle for its memory, and times
// how long a change to one server's tools takes to show; each against
// one fixture listing as many tools itself.
func measureCatalogSize(ctx context.Context, r *runner, s settings, tools int) (catalogRow, error) {
	n := s.growthCatalogServers
	row := catalogRow{Servers: n, Tools: tools}
	servers := fixtureServers(n, "--extra-tools", strconv.Itoa(tools/n))
	for i := range servers {
		// The generated tools, and the tool that changes the list, with
		// what it adds.
		servers[i].include = []string{"tool_*", "toggle_tools", "extra_tool"}
	}
	cfg, err := r.writeConfig(fmt.Sprintf("catalog-%d.yaml", tools), servers)
	if err != nil {
		r.note("how cost grows: %v", err)
		return row, err
	}
	plugboard := []string{"--", r.path("plugboard"), "--config", cfg}
	fixture := []string{"--", r.path("mcp-fixture"), "--name", "fx", "--legacy-only", "--extra-tools", strconv.Itoa(tools), "--page-size", "1000"}
	what := fmt.Sprintf("catalog of %d tools", tools)

	// The first listing waits for every server, and is kept out of the
	// measurement.
	list := []string{"--list", "--list-first", "--timeout", "120s", "--duration", seconds(s.growthDuration), "--warmup", seconds(s.warmup)}
	d, err := r.call(ctx, what+", tools/list, direct", append(list, fixture...)...)
	if err != nil {
		return row, err
	}
	p, err := r.call(ctx, what+", tools/list, plugboard", append(list, plugboard...)...)
	if err != nil {
		return row, err
	}
	row.Listing = pair{Direct: d.sample(), Plugboard: p.sample()}

	var idle idleOut
	if err := r.bench(ctx, what+", idle memory", &idle, append([]string{"--idle", seconds(s.idleHold)}, plugboard...)...); err != nil {
		return row, err
	}
	if idle.RSS != nil {
		row.IdleBytes = idle.RSS.LastBytes
	}

	relist := []string{"--args", "{}", "--runs", strconv.Itoa(s.relistRuns)}
	var dr, pr relistOut
	if err := r.bench(ctx, what+", relisting after a change, direct", &dr,
		append(append([]string{"--relist-after", "toggle_tools"}, relist...), fixture...)...); err != nil {
		return row, err
	}
	if err := r.bench(ctx, what+", relisting after one server's change, plugboard", &pr,
		append(append([]string{"--relist-after", servers[0].name + "__toggle_tools"}, relist...), plugboard...)...); err != nil {
		return row, err
	}
	row.RelistMS, row.DirectRelistMS = pr.RelistMS.Median, dr.RelistMS.Median
	return row, nil
}
