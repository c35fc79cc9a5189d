package main

// Tools that need the client's roots, its LLM (sampling) or its user
// (elicitation) and build their result from the client's answer: multi-
// round handlers (mrtr.go), so that a legacy session gets a server-to-client
// request and a 2026-07-28 client an InputRequiredResult.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
)

const (
	samplingSchema    = `{"type":"object","properties":{"prompt":{"type":"string","description":"The prompt to send to the LLM"}},"required":["prompt"]}`
	elicitationSchema = `{"type":"object","properties":{"message":{"type":"string","description":"The message to show the user"}},"required":["message"]}`

	// userInfoSchema is the form the tools-call-elicitation scenario asks for.
	userInfoSchema = `{"type":"object","properties":{` +
		`"username":{"type":"string","description":"User's response"},` +
		`"email":{"type":"string","description":"User's email address"}},` +
		`"required":["username","email"]}`

	// defaultsSchema has a default for every primitive type (SEP-1034).
	defaultsSchema = `{"type":"object","properties":{` +
		`"name":{"type":"string","description":"User name","default":"John Doe"},` +
		`"age":{"type":"integer","description":"User age","default":30},` +
		`"score":{"type":"number","description":"User score","default":95.5},` +
		`"status":{"type":"string","description":"User status","enum":["active","inactive","pending"],"default":"active"},` +
		`"verified":{"type":"boolean","description":"Verification status","default":true}},` +
		`"required":[]}`

	// enumsSchema has all five enum variants of SEP-1330.
	enumsSchema = `{"type":"object","properties":{` +
		`"untitledSingle":{"type":"string","description":"Select one option","enum":["option1","option2","option3"]},` +
		`"titledSingle":{"type":"string","description":"Select one option with titles","oneOf":[` +
		`{"const":"value1","title":"First Option"},{"const":"value2","title":"Second Option"},{"const":"value3","title":"Third Option"}]},` +
		`"legacyEnum":{"type":"string","description":"Select one option (legacy)","enum":["opt1","opt2","opt3"],` +
		`"enumNames":["Option One","Option Two","Option Three"]},` +
		`"untitledMulti":{"type":"array","description":"Select multiple options","minItems":1,"maxItems":3,` +
		`"items":{"type":"string","enum":["option1","option2","option3"]}},` +
		`"titledMulti":{"type":"array","description":"Select multiple options with titles","minItems":1,"maxItems":3,` +
		`"items":{"anyOf":[{"const":"value1","title":"First Choice"},{"const":"value2","title":"Second Choice"},{"const":"value3","title":"Third Choice"}]}}},` +
		`"required":[]}`
)

func (s *session) roots(_ context.Context, _ toolCall, r round) (roundResult, error) {
	if err := r.require("roots"); err != nil {
		return roundResult{}, err
	}
	var answer rootsAnswer
	if ok, err := r.answer("roots", "roots/list", &answer); err != nil || !ok {
		return needs(map[string]inputRequest{"roots": {Method: "roots/list"}}, nil), err
	}
	return finished(textResult(compactJSON(answer.Roots))), nil
}

type samplingMessage struct {
	Role    string `json:"role"`
	Content any    `json:"content"`
}

type samplingParams struct {
	Messages  []samplingMessage `json:"messages"`
	MaxTokens int               `json:"maxTokens"`
}

// samplingRequest asks the client's LLM to answer prompt.
func samplingRequest(prompt string, maxTokens int) inputRequest {
	params := samplingParams{Messages: []samplingMessage{{Role: "user", Content: text(prompt)}}, MaxTokens: maxTokens}
	return inputRequest{Method: "sampling/createMessage", Params: mustRaw(params)}
}

func (s *session) testSampling(_ context.Context, call toolCall, r round) (roundResult, error) {
	var args struct {
		Prompt string `json:"prompt"`
	}
	if err := call.decode(&args); err != nil {
		return finished(errorResult(err.Error())), nil
	}
	if err := r.require("sampling"); err != nil {
		return roundResult{}, err
	}
	var answer samplingAnswer
	if ok, err := r.answer("sampling", "sampling/createMessage", &answer); err != nil || !ok {
		return needs(map[string]inputRequest{"sampling": samplingRequest(args.Prompt, 100)}, nil), err
	}
	return finished(textResult("LLM response: " + firstText(answer.Content))), nil
}

// firstText is the text of a sampled message's content, which is one
// content block or, since 2025-11-25, an array of them.
func firstText(content json.RawMessage) string {
	var blocks []textBlock
	if err := json.Unmarshal(content, &blocks); err != nil {
		var one textBlock
		if json.Unmarshal(content, &one) == nil {
			blocks = []textBlock{one}
		}
	}
	for _, b := range blocks {
		if b.Type == "text" {
			return b.Text
		}
	}
	return "No response"
}

func (s *session) testElicitation(_ context.Context, call toolCall, r round) (roundResult, error) {
	var args struct {
		Message string `json:"message"`
	}
	if err := call.decode(&args); err != nil {
		return finished(errorResult(err.Error())), nil
	}
	return elicit(r, args.Message, userInfoSchema, "User response")
}

func (s *session) testElicitationDefaults(_ context.Context, _ toolCall, r round) (roundResult, error) {
	return elicit(r, "Please review and update the form fields with defaults", defaultsSchema, "Elicitation completed")
}

func (s *session) testElicitationEnums(_ context.Context, _ toolCall, r round) (roundResult, error) {
	return elicit(r, "Please select options from the enum fields", enumsSchema, "Elicitation completed")
}

type elicitParams struct {
	Mode            string          `json:"mode,omitempty"`
	Message         string          `json:"message"`
	RequestedSchema json.RawMessage `json:"requestedSchema"`
}

// elicitationRequest asks the user to fill in a form; mode is "form" or
// "" for clients from before modes.
func elicitationRequest(mode, message, schema string) inputRequest {
	params := elicitParams{Mode: mode, Message: message, RequestedSchema: json.RawMessage(schema)}
	return inputRequest{Method: "elicitation/create", Params: mustRaw(params)}
}

// elicit asks the client to fill in a form and reports its answer as
// "PREFIX: action=ACTION, content=JSON".
func elicit(r round, message, schema, prefix string) (roundResult, error) {
	if err := r.require("elicitation"); err != nil {
		return roundResult{}, err
	}
	var answer elicitAnswer
	if ok, err := r.answer("elicitation", "elicitation/create", &answer); err != nil || !ok {
		mode := ""
		if r.protocolVersion >= "2025-11-25" {
			mode = "form" // form and url modes exist since 2025-11-25
		}
		return needs(map[string]inputRequest{"elicitation": elicitationRequest(mode, message, schema)}, nil), err
	}
	return finished(textResult(fmt.Sprintf("%s: action=%s, content=%s", prefix, answer.Action, answer.contentJSON()))), nil
}

// elicitAnswer is an ElicitResult.
type elicitAnswer struct {
	Action  string          `json:"action"`
	Content json.RawMessage `json:"content"`
}

func (a *elicitAnswer) check() error {
	switch a.Action {
	case "accept", "decline", "cancel":
		return nil
	}
	return fmt.Errorf("action %q is none of accept, decline and cancel", a.Action)
}

// contentJSON is the submitted form, compact, or {} when there is none.
func (a *elicitAnswer) contentJSON() string {
	if isAbsent(a.Content) {
		return "{}"
	}
	return compactJSON(a.Content)
}

// field returns the string the user gave for name, or "" when the form
// was not accepted or lacks it.
func (a *elicitAnswer) field(name string) string {
	var content map[string]any
	if a.Action != "accept" || json.Unmarshal(a.Content, &content) != nil {
		return ""
	}
	if v, ok := content[name].(string); ok {
		return v
	}
	if v, ok := content[name]; ok && v != nil {
		return fmt.Sprint(v)
	}
	return ""
}

// samplingAnswer is a CreateMessageResult.
type samplingAnswer struct {
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"`
}

func (a *samplingAnswer) check() error {
	if isAbsent(a.Content) {
		return errors.New("it has no content")
	}
	return nil
}

// rootsAnswer is a ListRootsResult.
type rootsAnswer struct {
	Roots json.RawMessage `json:"roots"`
}

func (a *rootsAnswer) check() error {
	var roots []json.RawMessage
	if json.Unmarshal(a.Roots, &roots) != nil || roots == nil {
		return errors.New("it has no roots array")
	}
	return nil
}

// callbackFailure turns a failed server-to-client request into the tool's
// outcome: no answer at all if the call itself was cancelled, otherwise an
// error result that carries the client's error message.
func callbackFailure(ctx context.Context, method string, err error) (any, error) {
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	return errorResult(fmt.Sprintf("%s failed: %v", method, err)), nil
}
