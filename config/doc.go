// Package config loads and validates plugboard's configuration: the proxy's
// own settings and the downstream MCP servers it stands in front of.
//
// A configuration comes from one file (YAML, JSON or TOML, chosen by the
// file's extension), then PLUGBOARD_* environment variables, then the
// command-line flags the user set, each layer overriding the one before.
// Besides plugboard's own shape (a top-level "servers" map), Load accepts the
// files desktop clients such as Claude Desktop, Cline and Cursor write (a
// top-level "mcpServers" map), so an existing client file can be used as is.
//
// The package turns a file into a validated Config value and nothing more: it
// does not start servers, watch files or keep state between calls.
package config
