package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// A peer is another MCP proxy that bench/run built from its public
// sources into a directory of its own (nothing of theirs is in this
// repository): DIR/NAME is its binary, DIR/NAME.version what was built,
// or DIR/NAME.error why it could not be.

// peer describes how to run one proxy in front of one stdio fixture.
type peer struct {
	name  string // its binary's name in the peers' directory
	title string // what the table calls it
	// start writes what it needs into work and returns its command line,
	// the text on stderr that says it is ready, and its URL.
	start func(bin, work, fixture string, port int) (argv []string, readyText, url string, err error)
}

// knownPeers are the proxies bench/run knows how to build and run.
var knownPeers = []peer{
	{name: "mcp-proxy", title: "mcp-proxy (TBXark, Go)", start: startTBXarkProxy},
	{name: "mcp-proxy-ts", title: "mcp-proxy (punkpeye, TypeScript)", start: startPunkpeyeProxy},
}

// startTBXarkProxy configures github.com/TBXark/mcp-proxy (Go) with one
// stdio server, fx, served over Streamable HTTP at /fx/mcp; its options
// are in its docs/CONFIGURATION.md.
func startTBXarkProxy(bin, work, fixture string, port int) ([]string, string, string, error) {
	addr := "127.0.0.1:" + strconv.Itoa(port)
	cfg := map[string]any{
		"mcpProxy": map[string]any{"baseURL": "http://" + addr, "addr": addr, "name": "mcp-proxy", "version": "1",
			"type": "streamable-http", "options": map[string]any{"logEnabled": false}},
		"mcpServers": map[string]any{"fx": map[string]any{"command": fixture, "args": []string{"--name", "fx", "--legacy-only"}}},
	}
	data, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return nil, "", "", err
	}
	path := filepath.Join(work, "mcp-proxy.json")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return nil, "", "", err
	}
	// It logs each tool it adds once the server has listed them.
	return []string{bin, "--config", path}, "Adding tool echo", "http://" + addr + "/fx/mcp", nil
}

// startPunkpeyeProxy runs the npm package mcp-proxy (TypeScript,
// github.com/punkpeye/mcp-proxy) in front of the fixture, with its
// defaults but for the address and only its Streamable HTTP endpoint,
// /mcp; its options are in its --help.
func startPunkpeyeProxy(bin, _, fixture string, port int) ([]string, string, string, error) {
	argv := []string{bin, "--host", "127.0.0.1", "--port", strconv.Itoa(port), "--server", "stream",
		"--", fixture, "--name", "fx", "--legacy-only"}
	return argv, "starting server on port", fmt.Sprintf("http://127.0.0.1:%d/mcp", port), nil
}

// freePort asks the kernel for a loopback port nothing listens on.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// measurePeers measures plugboard serve, the fixture's own HTTP and each
// peer in peersDir alike: one session calling echo at concurrency 1,
// then at 16, each server watched for its CPU and memory.
func measurePeers(ctx context.Context, r *runner, s settings, peersDir string) *peerResults {
	res := &peerResults{Seconds: s.growthDuration.Seconds()}
	measureOne := func(name, version string, srv *httpServer, prefix string) peerRow {
		row := peerRow{Name: name, Version: version}
		f := httpFront(srv, prefix)
		flags := []string{"--duration", seconds(s.growthDuration), "--warmup", seconds(s.warmup)}
		out, err := r.call(ctx, "peers, "+name+", concurrency 1", f.args("echo", flags...)...)
		if err != nil {
			row.Problem = err.Error()
			return row
		}
		row.Serial = out.sample()
		out, err = r.call(ctx, "peers, "+name+", concurrency 16", f.args("echo", append([]string{"--concurrency", "16"}, flags...)...)...)
		if err != nil {
			row.Problem = err.Error()
			return row
		}
		row.Parallel = out.sample()
		if out.Watched != nil {
			row.IdleBytes = out.Watched.LastBytes
		}
		return row
	}

	servers, err := startHTTPPair(ctx, r)
	if err != nil {
		r.note("peers: %v", err)
		return res
	}
	res.Rows = append(res.Rows, measureOne("plugboard serve", "this commit", servers.plugboard, "fx__"))
	res.Rows = append(res.Rows, measureOne("the fixture's own HTTP", "this commit", servers.fixture, ""))
	servers.stop(r)

	for _, p := range knownPeers {
		bin := filepath.Join(peersDir, p.name)
		version := strings.TrimSpace(readFile(bin + ".version"))
		failed := func(problem string) {
			res.Rows = append(res.Rows, peerRow{Name: p.title, Version: version, Problem: problem})
		}
		if problem := strings.TrimSpace(readFile(bin + ".error")); problem != "" {
			failed("not built: " + oneLine(problem))
			continue
		}
		if _, err := os.Stat(bin); err != nil {
			failed("not built: no binary in " + peersDir)
			continue
		}
		port, err := freePort()
		if err != nil {
			failed(err.Error())
			continue
		}
		argv, readyText, url, err := p.start(bin, r.work, r.path("mcp-fixture"), port)
		if err != nil {
			failed(err.Error())
			continue
		}
		r.commands = append(r.commands, r.display(argv)+" &")
		srv, err := startHTTPServerAt(ctx, p.title, argv, readyText, url)
		if err != nil {
			r.note("peers: %v", err)
			failed(oneLine(err.Error()))
			continue
		}
		r.alias(url, fmt.Sprintf("$%s_URL", strings.ToUpper(strings.ReplaceAll(p.name, "-", "_"))))
		r.alias(strconv.Itoa(srv.pid()), fmt.Sprintf("$%s_PID", strings.ToUpper(strings.ReplaceAll(p.name, "-", "_"))))
		res.Rows = append(res.Rows, measureOne(p.title, version, srv, ""))
		stopServer(r, srv)
	}
	return res
}

// oneLine keeps a message to its first line, for a table cell.
func oneLine(s string) string {
	first, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return strings.ReplaceAll(first, "|", "/")
}
