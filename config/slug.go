package config

import "strings"

// Slug turns a server name into a default prefix: lowercase; every char
// outside [a-z0-9_-] becomes '-'; runs of '-' collapsed; trimmed of '-';
// "" becomes "server". Slug("GitHub.com") is "github-com".
func Slug(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' {
			b.WriteRune(r)
			dash = false
			continue
		}
		if !dash {
			b.WriteByte('-')
			dash = true
		}
	}
	if s := strings.Trim(b.String(), "-"); s != "" {
		return s
	}
	return "server"
}
