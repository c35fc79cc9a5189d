package actors

import (
	"encoding/json"

	"github.com/plugboard/plugboard/messages"
)

// initializeAnswer is plugboard's answer to a client's initialize: the
// client's protocol version if plugboard speaks it, else its newest.
func initializeAnswer(clientVersion, instructions string) json.RawMessage {
	versions := messages.ProtocolVersions()
	version := versions[0]
	for _, v := range versions {
		if v == clientVersion {
			version = v
		}
	}
	answer := map[string]any{
		"protocolVersion": version,
		"capabilities": map[string]any{
			"tools":       map[string]any{"listChanged": true},
			"prompts":     map[string]any{"listChanged": true},
			"resources":   map[string]any{"listChanged": true, "subscribe": true},
			"logging":     map[string]any{},
			"completions": map[string]any{},
		},
		"serverInfo": map[string]any{"name": "plugboard", "title": "plugboard MCP proxy", "version": Version},
	}
	if instructions != "" {
		answer["instructions"] = instructions
	}
	return mustJSON(answer)
}
