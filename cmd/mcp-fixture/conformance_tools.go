package main

// Tools that the server scenarios of the official MCP conformance suite
// (@modelcontextprotocol/conformance) call, with the names, arguments and
// results those scenarios check.

import (
	"context"
	"encoding/json"
	"time"
)

// jsonSchema2020Schema must reach the client with $schema, $defs and
// additionalProperties (SEP-1613), and $anchor, allOf/anyOf and
// if/then/else (SEP-2106), intact.
const jsonSchema2020Schema = `{"$schema":"https://json-schema.org/draft/2020-12/schema","type":"object",` +
	`"$defs":{"address":{"$anchor":"addressDef","type":"object","properties":{"street":{"type":"string"},"city":{"type":"string"}}}},` +
	`"properties":{"name":{"type":"string"},"address":{"$ref":"#/$defs/address"},` +
	`"contactMethod":{"type":"string","enum":["phone","email"]},"phone":{"type":"string"},"email":{"type":"string"}},` +
	`"allOf":[{"anyOf":[{"required":["phone"]},{"required":["email"]}]}],` +
	`"if":{"properties":{"contactMethod":{"const":"phone"}},"required":["contactMethod"]},` +
	`"then":{"required":["phone"]},"else":{"required":["email"]},` +
	`"additionalProperties":false}`

// conformanceStepDelay spaces out the notifications of the logging and
// progress scenarios, which check that several arrive during one call.
const conformanceStepDelay = 50 * time.Millisecond

func (s *session) conformanceTools() []tool {
	return []tool{
		newTool("test_simple_text", "Tests simple text content response", noArgsSchema, constant(
			textResult("This is a simple text response for testing."))),
		newTool("test_image_content", "Tests image content response", noArgsSchema, constant(
			toolResult{Content: []any{image(pngPixel, "image/png")}})),
		newTool("test_audio_content", "Tests audio content response", noArgsSchema, constant(
			toolResult{Content: []any{audio(wavSilence, "audio/wav")}})),
		newTool("test_embedded_resource", "Tests embedded resource content response", noArgsSchema, constant(
			toolResult{Content: []any{embedded(resourceContents{
				URI: "test://embedded-resource", MimeType: "text/plain", Text: "This is an embedded resource content.",
			})}})),
		newTool("test_multiple_content_types", "Tests response with multiple content types (text, image, resource)", noArgsSchema, constant(
			toolResult{Content: []any{
				text("Multiple content types test:"),
				image(pngPixel, "image/png"),
				embedded(resourceContents{
					URI: "test://mixed-content-resource", MimeType: "application/json", Text: `{"test":"data","value":123}`,
				}),
			}})),
		newTool("test_tool_with_logging", "Tests tool that emits log messages during execution", noArgsSchema, s.testToolWithLogging),
		newTool("test_tool_with_progress", "Tests tool that reports progress notifications", noArgsSchema, s.testToolWithProgress),
		newTool("test_error_handling", "Tests error response handling", noArgsSchema, constant(
			errorResult("This tool intentionally returns an error for testing"))),
		newTool("test_reconnection", "Tests SSE stream disconnection and client reconnection (SEP-1699): "+
			"over Streamable HTTP it closes the stream carrying the call and answers after a short pause, "+
			"so the answer comes only to a client that reconnects with Last-Event-ID; "+
			"other transports have no stream to close, so it just answers after the pause.", noArgsSchema, s.testReconnection),
		newTool("test_sampling", "Tests server-initiated sampling (LLM completion request)", samplingSchema, s.toolRounds(s.testSampling)),
		newTool("test_elicitation", "Tests server-initiated elicitation (user input request)", elicitationSchema, s.toolRounds(s.testElicitation)),
		newTool("test_elicitation_sep1034_defaults", "Tests elicitation with default values per SEP-1034", noArgsSchema,
			s.toolRounds(s.testElicitationDefaults)),
		newTool("test_elicitation_sep1330_enums", "Tests elicitation with enum schema improvements per SEP-1330", noArgsSchema,
			s.toolRounds(s.testElicitationEnums)),
		newTool("json_schema_2020_12_tool", "Tool with JSON Schema 2020-12 features for conformance testing (SEP-1613)",
			jsonSchema2020Schema, s.jsonSchema2020Tool),
	}
}

// constant is a handler that always returns the same result.
func constant(result toolResult) toolHandler {
	return func(context.Context, toolCall) (any, error) { return result, nil }
}

func (s *session) testToolWithLogging(ctx context.Context, _ toolCall) (any, error) {
	steps := []string{"Tool execution started", "Tool processing data", "Tool execution completed"}
	for i, step := range steps {
		if i > 0 {
			if err := pause(ctx, conformanceStepDelay); err != nil {
				return nil, err
			}
		}
		s.sendLog(ctx, "info", step)
	}
	return textResult("Tool with logging executed successfully"), nil
}

func (s *session) testToolWithProgress(ctx context.Context, call toolCall) (any, error) {
	for i, progress := range []float64{0, 50, 100} {
		if i > 0 {
			if err := pause(ctx, conformanceStepDelay); err != nil {
				return nil, err
			}
		}
		s.sendProgress(ctx, call.progressToken, progress, 100, "")
	}
	return textResult("Tool with progress executed successfully"), nil
}

func (s *session) testReconnection(ctx context.Context, _ toolCall) (any, error) {
	s.out.disconnect(ctx)
	if err := pause(ctx, 100*time.Millisecond); err != nil {
		return nil, err
	}
	return textResult("Reconnection test completed successfully. If you received this, " +
		"the client properly reconnected after stream closure."), nil
}

func (s *session) jsonSchema2020Tool(_ context.Context, call toolCall) (any, error) {
	args := json.RawMessage("{}")
	if !isAbsent(call.arguments) {
		args = json.RawMessage(compactJSON(call.arguments))
	}
	return textResult("JSON Schema 2020-12 tool called with: " + string(args)), nil
}
