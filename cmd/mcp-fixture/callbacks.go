package main

// Tools that call back into the client with a server-to-client request
// (roots/list, sampling/createMessage, elicitation/create) over the same
// connection and build their result from the client's answer.

import (
	"context"
	"encoding/json"
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

func (s *session) roots(ctx context.Context, _ toolCall) (any, error) {
	if !s.negotiated().roots {
		return errorResult("client does not support roots (no roots capability)"), nil
	}
	answer, err := s.request(ctx, "roots/list", nil)
	if err != nil {
		return callbackFailure(ctx, "roots/list", err)
	}
	var result struct {
		Roots json.RawMessage `json:"roots"`
	}
	if err := json.Unmarshal(answer, &result); err != nil || isAbsent(result.Roots) {
		return errorResult(fmt.Sprintf("roots/list answer has no roots: %s", answer)), nil
	}
	return textResult(compactJSON(result.Roots)), nil
}

type samplingMessage struct {
	Role    string `json:"role"`
	Content any    `json:"content"`
}

type samplingParams struct {
	Messages  []samplingMessage `json:"messages"`
	MaxTokens int               `json:"maxTokens"`
}

func (s *session) testSampling(ctx context.Context, call toolCall) (any, error) {
	var args struct {
		Prompt string `json:"prompt"`
	}
	if err := call.decode(&args); err != nil {
		return errorResult(err.Error()), nil
	}
	if !s.negotiated().sampling {
		return errorResult("client does not support sampling (no sampling capability)"), nil
	}
	params := samplingParams{
		Messages:  []samplingMessage{{Role: "user", Content: text(args.Prompt)}},
		MaxTokens: 100,
	}
	answer, err := s.request(ctx, "sampling/createMessage", params)
	if err != nil {
		return callbackFailure(ctx, "sampling/createMessage", err)
	}
	var result struct {
		Content json.RawMessage `json:"content"`
	}
	if err := json.Unmarshal(answer, &result); err != nil {
		return errorResult(fmt.Sprintf("sampling/createMessage answer is not a result object: %s", answer)), nil
	}
	return textResult("LLM response: " + firstText(result.Content)), nil
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

func (s *session) testElicitation(ctx context.Context, call toolCall) (any, error) {
	var args struct {
		Message string `json:"message"`
	}
	if err := call.decode(&args); err != nil {
		return errorResult(err.Error()), nil
	}
	return s.elicit(ctx, args.Message, userInfoSchema, "User response")
}

func (s *session) testElicitationDefaults(ctx context.Context, _ toolCall) (any, error) {
	return s.elicit(ctx, "Please review and update the form fields with defaults", defaultsSchema, "Elicitation completed")
}

func (s *session) testElicitationEnums(ctx context.Context, _ toolCall) (any, error) {
	return s.elicit(ctx, "Please select options from the enum fields", enumsSchema, "Elicitation completed")
}

type elicitParams struct {
	Mode            string          `json:"mode,omitempty"`
	Message         string          `json:"message"`
	RequestedSchema json.RawMessage `json:"requestedSchema"`
}

// elicit asks the client to fill in a form and reports its answer as
// "PREFIX: action=ACTION, content=JSON".
func (s *session) elicit(ctx context.Context, message, schema, prefix string) (any, error) {
	client := s.negotiated()
	if !client.elicitation {
		return errorResult("client does not support elicitation (no elicitation capability)"), nil
	}
	params := elicitParams{Message: message, RequestedSchema: json.RawMessage(schema)}
	if client.protocolVersion >= "2025-11-25" {
		params.Mode = "form" // form and url modes exist since 2025-11-25
	}
	answer, err := s.request(ctx, "elicitation/create", params)
	if err != nil {
		return callbackFailure(ctx, "elicitation/create", err)
	}
	var result struct {
		Action  string          `json:"action"`
		Content json.RawMessage `json:"content"`
	}
	if err := json.Unmarshal(answer, &result); err != nil {
		return errorResult(fmt.Sprintf("elicitation/create answer is not a result object: %s", answer)), nil
	}
	content := "{}"
	if !isAbsent(result.Content) {
		content = compactJSON(result.Content)
	}
	return textResult(fmt.Sprintf("%s: action=%s, content=%s", prefix, result.Action, content)), nil
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
