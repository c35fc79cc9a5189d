package main

// The tools and the prompt that the 2026-07-28 server scenarios of the
// conformance suite call (input-required-result-*, server-stateless), with
// the input request keys, messages and schemas their descriptions give.
// Each is a multi-round handler, so a legacy session gets the same
// requests as server-to-client requests and the same final result.

import (
	"context"
	"fmt"
	"strings"
)

const (
	nameSchema    = `{"type":"object","properties":{"name":{"type":"string"}},"required":["name"]}`
	confirmSchema = `{"type":"object","properties":{"ok":{"type":"boolean"}},"required":["ok"]}`
	colorSchema   = `{"type":"object","properties":{"color":{"type":"string"}},"required":["color"]}`
	contextSchema = `{"type":"object","properties":{"context":{"type":"string"}},"required":["context"]}`
)

// emptyParams are the params of roots/list as the scenarios spell them.
const emptyParams = `{}`

func (s *session) inputRequiredTools() []tool {
	return []tool{
		newTool("test_input_required_result_elicitation", "Asks the user's name by elicitation (key user_name) and greets them.",
			noArgsSchema, s.toolRounds(s.irElicitation)),
		newTool("test_input_required_result_sampling", "Asks the client's LLM for the capital of France (key capital_question).",
			noArgsSchema, s.toolRounds(s.irSampling)),
		newTool("test_input_required_result_list_roots", "Asks for the client's roots (key client_roots) and lists them.",
			noArgsSchema, s.toolRounds(s.irListRoots)),
		newTool("test_input_required_result_request_state", "Asks for a confirmation with a sealed requestState; the result says state-ok.",
			noArgsSchema, s.toolRounds(s.irRequestState)),
		newTool("test_input_required_result_multiple_inputs", "Asks for an elicitation, a sampling and the roots at once, with a requestState.",
			noArgsSchema, s.toolRounds(s.irMultipleInputs)),
		newTool("test_input_required_result_multi_round", "Asks two questions in two rounds, the requestState changing between them.",
			noArgsSchema, s.toolRounds(s.irMultiRound)),
		newTool("test_input_required_result_tampered_state", "Asks for a confirmation with an HMAC-sealed requestState and rejects an altered one.",
			noArgsSchema, s.toolRounds(s.irTamperedState)),
		newTool("test_input_required_result_capabilities", "Asks only for what the client's capabilities allow: sampling, elicitation, roots.",
			noArgsSchema, s.toolRounds(s.irCapabilities)),
		newTool("test_missing_capability", "Needs the sampling capability; without it the call fails with MissingRequiredClientCapability.",
			noArgsSchema, s.toolRounds(s.missingCapability)),
		newTool("test_streaming_elicitation", "Asks for a confirmation by elicitation; the answer stream carries no server-to-client request under 2026-07-28.",
			noArgsSchema, s.toolRounds(s.streamingElicitation)),
		newTool("test_logging_tool", "Sends three log messages, which 2026-07-28 clients get only when their request sets a log level.",
			noArgsSchema, s.testToolWithLogging),
		newTool("test_trigger_tool_change", "Adds or removes the tool extra_tool and notifies list changes.", noArgsSchema, s.toggleTools),
		newTool("test_trigger_prompt_change", "Adds or removes the prompt extra_prompt and notifies list changes.", noArgsSchema, s.togglePrompts),
	}
}

func (s *session) irElicitation(_ context.Context, _ toolCall, r round) (roundResult, error) {
	if err := r.require("elicitation"); err != nil {
		return roundResult{}, err
	}
	var answer elicitAnswer
	if ok, err := r.answer("user_name", "elicitation/create", &answer); err != nil || !ok {
		return needs(map[string]inputRequest{"user_name": elicitationRequest("", "What is your name?", nameSchema)}, nil), err
	}
	return finished(textResult(fmt.Sprintf("Hello, %s!", answer.field("name")))), nil
}

func (s *session) irSampling(_ context.Context, _ toolCall, r round) (roundResult, error) {
	if err := r.require("sampling"); err != nil {
		return roundResult{}, err
	}
	var answer samplingAnswer
	if ok, err := r.answer("capital_question", "sampling/createMessage", &answer); err != nil || !ok {
		return needs(map[string]inputRequest{"capital_question": samplingRequest("What is the capital of France?", 100)}, nil), err
	}
	return finished(textResult("LLM response: " + firstText(answer.Content))), nil
}

func (s *session) irListRoots(_ context.Context, _ toolCall, r round) (roundResult, error) {
	if err := r.require("roots"); err != nil {
		return roundResult{}, err
	}
	var answer rootsAnswer
	if ok, err := r.answer("client_roots", "roots/list", &answer); err != nil || !ok {
		return needs(map[string]inputRequest{"client_roots": {Method: "roots/list", Params: []byte(emptyParams)}}, nil), err
	}
	return finished(textResult("Client roots: " + compactJSON(answer.Roots))), nil
}

// pendingState is the requestState of the tools that carry one: the step
// the request is at, and what earlier steps learned.
type pendingState struct {
	Step int    `json:"step"`
	Name string `json:"name,omitempty"`
}

func (s *session) irRequestState(_ context.Context, _ toolCall, r round) (roundResult, error) {
	return confirmWithState(r, "state-ok: the requestState came back intact")
}

func (s *session) irTamperedState(_ context.Context, _ toolCall, r round) (roundResult, error) {
	return confirmWithState(r, "state-ok: the requestState passed its integrity check")
}

// confirmWithState asks for a confirmation under a requestState and
// finishes only with both the answer and the state back.
func confirmWithState(r round, done string) (roundResult, error) {
	if err := r.require("elicitation"); err != nil {
		return roundResult{}, err
	}
	var state pendingState
	var answer elicitAnswer
	ok, err := r.answer("confirm", "elicitation/create", &answer)
	if err != nil || !ok || !r.carried(&state) {
		return needs(map[string]inputRequest{"confirm": elicitationRequest("", "Please confirm", confirmSchema)}, pendingState{Step: 1}), err
	}
	return finished(textResult(fmt.Sprintf("%s (action=%s, content=%s)", done, answer.Action, answer.contentJSON()))), nil
}

func (s *session) irMultipleInputs(_ context.Context, _ toolCall, r round) (roundResult, error) {
	if err := r.require("elicitation", "sampling", "roots"); err != nil {
		return roundResult{}, err
	}
	var name elicitAnswer
	var greeting samplingAnswer
	var roots rootsAnswer
	requests := map[string]inputRequest{}
	for _, q := range []struct {
		key, method string
		answer      inputAnswer
		request     inputRequest
	}{
		{"user_name", "elicitation/create", &name, elicitationRequest("", "What is your name?", nameSchema)},
		{"greeting", "sampling/createMessage", &greeting, samplingRequest("Generate a greeting", 50)},
		{"client_roots", "roots/list", &roots, inputRequest{Method: "roots/list", Params: []byte(emptyParams)}},
	} {
		ok, err := r.answer(q.key, q.method, q.answer)
		if err != nil {
			return roundResult{}, err
		}
		if !ok || !r.carried(&pendingState{}) {
			requests[q.key] = q.request
		}
	}
	if len(requests) > 0 {
		return needs(requests, pendingState{Step: 1}), nil
	}
	return finished(textResult(fmt.Sprintf("Hello, %s! greeting=%s, roots=%s",
		name.field("name"), firstText(greeting.Content), compactJSON(roots.Roots)))), nil
}

func (s *session) irMultiRound(_ context.Context, _ toolCall, r round) (roundResult, error) {
	if err := r.require("elicitation"); err != nil {
		return roundResult{}, err
	}
	askName := needs(map[string]inputRequest{"step1": elicitationRequest("", "Step 1: What is your name?", nameSchema)}, pendingState{Step: 1})
	var state pendingState
	if !r.carried(&state) {
		return askName, nil
	}
	switch state.Step {
	case 1:
		var answer elicitAnswer
		if ok, err := r.answer("step1", "elicitation/create", &answer); err != nil || !ok {
			return askName, err
		}
		return needs(map[string]inputRequest{"step2": elicitationRequest("", "Step 2: What is your favorite color?", colorSchema)},
			pendingState{Step: 2, Name: answer.field("name")}), nil
	case 2:
		var answer elicitAnswer
		if ok, err := r.answer("step2", "elicitation/create", &answer); err != nil || !ok {
			return needs(map[string]inputRequest{"step2": elicitationRequest("", "Step 2: What is your favorite color?", colorSchema)}, state), err
		}
		return finished(textResult(fmt.Sprintf("%s's favorite color is %s.", state.Name, answer.field("color")))), nil
	}
	return askName, nil
}

// irCapabilities asks for one thing per capability the client declared.
func (s *session) irCapabilities(_ context.Context, _ toolCall, r round) (roundResult, error) {
	var got, requests = []string{}, map[string]inputRequest{}
	for _, q := range []struct {
		capability, method string
		answer             inputAnswer
		request            inputRequest
	}{
		{"elicitation", "elicitation/create", &elicitAnswer{}, elicitationRequest("", "What is your name?", nameSchema)},
		{"roots", "roots/list", &rootsAnswer{}, inputRequest{Method: "roots/list", Params: []byte(emptyParams)}},
		{"sampling", "sampling/createMessage", &samplingAnswer{}, samplingRequest("Say hello", 50)},
	} {
		if !r.caps.has(q.capability) {
			continue
		}
		ok, err := r.answer(q.capability, q.method, q.answer)
		if err != nil {
			return roundResult{}, err
		}
		if ok {
			got = append(got, q.capability)
		} else {
			requests[q.capability] = q.request
		}
	}
	if len(requests) > 0 {
		return needs(requests, nil), nil
	}
	if len(got) == 0 {
		return finished(textResult("The client declared none of elicitation, roots and sampling, so nothing was asked.")), nil
	}
	return finished(textResult("Answered: " + strings.Join(got, ", "))), nil
}

func (s *session) missingCapability(_ context.Context, _ toolCall, r round) (roundResult, error) {
	if err := r.require("sampling"); err != nil {
		return roundResult{}, err
	}
	var answer samplingAnswer
	if ok, err := r.answer("sampling", "sampling/createMessage", &answer); err != nil || !ok {
		return needs(map[string]inputRequest{"sampling": samplingRequest("Say hello", 50)}, nil), err
	}
	return finished(textResult("LLM response: " + firstText(answer.Content))), nil
}

func (s *session) streamingElicitation(_ context.Context, _ toolCall, r round) (roundResult, error) {
	if err := r.require("elicitation"); err != nil {
		return roundResult{}, err
	}
	var answer elicitAnswer
	if ok, err := r.answer("confirm", "elicitation/create", &answer); err != nil || !ok {
		return needs(map[string]inputRequest{"confirm": elicitationRequest("", "Please confirm", confirmSchema)}, nil), err
	}
	return finished(textResult(fmt.Sprintf("Elicitation completed: action=%s, content=%s", answer.Action, answer.contentJSON()))), nil
}

func (s *session) togglePrompts(context.Context, toolCall) (any, error) {
	if s.shared.prompts.toggle() {
		return textResult("extra_prompt on"), nil
	}
	return textResult("extra_prompt off"), nil
}

// inputRequiredPrompt is test_input_required_result_prompt: it asks what
// context to use, then renders a message with it.
func (s *session) inputRequiredPrompt(_ context.Context, _ map[string]string, r round) (roundResult, error) {
	if err := r.require("elicitation"); err != nil {
		return roundResult{}, err
	}
	var answer elicitAnswer
	if ok, err := r.answer("user_context", "elicitation/create", &answer); err != nil || !ok {
		return needs(map[string]inputRequest{"user_context": elicitationRequest("", "What context should the prompt use?", contextSchema)}, nil), err
	}
	return finished(getPromptResult{
		Description: "A prompt that asks the user, by elicitation, what context to use",
		Messages:    []promptMessage{userSays(text("Use this context: " + answer.field("context")))},
	}), nil
}
