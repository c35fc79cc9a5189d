package actors

import (
	"regexp"
	"strings"
	"testing"
)

var validName = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,64}$`)

func TestClientName(t *testing.T) {
	long := strings.Repeat("a", 80)
	tests := []struct {
		prefix, original, want string
	}{
		{"github", "create_issue", "github__create_issue"},
		{"", "create_issue", "create_issue"},
		{"fs", "read.file", "fs__read_file"},
		{"fs", "list files/dirs", "fs__list_files_dirs"},
		{"x", "naïve", "x__na_ve"},
		{"", "", "_"},
		{"p", long, clientName("p", long)}, // stable across calls
	}
	for _, tt := range tests {
		got := clientName(tt.prefix, tt.original)
		if got != tt.want {
			t.Errorf("clientName(%q, %q) = %q, want %q", tt.prefix, tt.original, got, tt.want)
		}
		if !validName.MatchString(got) {
			t.Errorf("clientName(%q, %q) = %q, not a valid client-facing name", tt.prefix, tt.original, got)
		}
	}
}

func TestClientNameShortensLongNamesDistinctly(t *testing.T) {
	a := clientName("server", strings.Repeat("x", 70)+"a")
	b := clientName("server", strings.Repeat("x", 70)+"b")
	if len(a) != maxNameLen || len(b) != maxNameLen {
		t.Fatalf("lengths %d and %d, want %d", len(a), len(b), maxNameLen)
	}
	if a == b {
		t.Fatalf("two long names that differ only at the end both became %q", a)
	}
	if !strings.HasPrefix(a, "server__xxxx") {
		t.Errorf("shortened name %q lost its readable start", a)
	}
}

func TestAssignNamesResolvesCollisionsDeterministically(t *testing.T) {
	candidates := []nameCandidate{
		{server: "a", prefix: "", original: "search"},
		{server: "b", prefix: "", original: "search"},
		{server: "c", prefix: "", original: "search"},
		{server: "d", prefix: "x", original: "y.z"},
		{server: "e", prefix: "x", original: "y_z"},
	}
	names, collisions := assignNames(candidates)
	again, _ := assignNames(candidates)
	seen := map[string]bool{}
	for i, n := range names {
		if !validName.MatchString(n) {
			t.Errorf("name %q is not valid", n)
		}
		if seen[n] {
			t.Errorf("name %q given twice", n)
		}
		seen[n] = true
		if again[i] != n {
			t.Errorf("candidate %d named %q then %q", i, n, again[i])
		}
	}
	if names[0] != "search" || names[3] != "x__y_z" {
		t.Errorf("first comers lost their names: %v", names)
	}
	if len(collisions) != 3 {
		t.Errorf("got %d collisions, want 3: %v", len(collisions), collisions)
	}
}
