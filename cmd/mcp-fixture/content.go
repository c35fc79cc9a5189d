package main

// Content blocks and results shared by tools and prompts, in the shapes of
// the MCP schema.

// pngPixel is a 1x1 red PNG, base64-encoded.
const pngPixel = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=="

// wavSilence is a minimal 8 kHz mono WAV file, base64-encoded.
const wavSilence = "UklGRiYAAABXQVZFZm10IBAAAAABAAEAQB8AAAB9AAACABAAZGF0YQIAAAA="

type textBlock struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

// mediaBlock is image or audio content.
type mediaBlock struct {
	Type     string `json:"type"`
	Data     string `json:"data"`
	MimeType string `json:"mimeType"`
}

type resourceBlock struct {
	Type     string           `json:"type"`
	Resource resourceContents `json:"resource"`
}

// resourceContents is text or blob resource contents, as read or embedded.
type resourceContents struct {
	URI      string `json:"uri"`
	MimeType string `json:"mimeType,omitempty"`
	Text     string `json:"text,omitempty"`
	Blob     string `json:"blob,omitempty"`
}

func text(s string) textBlock { return textBlock{Type: "text", Text: s} }

func image(data, mimeType string) mediaBlock {
	return mediaBlock{Type: "image", Data: data, MimeType: mimeType}
}

func audio(data, mimeType string) mediaBlock {
	return mediaBlock{Type: "audio", Data: data, MimeType: mimeType}
}

func embedded(contents resourceContents) resourceBlock {
	return resourceBlock{Type: "resource", Resource: contents}
}

// toolResult is a CallToolResult.
type toolResult struct {
	Content           []any `json:"content"`
	StructuredContent any   `json:"structuredContent,omitempty"`
	IsError           bool  `json:"isError,omitempty"`
}

func textResult(s string) toolResult {
	return toolResult{Content: []any{text(s)}}
}

// errorResult reports a failure inside a tool, which the caller's model
// gets to see, as opposed to a JSON-RPC error about the request itself.
func errorResult(s string) toolResult {
	return toolResult{Content: []any{text(s)}, IsError: true}
}
