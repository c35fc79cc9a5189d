package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/modelcontextprotocol/go-sdk/oauthex"
)

// protectedServer is an MCP server on the official Go SDK, over Streamable
// HTTP at /mcp, that answers only requests bearing an access token its
// authorization server issued for it (RFC 8707's resource is its URL) and
// not yet expired. Without one it answers 401 with
// WWW-Authenticate: Bearer resource_metadata="…", and it serves its
// protected resource metadata (RFC 9728).
type protectedServer struct {
	srv *httptest.Server
	// URL is the MCP endpoint, which is also the resource its tokens are for.
	URL string

	mu       sync.Mutex
	accepted int // requests that bore a valid token
	refused  int // requests answered 401 or 403
}

// protectedOptions are what tests vary in a protectedServer.
type protectedOptions struct {
	// ChallengeScopes go into WWW-Authenticate's scope, and a token must
	// carry all of them.
	ChallengeScopes []string
	// MetadataScopes are the metadata's scopes_supported.
	MetadataScopes []string
	// CallScopes, when set, are the scopes a tools/call needs besides: a
	// token without them gets 403 insufficient_scope asking for them
	// (step-up, RFC 6750 §3.1).
	CallScopes []string
}

// protectedTool is the protected server's one tool, an echo.
const protectedTool = "echo"

// startProtectedServer starts a protected server whose tokens come from as.
func startProtectedServer(t *testing.T, as *authServer, opts protectedOptions) *protectedServer {
	t.Helper()
	ps := &protectedServer{}
	mux := http.NewServeMux()
	ps.srv = httptest.NewServer(mux)
	t.Cleanup(ps.srv.Close)
	ps.URL = ps.srv.URL + "/mcp"

	server := mcp.NewServer(&mcp.Implementation{Name: "protected", Version: "1.0.0"}, nil)
	mcp.AddTool(server, &mcp.Tool{Name: protectedTool, Description: "Echoes its text, to whoever holds a token."},
		func(_ context.Context, _ *mcp.CallToolRequest, in struct {
			Text string `json:"text"`
		}) (*mcp.CallToolResult, any, error) {
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "protected echo: " + in.Text}}}, nil, nil
		})
	handler := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return server }, nil)

	metadataURL := ps.srv.URL + "/.well-known/oauth-protected-resource"
	verify := func(_ context.Context, token string, _ *http.Request) (*auth.TokenInfo, error) {
		scopes, expires, err := as.Verify(token, ps.URL)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", auth.ErrInvalidToken, err)
		}
		return &auth.TokenInfo{Scopes: scopes, Expiration: expires}, nil
	}
	requireToken := auth.RequireBearerToken(verify, &auth.RequireBearerTokenOptions{ResourceMetadataURL: metadataURL, Scopes: opts.ChallengeScopes})
	mux.Handle("/mcp", ps.counting(requireToken(ps.callScopes(as, opts.CallScopes, metadataURL, handler))))

	metadata := auth.ProtectedResourceMetadataHandler(&oauthex.ProtectedResourceMetadata{
		Resource:               ps.URL,
		AuthorizationServers:   []string{as.URL()},
		ScopesSupported:        opts.MetadataScopes,
		BearerMethodsSupported: []string{"header"},
	})
	mux.Handle("/.well-known/oauth-protected-resource", metadata)
	mux.Handle("/.well-known/oauth-protected-resource/mcp", metadata)
	return ps
}

// callScopes answers a tools/call whose token lacks one of scopes with
// 403 insufficient_scope, as a server that wants more for calls than for
// lists does; other requests go to next.
func (ps *protectedServer) callScopes(as *authServer, scopes []string, metadataURL string, next http.Handler) http.Handler {
	if len(scopes) == 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		var msg struct {
			Method string `json:"method"`
		}
		_ = json.Unmarshal(body, &msg)
		if msg.Method == "tools/call" {
			token, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			held, _, _ := as.Verify(token, ps.URL)
			for _, want := range scopes {
				if !slices.Contains(held, want) {
					w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer error="insufficient_scope", scope=%q, resource_metadata=%q`,
						strings.Join(scopes, " "), metadataURL))
					http.Error(w, "insufficient scope", http.StatusForbidden)
					return
				}
			}
		}
		next.ServeHTTP(w, r)
	})
}

// Counts returns how many requests to /mcp bore a valid token and how many
// were refused for the lack of one.
func (ps *protectedServer) Counts() (accepted, refused int) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	return ps.accepted, ps.refused
}

func (ps *protectedServer) counting(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r)
		ps.mu.Lock()
		defer ps.mu.Unlock()
		if sw.status == http.StatusUnauthorized || sw.status == http.StatusForbidden {
			ps.refused++
		} else {
			ps.accepted++
		}
	})
}
