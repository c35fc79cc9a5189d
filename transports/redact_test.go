package transports

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/mark3labs/mcp-go/client/transport"
)

func TestRedactURL(t *testing.T) {
	tests := []struct{ raw, want string }{
		{"http://127.0.0.1:8080/mcp", "http://127.0.0.1:8080/mcp"},
		{"http://127.0.0.1/mcp?api_key=s3cret&v=1", "http://127.0.0.1/mcp?api_key=***&v=***"},
		{"https://user:pa%40ss@host/mcp", "https://***@host/mcp"},
		{"https://TOKEN@host/mcp", "https://***@host/mcp"},
		{"wss://host/ws?token=abc;x=y#frag", "wss://host/ws?token=***&x=***"},
		{"http://host/mcp?flag", "http://host/mcp?flag"},
		{"http://host:port/x?k=secret", "***"},
	}
	for _, tt := range tests {
		if got := RedactURL(tt.raw); got != tt.want {
			t.Errorf("RedactURL(%q) = %q, want %q", tt.raw, got, tt.want)
		}
	}
}

func TestSecretTextRemovesEveryFormOfTheSecrets(t *testing.T) {
	raw := "http://alice:pw-9f8e7d@127.0.0.1:1/mcp?api_key=key%2Fabc123&v=1"
	x := newSecretText(raw, map[string]string{"Authorization": "Bearer tok-5544332211", "X-API-Key": "hdr-778899"})
	u, _ := url.Parse(raw)
	inner := &url.Error{Op: "Post", URL: u.String(), Err: errors.New("connection refused")}
	err := x.Error(fmt.Errorf("failed to send request: %w: %w", inner, transport.ErrTransportClosed))
	texts := []string{
		err.Error(),
		inner.Error(), // printed by whoever unwraps it
		x.String("GET " + u.Redacted() + " and " + strings.Replace(u.String(), "pw-9f8e7d@", "***@", 1)),
		x.String("sent Bearer tok-5544332211 and hdr-778899; key/abc123"),
	}
	for _, text := range texts {
		for _, secret := range []string{"alice", "pw-9f8e7d", "key%2Fabc123", "key/abc123", "tok-5544332211", "hdr-778899", "xxxxx"} {
			if strings.Contains(text, secret) {
				t.Errorf("%q shows %q", text, secret)
			}
		}
	}
	if !errors.Is(err, transport.ErrTransportClosed) {
		t.Errorf("the redacted error no longer unwraps to its cause: %v", err)
	}
	if !strings.Contains(err.Error(), "http://***@127.0.0.1:1/mcp?api_key=***&v=***") {
		t.Errorf("the error does not show the redacted URL: %v", err)
	}
}
