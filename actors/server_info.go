package actors

import "github.com/plugboard/plugboard/messages"

// info answers a ServerInfoRequest: what the current incarnation runs.
func (s *serverActor) info() *messages.ServerInfo {
	out := &messages.ServerInfo{Name: s.cfg.Name}
	for _, p := range s.inflight {
		if p.session != nil {
			out.InFlight++
		}
	}
	out.Queued = s.calls.queued
	out.InFlight += s.calls.queued
	if s.conn == nil {
		return out
	}
	out.Revision, out.ReadySince = s.revision, s.readyAt
	if p, ok := s.conn.(interface{ PID() int }); ok {
		out.ProcessID = p.PID()
	}
	return out
}
