package main

import (
	"context"
	"errors"
	"fmt"
)

// target is what the benchmark measures: a stdio command or a Streamable
// HTTP endpoint, either of which opens MCP sessions.
type target interface {
	// open starts a session with room for the given number of concurrent
	// callers. The session still needs its handshake.
	open(ctx context.Context, callers int) (session, error)
	// info describes the target for the report.
	info() targetInfo
	// release frees what the target keeps between sessions, such as idle
	// connections.
	release()
}

// session is one MCP session with the target.
type session interface {
	// handshake sends initialize and then notifications/initialized.
	handshake(ctx context.Context) (*serverInfo, error)
	// caller returns caller i of those the session was opened for. A
	// caller makes one call at a time.
	caller(i int) caller
	// close ends the session: stdin closed or DELETE sent.
	close(ctx context.Context) error
}

// caller sends requests on a session and waits for their outcome.
type caller interface {
	call(ctx context.Context, method string, params []byte) outcome
}

// targetInfo names the target in the report.
type targetInfo struct {
	Transport string   `json:"transport"` // "stdio" or "streamable-http"
	Command   []string `json:"command,omitempty"`
	URL       string   `json:"url,omitempty"`
}

// initializeOutcome turns the outcome of initialize into what the server
// said about itself, or an error saying why the handshake failed.
func initializeOutcome(o outcome) (*serverInfo, error) {
	if o.kind != outcomeOK {
		return nil, fmt.Errorf("initialize: %s", o.describe())
	}
	if o.server == nil || o.server.ProtocolVersion == "" {
		return nil, errors.New("initialize: the result has no protocolVersion")
	}
	return o.server, nil
}

// maxPages bounds a listing, against a server whose cursors never end.
const maxPages = 10000

// listAll fetches the whole tool list, page by page; its outcome counts
// the tools and pages, or is the first page's failure.
func listAll(ctx context.Context, c caller) outcome {
	cursor := ""
	var all outcome
	for page := 1; ; page++ {
		o := c.call(ctx, methodToolsList, listParams(cursor))
		if o.kind != outcomeOK {
			return o
		}
		all.tools += o.tools
		all.pages = page
		all.done = o.done
		if o.nextCursor == "" {
			return all
		}
		if page == maxPages {
			return outcome{kind: outcomeTransport, message: fmt.Sprintf("tools/list still has a nextCursor after %d pages", maxPages)}
		}
		cursor = o.nextCursor
	}
}

// describe says how a failed request ended, in a few words.
func (o outcome) describe() string {
	switch o.kind {
	case outcomeOK:
		return "ok"
	case outcomeRPCError:
		return fmt.Sprintf("JSON-RPC error %d: %s", o.code, o.message)
	case outcomeToolError:
		return "tool error: " + o.message
	case outcomeTimeout:
		return "timed out"
	case outcomeCancelled:
		return "cancelled"
	default:
		return o.message
	}
}
