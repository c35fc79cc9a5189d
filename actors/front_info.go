package actors

import (
	"encoding/json"

	"github.com/plugboard/plugboard/messages"
	"github.com/plugboard/plugboard/transports"
)

// sessionTransport tells a front which transport its session came over.
type sessionTransport struct{ name string }

// DescribeTransport implements transports.TransportDescriber: status
// shows the session as coming over the named transport.
func (s *Session) DescribeTransport(name string) {
	s.root.Send(s.front, &sessionTransport{name: name})
}

// info answers a SessionInfoRequest.
func (f *frontActor) info() *messages.SessionInfo {
	return &messages.SessionInfo{Transport: f.transport, ClientName: f.clientName, Workspace: f.workspace, InFlight: len(f.inflight)}
}

var (
	clientInfoMember = []string{"clientInfo"}
	nameMember       = []string{"name"}
)

// initializingClient is params.clientInfo.name of an initialize, or "" when it
// has none (or an ambiguous one).
func initializingClient(params json.RawMessage) string {
	var v [1]json.RawMessage
	if transports.ReadMembers(params, clientInfoMember, v[:]) != nil || v[0] == nil {
		return ""
	}
	info := v[0]
	if transports.ReadMembers(info, nameMember, v[:]) != nil || v[0] == nil {
		return ""
	}
	var name string
	if json.Unmarshal(v[0], &name) != nil {
		return ""
	}
	return name
}
