// Package ui is plugboard's dashboard: the page at /ui of plugboard serve,
// its JSON endpoints and its live event stream.
//
// It is a view and a remote control of the daemon's state, not a second
// copy of it: every answer and every change goes through Daemon, which
// plugboard serve answers with the same request table as its unix socket
// (status, tools, workspace, restart, logs). The page, its script and its
// stylesheet are embedded in the binary; nothing is fetched from elsewhere.
//
// Access is the HTTP API's: the bearer token, given once on the login page
// and then kept as a random session secret in an HttpOnly, SameSite=Strict
// cookie. Every state-changing request is a POST with the session's CSRF
// token in a header, from the dashboard's own origin.
package ui
