package config

import "testing"

func TestSlug(t *testing.T) {
	tests := []struct{ in, want string }{
		{"github", "github"},
		{"GitHub", "github"},
		{"github.com", "github-com"},
		{"My Server v2", "my-server-v2"},
		{"snake_case-and-dash", "snake_case-and-dash"},
		{"a..b--c  d", "a-b-c-d"},
		{"--edge--", "edge"},
		{"_under_", "_under_"},
		{".hidden.", "hidden"},
		{"Ünïcode名", "n-code"},
		{"", "server"},
		{"...", "server"},
		{"日本", "server"},
		{"123", "123"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := Slug(tt.in); got != tt.want {
				t.Errorf("Slug(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
