package config

import (
	"reflect"
	"strconv"
	"testing"
	"time"
)

// TestLoadClientFiles loads the files desktop clients write, as they write them.
func TestLoadClientFiles(t *testing.T) {
	clearOverrides(t)
	tests := []struct {
		name, file, content string
		want                []Server
		warnings            []string // top-level keys warned about, in order
	}{
		{
			name: "Claude Desktop",
			file: "claude_desktop_config.json",
			content: `{
  "globalShortcut": "Ctrl+Space",
  "mcpServers": {
    "filesystem": {
      "command": "npx",
      "args": ["-y", "@modelcontextprotocol/server-filesystem", "/Users/me/Desktop"]
    },
    "github": {
      "command": "docker",
      "args": ["run", "-i", "--rm", "-e", "GITHUB_PERSONAL_ACCESS_TOKEN", "ghcr.io/github/github-mcp-server"],
      "env": {"GITHUB_PERSONAL_ACCESS_TOKEN": "pat"}
    }
  },
  "preferences": {"quickEntryShortcut": "off"}
}`,
			want: []Server{
				{Name: "filesystem", Command: "npx", Args: []string{"-y", "@modelcontextprotocol/server-filesystem", "/Users/me/Desktop"},
					Transport: TransportStdio, Prefix: "filesystem", Enabled: true, Timeout: time.Minute},
				{Name: "github", Command: "docker", Args: []string{"run", "-i", "--rm", "-e", "GITHUB_PERSONAL_ACCESS_TOKEN", "ghcr.io/github/github-mcp-server"},
					Env: map[string]string{"GITHUB_PERSONAL_ACCESS_TOKEN": "pat"}, Transport: TransportStdio, Prefix: "github", Enabled: true, Timeout: time.Minute},
			},
			warnings: []string{"globalShortcut", "preferences"},
		},
		{
			name: "Cline",
			file: "cline_mcp_settings.json",
			content: `{
  "mcpServers": {
    "weather": {
      "command": "node",
      "args": ["/home/me/weather/build/index.js"],
      "env": {"API_KEY": "k"},
      "disabled": true,
      "autoApprove": ["get_forecast"],
      "alwaysAllow": [],
      "timeout": 120,
      "transportType": "stdio"
    },
    "remote": {
      "url": "https://example.com/sse",
      "disabled": false,
      "autoApprove": [],
      "timeout": 30,
      "type": "sse"
    }
  }
}`,
			want: []Server{
				{Name: "remote", URL: "https://example.com/sse", Transport: TransportSSE, Prefix: "remote", Enabled: true, Timeout: 30 * time.Second},
				{Name: "weather", Command: "node", Args: []string{"/home/me/weather/build/index.js"}, Env: map[string]string{"API_KEY": "k"},
					Transport: TransportStdio, Prefix: "weather", Enabled: false, Timeout: 120 * time.Second},
			},
		},
		{
			name: "Cursor",
			file: "mcp.json",
			content: `{
  "mcpServers": {
    "linear": {"url": "https://mcp.linear.app/mcp", "headers": {"Authorization": "Bearer abc"}, "type": "streamableHttp"},
    "local": {"url": "http://localhost:3000/mcp", "type": "http", "timeout": "1m"},
    "sock": {"url": "ws://localhost:4000", "type": "ws"}
  }
}`,
			want: []Server{
				{Name: "linear", URL: "https://mcp.linear.app/mcp", Headers: map[string]string{"Authorization": "Bearer abc"},
					Transport: TransportStreamableHTTP, Prefix: "linear", Enabled: true, Timeout: time.Minute},
				{Name: "local", URL: "http://localhost:3000/mcp", Transport: TransportStreamableHTTP, Prefix: "local", Enabled: true, Timeout: time.Minute},
				{Name: "sock", URL: "ws://localhost:4000", Transport: TransportWebSocket, Prefix: "sock", Enabled: true, Timeout: time.Minute},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeConfig(t, tt.file, tt.content)
			got := mustLoad(t, path)
			if !reflect.DeepEqual(got.Servers, tt.want) {
				t.Errorf("Servers\n got %+v\nwant %+v", got.Servers, tt.want)
			}
			var want []string
			for _, key := range tt.warnings {
				want = append(want, "config "+path+": unknown key "+strconv.Quote(key)+", ignored")
			}
			if !reflect.DeepEqual(got.Warnings, want) {
				t.Errorf("Warnings = %q, want %q", got.Warnings, want)
			}
		})
	}
}
