// Package transports moves JSON-RPC frames between plugboard and the
// outside: newline-delimited frames on a client's stdio (server side), and
// connections to downstream MCP servers (client side). It knows bytes,
// frames and processes; it knows nothing of actors or routing.
package transports
