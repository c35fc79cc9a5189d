package main

// Requests that need something from the client (an elicitation, a
// sampling, the client's roots) are written once, as multi-round
// handlers, and run in either era. Under 2026-07-28 (multi round-trip
// requests) each request runs one round: the handler's needs go back in an
// InputRequiredResult, the client answers them in inputResponses on a
// retry, and what the handler carries from round to round travels sealed
// in requestState. In a legacy session the rounds run inside one request:
// each need becomes a server-to-client request over the session, and the
// state stays in memory.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// maxLegacyRounds bounds the rounds one legacy request may take, so that
// a handler that never stops asking cannot hold a call forever.
const maxLegacyRounds = 10

// inputRequest is one thing a handler needs from the client: an entry of
// inputRequests under 2026-07-28, a server-to-client request in a legacy
// session.
type inputRequest struct {
	Method string          `json:"method"`
	Params json.RawMessage `json:"params,omitempty"`
}

// round is what a handler knows when it runs: the client's answers to the
// requests of the previous round by key, the state it carried over (nil on
// the first round), and what the client can do.
type round struct {
	answers         map[string]json.RawMessage
	state           json.RawMessage
	caps            clientCaps
	protocolVersion string
}

// roundResult is either a handler's final result or, when requests is not
// nil, what it needs before it can finish and the state to carry over.
type roundResult struct {
	final    any
	requests map[string]inputRequest
	state    any // nil carries nothing
}

func finished(result any) roundResult {
	return roundResult{final: result}
}

func needs(requests map[string]inputRequest, state any) roundResult {
	return roundResult{requests: requests, state: state}
}

// roundHandler runs one round of a request.
type roundHandler func(ctx context.Context, r round) (roundResult, error)

// retryParams are the params by which a 2026-07-28 client answers an
// InputRequiredResult, next to the original params of its request.
type retryParams struct {
	InputResponses json.RawMessage `json:"inputResponses"`
	RequestState   json.RawMessage `json:"requestState"`
}

// capabilityError says that a handler needs client capabilities the
// client did not declare.
type capabilityError struct {
	missing []string
}

func (e *capabilityError) Error() string {
	var parts []string
	for _, c := range e.missing {
		parts = append(parts, fmt.Sprintf("client does not support %s (no %s capability)", c, c))
	}
	return strings.Join(parts, "; ")
}

// rpc is the MissingRequiredClientCapabilityError of 2026-07-28.
func (e *capabilityError) rpc() *rpcError {
	required := make(map[string]struct{}, len(e.missing))
	for _, c := range e.missing {
		required[c] = struct{}{}
	}
	data := struct {
		RequiredCapabilities map[string]struct{} `json:"requiredCapabilities"`
	}{required}
	return &rpcError{Code: codeMissingCapability,
		Message: "Missing required client capability: " + strings.Join(e.missing, ", "), Data: mustRaw(data)}
}

// require fails with a capabilityError unless the client declared every
// one of capabilities.
func (r round) require(capabilities ...string) error {
	var missing []string
	for _, c := range capabilities {
		if !r.caps.has(c) {
			missing = append(missing, c)
		}
	}
	if missing != nil {
		return &capabilityError{missing: missing}
	}
	return nil
}

// answerError says that the client's answer to an input request does not
// have the shape of a result of the request's method.
type answerError struct {
	key    string
	method string
	err    error
}

func (e *answerError) Error() string {
	return fmt.Sprintf("the answer to input request %q is no %s result: %v", e.key, e.method, e.err)
}

// inputAnswer is the result of a method the fixture asks clients for.
type inputAnswer interface {
	// check reports what the answer lacks, or nil.
	check() error
}

// answer decodes the client's answer to the request under key into v and
// reports whether there was one.
func (r round) answer(key, method string, v inputAnswer) (bool, error) {
	raw, ok := r.answers[key]
	if !ok {
		return false, nil
	}
	err := json.Unmarshal(raw, v)
	if err == nil {
		err = v.check()
	}
	if err != nil {
		return false, &answerError{key: key, method: method, err: err}
	}
	return true, nil
}

// carried decodes the state the previous round carried over into v and
// reports whether there was one.
func (r round) carried(v any) bool {
	return !isAbsent(r.state) && json.Unmarshal(r.state, v) == nil
}

// callbackError says that a server-to-client request of a legacy session
// failed.
type callbackError struct {
	method string
	err    error
}

func (e *callbackError) Error() string { return fmt.Sprintf("%s failed: %v", e.method, e.err) }

func (e *callbackError) Unwrap() error { return e.err }

// inputRequiredResult is the InputRequiredResult of 2026-07-28.
type inputRequiredResult struct {
	ResultType    string                  `json:"resultType"`
	InputRequests map[string]inputRequest `json:"inputRequests,omitempty"`
	RequestState  string                  `json:"requestState,omitempty"`
}

// runRounds runs h for a request as the request's era wants it. request
// names the method and the tool or prompt, such as "tools/call NAME"; a
// requestState is good only for the request it was issued for.
func (s *session) runRounds(ctx context.Context, request string, retry retryParams, h roundHandler) (any, error) {
	if m, ok := modernOf(ctx); ok {
		return s.modernRound(ctx, request, m, retry, h)
	}
	return s.legacyRounds(ctx, h)
}

// modernRound runs the one round a 2026-07-28 request gets.
func (s *session) modernRound(ctx context.Context, request string, m requestMeta, retry retryParams, h roundHandler) (any, error) {
	r := round{caps: m.caps, protocolVersion: m.protocolVersion}
	var err error
	if r.answers, err = readInputResponses(retry.InputResponses); err != nil {
		return nil, err
	}
	if !isAbsent(retry.RequestState) {
		var state string
		if json.Unmarshal(retry.RequestState, &state) != nil {
			return nil, invalidParams("Invalid params: requestState must be a string")
		}
		if r.state, err = s.shared.states.open(request, state); err != nil {
			return nil, invalidParams("Invalid params: %v", err)
		}
	}
	out, err := h(ctx, r)
	var capErr *capabilityError
	var ansErr *answerError
	switch {
	case errors.As(err, &capErr):
		return nil, capErr.rpc()
	case errors.As(err, &ansErr):
		return nil, invalidParams("Invalid params: %v", ansErr)
	case err != nil:
		return nil, err
	case out.requests == nil:
		return out.final, nil
	}
	result := inputRequiredResult{ResultType: "input_required", InputRequests: out.requests}
	if out.state != nil {
		result.RequestState = s.shared.states.seal(request, mustRaw(out.state))
	}
	return result, nil
}

// readInputResponses reads the inputResponses of a retry: absent, or an
// object whose members are answers by key. Members are checked only when
// a handler reads them, so keys the fixture never asked for are ignored.
func readInputResponses(raw json.RawMessage) (map[string]json.RawMessage, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	var answers map[string]json.RawMessage
	if string(raw) == "null" || json.Unmarshal(raw, &answers) != nil {
		return nil, invalidParams("Invalid params: inputResponses must be an object of answers by key")
	}
	return answers, nil
}

// legacyRounds runs every round of a request in a legacy session, asking
// the client for each need with a server-to-client request.
func (s *session) legacyRounds(ctx context.Context, h roundHandler) (any, error) {
	n := s.negotiated()
	r := round{caps: clientCaps{sampling: n.sampling, elicitation: n.elicitation, roots: n.roots}, protocolVersion: n.protocolVersion}
	for range maxLegacyRounds {
		out, err := h(ctx, r)
		if err != nil || out.requests == nil {
			return out.final, err
		}
		r.answers = make(map[string]json.RawMessage, len(out.requests))
		for _, key := range slices.Sorted(maps.Keys(out.requests)) {
			req := out.requests[key]
			var params any
			if len(req.Params) > 0 {
				params = req.Params
			}
			answer, err := s.request(ctx, req.Method, params)
			if err != nil {
				return nil, &callbackError{method: req.Method, err: err}
			}
			r.answers[key] = answer
		}
		r.state = nil
		if out.state != nil {
			r.state = mustRaw(out.state)
		}
	}
	return nil, fmt.Errorf("still asking the client for input after %d rounds", maxLegacyRounds)
}

// toolRounds makes a tool of a multi-round handler. In a legacy session
// a missing capability, a failed server-to-client request and an answer
// of the wrong shape are results with isError set, as the model should
// see them; under 2026-07-28 they are the JSON-RPC errors the revision
// defines.
func (s *session) toolRounds(h func(ctx context.Context, call toolCall, r round) (roundResult, error)) toolHandler {
	return func(ctx context.Context, call toolCall) (any, error) {
		result, err := s.runRounds(ctx, "tools/call "+call.name, call.retry, func(ctx context.Context, r round) (roundResult, error) {
			return h(ctx, call, r)
		})
		var capErr *capabilityError
		var ansErr *answerError
		var cbErr *callbackError
		switch {
		case errors.As(err, &capErr), errors.As(err, &ansErr):
			return errorResult(err.Error()), nil
		case errors.As(err, &cbErr):
			return callbackFailure(ctx, cbErr.method, cbErr.err)
		}
		return result, err
	}
}

// promptRounds runs a prompt's multi-round handler; in a legacy session
// its failures are JSON-RPC errors, since a prompt has no isError.
func (s *session) promptRounds(ctx context.Context, name string, retry retryParams, h roundHandler) (any, error) {
	result, err := s.runRounds(ctx, "prompts/get "+name, retry, h)
	var capErr *capabilityError
	var ansErr *answerError
	var cbErr *callbackError
	switch {
	case errors.As(err, &capErr), errors.As(err, &ansErr):
		return nil, invalidParams("prompt %s: %v", name, err)
	case errors.As(err, &cbErr) && ctx.Err() == nil:
		return nil, &rpcError{Code: codeInternalError, Message: fmt.Sprintf("prompt %s: %v", name, err)}
	}
	return result, err
}
