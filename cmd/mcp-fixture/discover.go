package main

import "encoding/json"

// discoverResult is the result of server/discover, the 2026-07-28
// replacement for what initialize told: the versions, capabilities and
// instructions of the server. Its serverInfo, resultType and caching
// hints are added by decorate like those of every other result.
type discoverResult struct {
	SupportedVersions []string        `json:"supportedVersions"`
	Capabilities      json.RawMessage `json:"capabilities"`
	Instructions      string          `json:"instructions,omitempty"`
}

func (s *session) discover() discoverResult {
	versions := allVersions()
	if s.cfg.statelessOnly {
		versions = versions[:1]
	}
	return discoverResult{
		SupportedVersions: versions,
		Capabilities:      json.RawMessage(serverCapabilities),
		Instructions:      s.instructions(),
	}
}
