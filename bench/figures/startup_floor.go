package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"sync"
	"time"
)

// startAtOnce starts every argv as a stdio MCP server, as plugboard starts
// its configuration, and returns the time from the first exec to the end
// of the last server's complete tools/list, with the tools listed in all:
// the floor of plugboard's cold start, which has to start as many
// processes on the same cores.
//
// The processes are started one after another, in the order of argvs, from
// one goroutine, and each one's handshake and lists then run in a goroutine
// of its own. The order is that of the configuration on purpose: a
// goroutine per exec lets Go's scheduler pick which process starts first,
// and it runs the goroutine created last first (its "runnext" slot), so the
// last server of the configuration, the slowest in these runs, was started
// within a few milliseconds while the others waited: a floor nobody that
// does not know which server is slowest can reach.
func startAtOnce(ctx context.Context, argvs [][]string) (time.Duration, int, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	began := time.Now()
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		last  time.Time
		tools int
		first error
	)
	failed := func(argv []string, err error) {
		mu.Lock()
		defer mu.Unlock()
		if first == nil {
			first = fmt.Errorf("%s: %w", argv[0], err)
		}
	}
	for _, argv := range argvs {
		srv, err := startServer(ctx, argv)
		if err != nil {
			failed(argv, err)
			continue
		}
		wg.Go(func() {
			defer srv.stop()
			n, err := srv.handshakeAndList()
			if err != nil {
				failed(argv, err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			tools += n
			if now := time.Now(); now.After(last) {
				last = now
			}
		})
	}
	wg.Wait()
	if first != nil {
		return 0, 0, first
	}
	return last.Sub(began), tools, nil
}

// startedServer is a stdio server the floor started.
type startedServer struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lineClient
}

// startServer starts one server.
func startServer(ctx context.Context, argv []string) (*startedServer, error) {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	return &startedServer{cmd: cmd, stdin: stdin, lineClient: lineClient{in: stdin, out: bufio.NewReaderSize(stdout, 256<<10)}}, nil
}

func (s *startedServer) stop() {
	s.stdin.Close()
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
}

// handshakeAndList makes the handshake and lists what the server offers
// (every page of its tools, prompts, resources and resource templates), as
// plugboard does with each server it starts. It returns how many tools it
// listed.
func (s *startedServer) handshakeAndList() (int, error) {
	c := &s.lineClient
	raw, err := c.call("initialize", map[string]any{
		"protocolVersion": "2025-11-25", "capabilities": map[string]any{},
		"clientInfo": map[string]any{"name": "figures", "version": "0"},
	})
	if err != nil {
		return 0, err
	}
	var init struct {
		Capabilities struct {
			Tools, Prompts, Resources json.RawMessage
		} `json:"capabilities"`
	}
	if err := json.Unmarshal(raw, &init); err != nil {
		return 0, fmt.Errorf("initialize: %w", err)
	}
	if err := c.send(map[string]any{"jsonrpc": "2.0", "method": "notifications/initialized"}); err != nil {
		return 0, err
	}
	caps := init.Capabilities
	tools := 0
	for _, l := range []struct {
		method, key string
		offered     bool
	}{
		{"tools/list", "tools", caps.Tools != nil},
		{"prompts/list", "prompts", caps.Prompts != nil},
		{"resources/list", "resources", caps.Resources != nil},
		{"resources/templates/list", "resourceTemplates", caps.Resources != nil},
	} {
		if !l.offered {
			continue
		}
		n, err := c.listAll(l.method, l.key)
		if err != nil {
			return tools, err
		}
		if l.key == "tools" {
			tools = n
		}
	}
	return tools, nil
}

// listAll fetches every page of a list and returns how many items it held.
func (c *lineClient) listAll(method, key string) (int, error) {
	items, cursor := 0, ""
	for {
		params := map[string]any{}
		if cursor != "" {
			params["cursor"] = cursor
		}
		raw, err := c.call(method, params)
		if err != nil {
			return items, err
		}
		var page map[string]json.RawMessage
		if err := json.Unmarshal(raw, &page); err != nil {
			return items, fmt.Errorf("%s: %w", method, err)
		}
		var list []json.RawMessage
		if err := json.Unmarshal(page[key], &list); err != nil && page[key] != nil {
			return items, fmt.Errorf("%s: %s: %w", method, key, err)
		}
		items += len(list)
		cursor = ""
		if next, ok := page["nextCursor"]; ok && json.Unmarshal(next, &cursor) != nil {
			return items, fmt.Errorf("%s: nextCursor is not a string", method)
		}
		if cursor == "" {
			return items, nil
		}
	}
}

// lineClient speaks newline-delimited JSON-RPC to one stdio server.
type lineClient struct {
	in     io.Writer
	out    *bufio.Reader
	lastID int
}

func (c *lineClient) send(msg any) error {
	b, err := json.Marshal(msg)
	if err != nil {
		return err
	}
	_, err = c.in.Write(append(b, '\n'))
	return err
}

// call sends a request and returns its result, skipping whatever else the
// server writes first (notifications, its own requests).
func (c *lineClient) call(method string, params any) (json.RawMessage, error) {
	c.lastID++
	id := c.lastID
	if err := c.send(map[string]any{"jsonrpc": "2.0", "id": id, "method": method, "params": params}); err != nil {
		return nil, err
	}
	for {
		line, err := c.out.ReadBytes('\n')
		if err != nil {
			return nil, fmt.Errorf("%s: %w", method, err)
		}
		var msg struct {
			ID     json.RawMessage `json:"id"`
			Method string          `json:"method"`
			Result json.RawMessage `json:"result"`
			Error  json.RawMessage `json:"error"`
		}
		if json.Unmarshal(line, &msg) != nil || msg.Method != "" || string(msg.ID) != fmt.Sprint(id) {
			continue
		}
		if msg.Error != nil {
			return nil, fmt.Errorf("%s: %s", method, msg.Error)
		}
		return msg.Result, nil
	}
}
