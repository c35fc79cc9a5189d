package messages

import (
	"time"

	"github.com/asynkron/protoactor-go/actor"
)

// ServersRequest asks the fleet for the server actors it runs, answered
// with a ServerList.
type ServersRequest struct{}

// ServerList is the fleet's server actors, by name, with the last lines
// each server's process wrote to its standard error.
type ServerList struct {
	Servers []ServerRef
}

// ServerRef is one server actor as the fleet knows it.
type ServerRef struct {
	Name   string
	PID    *actor.PID
	Asleep bool     // waiting for a restart: its actor answers nothing until then
	Stderr []string // the last few lines of its standard error
}

// ServerInfoRequest asks a server actor what it runs now, answered with
// a ServerInfo.
type ServerInfoRequest struct{}

// ServerInfo is what a server actor runs now.
type ServerInfo struct {
	Name       string
	ProcessID  int       // of its process; 0 for a remote server, or when none runs
	Revision   string    // the protocol revision negotiated; "" until ready
	ReadySince time.Time // zero when not ready
	InFlight   int       // clients' requests sent to it and not answered, and those queued
	Queued     int       // of InFlight, those queued: waiting for a slot or for the server to be ready
}

// SessionsRequest asks the router for the client sessions it knows,
// answered with a SessionList.
type SessionsRequest struct{}

// SessionList is the client sessions' front actors.
type SessionList struct {
	Sessions []*actor.PID
}

// SessionInfoRequest asks a front actor about its session, answered with
// a SessionInfo.
type SessionInfoRequest struct{}

// SessionInfo is one client session as its front actor sees it.
type SessionInfo struct {
	Transport  string // stdio, socket, streamable, sse, ws; "" when not told
	ClientName string // clientInfo.name of its initialize; "" before
	Workspace  string
	InFlight   int // the client's requests not answered yet
}

// ServerStderr is a line a server's process wrote to its standard error,
// for the fleet to keep.
type ServerStderr struct {
	Server string
	Line   string
}

// LogsRequest asks the fleet for the standard error a server's processes
// wrote, kept lines numbered After and later; answered with Logs.
type LogsRequest struct {
	Server string
	After  uint64
}

// Logs is the kept standard error of one server. Unknown is set when no
// server has that name; Servers then names those there are.
type Logs struct {
	Unknown bool
	Servers []string
	Lines   []string
	Next    uint64 // the number of the line after the last one given
}

// Activity is a call to a server of the plugged.in App, reported to the
// App after it ended.
type Activity struct {
	Action        string // tool_call, prompt_get or resource_read
	ServerName    string // the App's name of the server
	ServerUUID    string
	ItemName      string // the tool's or prompt's own name, or the resource's URI
	Success       bool
	ErrorMessage  string
	ExecutionTime time.Duration
}
