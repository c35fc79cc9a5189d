package main

// The requestState of 2026-07-28 multi round-trip requests passes through
// the client, which may alter it, so the fixture seals what it puts there.

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// stateLifetime is how long a sealed requestState stays valid: long enough
// for a person to answer an elicitation, short enough to bound replays.
const stateLifetime = 10 * time.Minute

// Reasons a requestState is refused.
var (
	errStateTampered = errors.New("requestState failed integrity verification")
	errStateForeign  = errors.New("requestState belongs to another request")
	errStateExpired  = errors.New("requestState has expired")
)

// stateSealer seals and opens requestState values with HMAC-SHA256 under
// a key drawn at random when the process starts, so a state is good only
// for the process that issued it, only for the request it was issued for
// and only until it expires.
type stateSealer struct {
	key []byte
	now func() time.Time
}

func newStateSealer() *stateSealer {
	key := make([]byte, 32)
	_, _ = rand.Read(key) // crypto/rand.Read never fails
	return &stateSealer{key: key, now: time.Now}
}

// stateEnvelope is what a sealed requestState carries.
type stateEnvelope struct {
	Request string          `json:"request"` // e.g. "tools/call test_input_required_result_multi_round"
	Expires int64           `json:"expires"` // Unix seconds
	Data    json.RawMessage `json:"data"`    // the handler's own state
}

// seal returns the requestState that carries data for request, which
// names the method and the tool or prompt the state belongs to.
func (ss *stateSealer) seal(request string, data json.RawMessage) string {
	payload := mustRaw(stateEnvelope{Request: request, Expires: ss.now().Add(stateLifetime).Unix(), Data: data})
	enc := base64.RawURLEncoding
	return enc.EncodeToString(payload) + "." + enc.EncodeToString(ss.mac(payload))
}

// open verifies a requestState a client echoed for request and returns
// the data sealed in it.
func (ss *stateSealer) open(request, state string) (json.RawMessage, error) {
	enc := base64.RawURLEncoding
	payloadText, macText, ok := strings.Cut(state, ".")
	payload, errP := enc.DecodeString(payloadText)
	mac, errM := enc.DecodeString(macText)
	if !ok || errP != nil || errM != nil || !hmac.Equal(mac, ss.mac(payload)) {
		return nil, errStateTampered
	}
	var env stateEnvelope
	if err := json.Unmarshal(payload, &env); err != nil {
		return nil, fmt.Errorf("%w: %v", errStateTampered, err)
	}
	if env.Request != request {
		return nil, fmt.Errorf("%w: it was issued for %s", errStateForeign, env.Request)
	}
	if ss.now().Unix() > env.Expires {
		return nil, errStateExpired
	}
	return env.Data, nil
}

func (ss *stateSealer) mac(payload []byte) []byte {
	h := hmac.New(sha256.New, ss.key)
	h.Write(payload)
	return h.Sum(nil)
}
