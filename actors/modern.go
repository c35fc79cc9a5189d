package actors

import (
	"bytes"
	"encoding/json"

	"github.com/plugboard/plugboard/transports"
)

// logNone is a log level above every severity: the session gets no
// notifications/message.
const logNone = 8

// adoptModernMeta takes what a request of the 2026-07-28 revision declares
// in its _meta for itself: the client's capabilities (which decide what a
// server may ask it) and the log level (without one, no log messages). A
// handshake-era request has no such _meta and changes nothing.
func (f *frontActor) adoptModernMeta(params json.RawMessage) {
	if !bytes.Contains(params, []byte(transports.MetaProtocolVersion)) {
		return
	}
	var p struct {
		Meta struct {
			Caps     map[string]json.RawMessage `json:"io.modelcontextprotocol/clientCapabilities"`
			LogLevel string                     `json:"io.modelcontextprotocol/logLevel"`
		} `json:"_meta"`
	}
	if json.Unmarshal(params, &p) != nil {
		return
	}
	f.clientCaps = p.Meta.Caps
	f.listening = true
	f.logLevel = logNone
	if sev := logSeverity(p.Meta.LogLevel); sev >= 0 {
		f.logLevel = sev
	}
}
