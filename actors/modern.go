package actors

import (
	"bytes"
	"encoding/json"

	"github.com/plugboard/plugboard/transports"
)

// logNone is a log level above every severity: the session gets no
// notifications/message.
const logNone = 8

// metaParams and modernMetaNames are the members adoptModernMeta reads.
var (
	metaParams      = []string{"_meta"}
	modernMetaNames = []string{transports.MetaClientCapabilities, transports.MetaLogLevel}
)

// adoptModernMeta takes what a request of the 2026-07-28 revision declares
// in its _meta for itself: the client's capabilities (which decide what a
// server may ask it) and the log level (without one, no log messages). A
// handshake-era request has no such _meta and changes nothing.
func (f *frontActor) adoptModernMeta(params json.RawMessage) {
	if !bytes.Contains(params, []byte(transports.MetaProtocolVersion)) {
		return
	}
	// By exact names, as parseModern read (and checked) them.
	var meta, values [2]json.RawMessage
	if transports.ReadMembers(params, metaParams, meta[:1]) != nil || transports.ReadMembers(meta[0], modernMetaNames, values[:]) != nil {
		return
	}
	var caps map[string]json.RawMessage
	if values[0] != nil && json.Unmarshal(values[0], &caps) != nil {
		return
	}
	f.clientCaps = caps
	f.listening = true
	f.logLevel = logNone
	level, _ := stringMember("", "", values[1])
	if sev := logSeverity(level); sev >= 0 {
		f.logLevel = sev
	}
}

// modernMetaKeys are the _meta members by which a request declares itself
// one of the 2026-07-28 revision.
var modernMetaKeys = []string{transports.MetaProtocolVersion, transports.MetaClientCapabilities, transports.MetaClientInfo, transports.MetaLogLevel}

// withoutModernMeta removes the 2026-07-28 revision's members from the
// _meta of a request's params (its other members, such as progressToken,
// stay). Params it cannot read are returned as they are.
func withoutModernMeta(params json.RawMessage) json.RawMessage {
	var meta map[string]json.RawMessage
	if json.Unmarshal(field(params, "_meta"), &meta) != nil {
		return params
	}
	for _, k := range modernMetaKeys {
		delete(meta, k)
	}
	out, err := replaceField(params, "_meta", mustJSON(meta))
	if err != nil {
		return params
	}
	return out
}
