// Command sdk-fixture is an MCP server built on the official Go SDK
// (github.com/modelcontextprotocol/go-sdk), for plugboard's tests. It does
// on purpose what no published server does, so that tests can check what
// plugboard makes of it, on an implementation plugboard's authors did not
// write: it declares no completions (the SDK then answers completion/complete
// with method-not-found), and it refuses subscriptions to resources under
// test://refused/. It serves stdio, or Streamable HTTP with -http.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

func main() {
	httpAddr := flag.String("http", "", "serve Streamable HTTP on this address instead of stdio")
	flag.Parse()

	server := mcp.NewServer(&mcp.Implementation{Name: "sdk-fixture", Version: "1.0.0"}, &mcp.ServerOptions{
		SubscribeHandler:   subscribe,
		UnsubscribeHandler: func(context.Context, *mcp.UnsubscribeRequest) error { return nil },
	})
	mcp.AddTool(server, &mcp.Tool{Name: "ask", Description: "Asks the client's model the question (sampling) and returns its answer."}, ask)
	server.AddPrompt(&mcp.Prompt{Name: "greet", Description: "Greets someone.", Arguments: []*mcp.PromptArgument{{Name: "who", Required: true}}}, greet)
	for _, uri := range []string{"test://allowed/one", "test://refused/one"} {
		server.AddResource(&mcp.Resource{URI: uri, Name: uri[len("test://"):], MIMEType: "text/plain"}, read)
	}
	server.AddResourceTemplate(&mcp.ResourceTemplate{URITemplate: "test://items/{id}", Name: "item", MIMEType: "text/plain"}, read)

	if *httpAddr != "" {
		handler := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return server }, nil)
		log.Fatal(http.ListenAndServe(*httpAddr, handler))
	}
	if err := server.Run(context.Background(), &mcp.StdioTransport{}); err != nil {
		log.Print(err)
		os.Exit(1)
	}
}

type askInput struct {
	Question string `json:"question"`
}

func ask(ctx context.Context, req *mcp.CallToolRequest, in askInput) (*mcp.CallToolResult, any, error) {
	res, err := req.Session.CreateMessage(ctx, &mcp.CreateMessageParams{
		Messages:  []*mcp.SamplingMessage{{Role: "user", Content: &mcp.TextContent{Text: in.Question}}},
		MaxTokens: 50,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("sampling failed: %w", err)
	}
	text := "(not text)"
	if tc, ok := res.Content.(*mcp.TextContent); ok {
		text = tc.Text
	}
	return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "answer: " + text}}}, nil, nil
}

func greet(_ context.Context, req *mcp.GetPromptRequest) (*mcp.GetPromptResult, error) {
	return &mcp.GetPromptResult{Messages: []*mcp.PromptMessage{{Role: "user", Content: &mcp.TextContent{Text: "Hello, " + req.Params.Arguments["who"]}}}}, nil
}

func read(_ context.Context, req *mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error) {
	return &mcp.ReadResourceResult{Contents: []*mcp.ResourceContents{{URI: req.Params.URI, MIMEType: "text/plain", Text: "contents of " + req.Params.URI}}}, nil
}

func subscribe(_ context.Context, req *mcp.SubscribeRequest) error {
	if strings.HasPrefix(req.Params.URI, "test://refused/") {
		return errors.New("subscriptions to " + req.Params.URI + " are refused")
	}
	return nil
}
