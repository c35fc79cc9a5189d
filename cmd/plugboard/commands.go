package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/plugboard/plugboard/actors"
	"github.com/plugboard/plugboard/config"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// exitStatus is what a command's RunE returns when it has already said
// what went wrong: run exits with it and prints nothing more. Any other
// error cobra returns is a usage error (a bad flag, an unknown command).
type exitStatus int

func (e exitStatus) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

// exit turns a run function's exit status into what RunE returns.
func exit(code int) error {
	if code == exitOK {
		return nil
	}
	return exitStatus(code)
}

// run parses args, runs the command they name and returns the process's
// exit status. Help, the version and completion scripts go to stdout,
// problems with the command line to stderr as one line; a running command
// writes to stdout only what it is for (in stdio mode, protocol frames).
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	root := newRootCommand(stdin, stdout, stderr)
	if args == nil {
		args = []string{} // cobra reads os.Args when given nil
	}
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.Execute()
	var status exitStatus
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &status):
		return int(status)
	default:
		fmt.Fprintf(stderr, "plugboard: %v (see plugboard --help)\n", err)
		return exitUsage
	}
}

// newRootCommand builds the command tree. Adding a subcommand is adding
// one cobra.Command here whose RunE calls a run function.
func newRootCommand(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	stdio := func(cmd *cobra.Command, _ []string) error {
		return exit(runStdio(cmd.Flags(), stdin, stdout, stderr))
	}
	root := &cobra.Command{
		Use:   "plugboard",
		Short: "One MCP server in front of many",
		Long: `plugboard is one MCP server in front of many: it starts and supervises the
MCP servers in its configuration and presents their tools, prompts and
resources to a client as one namespaced set.

Without a command it serves one client on stdin/stdout, as a desktop client
starts it; the configuration comes from --config, else $PLUGBOARD_CONFIG,
else ` + displayDefaultPath() + `.`,
		Version:            actors.Version,
		Args:               cobra.NoArgs,
		RunE:               stdio,
		SilenceErrors:      true, // run prints them, on one line
		SilenceUsage:       true,
		DisableSuggestions: true,
	}
	root.SetVersionTemplate("plugboard {{.Version}}\n")
	addConfigFlags(root)

	stdioCmd := &cobra.Command{
		Use:   "stdio",
		Short: "Serve one MCP client on stdin/stdout (the default)",
		Long: `Serve one MCP client on stdin/stdout: start the configured servers and
route the client's requests to them until stdin ends or a signal arrives.
This is what plugboard does without a command, and what a desktop client
(Claude Desktop, Cursor, Cline) starts. Nothing but protocol frames is
written to stdout; logs go to stderr.`,
		Args: cobra.NoArgs,
		RunE: stdio,
	}
	addConfigFlags(stdioCmd)

	tools := &cobra.Command{
		Use:   "tools",
		Short: "Start the servers, print the catalog a client sees, exit",
		Long: `Start the configured servers, wait for each to be ready or to fail (up to
the start-up timeout), print the client-facing tools, prompts, resources and
each server's state, and exit. The quickest check of a configuration: the
exit status is 1 when an enabled server is not ready.`,
		Args: cobra.NoArgs,
	}
	addConfigFlags(tools)
	asJSON := tools.Flags().Bool("json", false, "print JSON instead of a table")
	toolsSocket := tools.Flags().String("socket", defaultSocket(), "the unix socket of plugboard serve, asked for its live catalog unless --config is given")
	toolsServer := tools.Flags().String("server", "", "list only this server's tools, prompts and resources")
	tools.RunE = func(cmd *cobra.Command, _ []string) error {
		if !cmd.Flags().Changed("config") && os.Getenv("PLUGBOARD_CONFIG") == "" {
			if code, ok := runToolsLive(*toolsSocket, *toolsServer, *asJSON, stdout, stderr); ok {
				return exit(code)
			}
		}
		return exit(runTools(cmd.Flags(), asJSON, *toolsServer, stdout, stderr))
	}
	for _, verb := range []string{"disable", "enable"} {
		toggle := &cobra.Command{
			Use:   verb + " NAME...",
			Short: map[string]string{"disable": "Hide tools from clients and refuse calls to them", "enable": "Give disabled tools back to clients"}[verb],
			Long: `Disable or enable tools by their client-facing names (as plugboard tools lists
them). A disabled tool is hidden from clients and refused if called. The
choice is kept in a state file beside the configuration
(NAME.plugboard-state.json, 0600), so it survives restarts and reloads.
Without --config the running plugboard serve is told, and its clients get
list_changed; with --config the state file of that configuration is changed,
and a plugboard serving it picks the change up as it watches the file.`,
			Args: cobra.MinimumNArgs(1),
		}
		verb := verb
		socket := toggle.Flags().String("socket", defaultSocket(), "the unix socket of plugboard serve")
		path := toggle.Flags().StringP("config", "c", "", "change this configuration's state file instead of asking plugboard serve")
		toggleJSON := toggle.Flags().Bool("json", false, "print JSON")
		toggle.RunE = func(cmd *cobra.Command, names []string) error {
			return exit(runToolsToggle(verb, names, *socket, *path, *toggleJSON, stdout, stderr))
		}
		tools.AddCommand(toggle)
	}

	serve := &cobra.Command{
		Use:   "serve",
		Short: "Serve many clients over HTTP (/mcp, /sse, /ws) and a unix socket",
		Long: `Run plugboard as a daemon that many clients share: over HTTP (Streamable
HTTP at /mcp, legacy SSE at /sse, WebSocket at /ws) with a bearer token, and
over a unix socket in plugboard's private state directory, which
plugboard attach and plugboard status use. Use it when several clients
should share one set of running servers.`,
		Args: cobra.NoArgs,
	}
	serveFlagSet := commonFlags("plugboard serve")
	socket := serveFlags(serveFlagSet)
	serve.Flags().AddFlagSet(serveFlagSet)
	markConfigFile(serve)
	serve.RunE = func(cmd *cobra.Command, _ []string) error {
		return exit(runServe(cmd.Flags(), socket, stderr))
	}

	attach := &cobra.Command{
		Use:   "attach",
		Short: "Bridge stdin/stdout to a running plugboard serve",
		Long: `Bridge stdin/stdout to a running plugboard serve over its unix socket. Give
a desktop client "plugboard attach" as its command to let it share the
servers of your plugboard serve instead of starting its own. Only your own
serve is accepted: the socket's owner and the peer are checked.`,
		Args: cobra.NoArgs,
	}
	attachSocket := attach.Flags().String("socket", defaultSocket(), "the unix socket of plugboard serve")
	spawn := attach.Flags().Bool("spawn", false, "start plugboard serve (detached, logging to serve.log in the state directory) if none answers on the socket")
	spawnConfig := attach.Flags().StringP("config", "c", "", "with --spawn: the configuration the started plugboard serve loads")
	attachWorkspace := attach.Flags().String("workspace", "", "see this workspace's servers instead of the daemon's default workspace")
	attach.RunE = func(cmd *cobra.Command, _ []string) error {
		return exit(runAttach(attachSocket, spawn, spawnConfig, attachWorkspace, stdin, stdout, stderr))
	}

	token := &cobra.Command{
		Use:   "token",
		Short: "Print the bearer token plugboard serve requires over HTTP",
		Long: `Print the bearer token plugboard serve requires from HTTP clients, creating
it in the private state directory if missing, for pasting into a client's
configuration. --auth-token or PLUGBOARD_AUTH_TOKEN given to serve replace it.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return exit(runToken(stdout, stderr))
		},
	}

	uiCmd := &cobra.Command{
		Use:   "ui",
		Short: "Open the dashboard of a running plugboard serve",
		Long: `Print the address of the dashboard of a running plugboard serve (/ui on its
HTTP listener) and open it, logged in, in a browser: with $BROWSER when set,
else the system's opener when there is a display. The login link it opens
works once, within a minute; without a browser it is printed instead.`,
		Args: cobra.NoArgs,
	}
	uiSocket := uiCmd.Flags().String("socket", defaultSocket(), "the unix socket of plugboard serve")
	uiCmd.RunE = func(cmd *cobra.Command, _ []string) error {
		return exit(runUI(*uiSocket, stdout, stderr))
	}

	status := &cobra.Command{
		Use:   "status",
		Short: "Show the servers of a running plugboard serve",
		Long: `Ask a running plugboard serve, over its unix socket, for each of its servers:
state (ready, starting, restarting, failed, disabled), transport, target,
tool count, restarts and last failure. A plugboard in stdio mode belongs to
its client and has no socket: status needs a plugboard serve.`,
		Args: cobra.NoArgs,
	}
	statusSocket := status.Flags().String("socket", defaultSocket(), "the unix socket of plugboard serve")
	statusJSON := status.Flags().Bool("json", false, "print JSON instead of a table")
	status.RunE = func(cmd *cobra.Command, _ []string) error {
		return exit(runStatus(statusSocket, statusJSON, stdout, stderr))
	}

	logs := &cobra.Command{
		Use:   "logs NAME",
		Short: "Print the stderr a running plugboard serve kept of a server",
		Long: `Print what server NAME wrote to its standard error, as a running plugboard
serve keeps it (the last 1000 lines or 256 KiB, across the server's
restarts); with -f, then print new lines as they come, until interrupted.
The first place to look when plugboard status shows a server down.`,
		Args: cobra.ExactArgs(1),
	}
	logsSocket := logs.Flags().String("socket", defaultSocket(), "the unix socket of plugboard serve")
	follow := logs.Flags().BoolP("follow", "f", false, "then print new lines as they come, until interrupted")
	logsJSON := logs.Flags().Bool("json", false, `print JSON lines ({"lines":[...]}) instead of the lines`)
	logs.RunE = func(cmd *cobra.Command, args []string) error {
		return exit(runLogs(logsSocket, args[0], follow, logsJSON, stdout, stderr))
	}

	reload := &cobra.Command{
		Use:   "reload",
		Short: "Make a running plugboard serve read its configuration again",
		Long: `Make a running plugboard serve read its configuration file again, as it does
by itself when the file changes and on SIGHUP. Servers added start, removed
ones stop, changed ones restart, and the others keep running untouched.
An invalid configuration is refused with its problem (exit status 1) and the
running one stays.`,
		Args: cobra.NoArgs,
	}
	reloadSocket := reload.Flags().String("socket", defaultSocket(), "the unix socket of plugboard serve")
	reloadJSON := reload.Flags().Bool("json", false, "print JSON")
	reload.RunE = func(cmd *cobra.Command, _ []string) error {
		return exit(runReload(*reloadSocket, *reloadJSON, stdout, stderr))
	}

	restart := &cobra.Command{
		Use:   "restart NAME...",
		Short: "Restart servers of a running plugboard serve",
		Long: `Restart servers of a running plugboard serve by name (as plugboard status
lists them): their calls in flight are answered with an error naming the
server, and their sessions start afresh. The configuration is read again
too, as by plugboard reload.`,
		Args: cobra.MinimumNArgs(1),
	}
	restartSocket := restart.Flags().String("socket", defaultSocket(), "the unix socket of plugboard serve")
	restartJSON := restart.Flags().Bool("json", false, "print JSON")
	restart.RunE = func(cmd *cobra.Command, names []string) error {
		return exit(runRestart(*restartSocket, names, *restartJSON, stdout, stderr))
	}

	workspace := &cobra.Command{
		Use:   "workspace",
		Short: "List the workspaces of a running plugboard serve, or switch its default",
		Long: `Workspaces are named sets of servers (key workspaces in the configuration).
A session sees one: the one it chose (plugboard attach --workspace NAME, the
HTTP paths /w/NAME/mcp, /w/NAME/sse, /w/NAME/ws) or else the default.
plugboard workspace use NAME switches the default of a running plugboard
serve; its sessions get list_changed, and the choice is kept in the state
file beside the configuration. A server no workspace in use needs is stopped
after idle_grace and started again when one does.`,
	}
	wsSocket := workspace.PersistentFlags().String("socket", defaultSocket(), "the unix socket of plugboard serve")
	wsJSON := workspace.PersistentFlags().Bool("json", false, "print JSON")
	workspace.AddCommand(&cobra.Command{
		Use:   "list",
		Short: "List the workspaces, their servers and sessions",
		Long:  "List the workspaces of a running plugboard serve: each one's servers and the sessions that see it, and which is the default.",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return exit(runWorkspaceList(*wsSocket, *wsJSON, stdout, stderr))
		},
	})
	useDefault := false
	use := &cobra.Command{
		Use:   "use NAME",
		Short: "Switch the default workspace of a running plugboard serve",
		Long: `Switch the default workspace of a running plugboard serve: the sessions that
chose none see its servers from now on and get list_changed. The choice is
kept in the state file beside the configuration; --default gives the choice
back to the configuration's workspace key.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if useDefault {
				return cobra.NoArgs(cmd, args)
			}
			return cobra.ExactArgs(1)(cmd, args)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			name := "--default"
			if !useDefault {
				name = args[0]
			}
			return exit(runWorkspaceUse(*wsSocket, name, *wsJSON, stdout, stderr))
		},
	}
	use.Flags().BoolVar(&useDefault, "default", false, "go back to the configuration's default workspace")
	workspace.AddCommand(use)

	version := &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Long:  `Print plugboard's version, as plugboard --version does.`,
		Args:  cobra.NoArgs,
		Run: func(cmd *cobra.Command, _ []string) {
			fmt.Fprintln(stdout, "plugboard", actors.Version)
		},
	}

	loginCmd := &cobra.Command{
		Use:   "login NAME",
		Short: "Log in to a remote server that needs OAuth authorization",
		Long: `Log in to the url server NAME of the configuration, for servers that need an
OAuth login (the MCP authorization spec). plugboard finds the server's
authorization server, registers itself there unless auth.client_id is
configured, prints the URL to open and opens it with $BROWSER when set (a
list separated by ':', a %s in an entry replaced by the URL), else with the
system's opener when there is a display. It waits up to 5 minutes for the
browser to come back to http://127.0.0.1:PORT/callback (auth.redirect_port,
else a free port), then stores the tokens in $XDG_STATE_HOME/plugboard/tokens
(else ~/.local/state/plugboard/tokens), 0600, one file per server URL.

plugboard serve and stdio mode use the stored tokens and refresh them; a
server whose login is missing or has expired shows "needs login" in
plugboard status and is tried again every 10 seconds, so a running plugboard
takes up the new login by itself.`,
		Args: cobra.ExactArgs(1),
	}
	addConfigFlags(loginCmd)
	loginCmd.RunE = func(cmd *cobra.Command, args []string) error {
		return exit(runLogin(cmd.Flags(), args[0], stdout, stderr))
	}
	logoutCmd := &cobra.Command{
		Use:   "logout NAME",
		Short: "Forget the stored login to a remote server",
		Long: `Delete the tokens and the client registration plugboard stored when it logged
in to the url server NAME. A running plugboard sends the server no token from
then on, and shows it as needing a login once the server refuses it.`,
		Args: cobra.ExactArgs(1),
	}
	addConfigFlags(logoutCmd)
	logoutCmd.RunE = func(cmd *cobra.Command, args []string) error {
		return exit(runLogout(cmd.Flags(), args[0], stdout, stderr))
	}

	root.AddCommand(stdioCmd, tools, serve, attach, token, status, uiCmd, logs, reload, restart, workspace, loginCmd, logoutCmd, version)
	return root
}

// addConfigFlags gives cmd the flags of every command that loads a
// configuration.
func addConfigFlags(cmd *cobra.Command) {
	cmd.Flags().AddFlagSet(commonFlags("plugboard " + cmd.Name()))
	markConfigFile(cmd)
}

// markConfigFile makes shells complete --config with configuration files.
func markConfigFile(cmd *cobra.Command) {
	_ = cmd.MarkFlagFilename("config", "yaml", "yml", "json", "toml")
}

// commonFlags are the flags every command that loads a configuration takes.
func commonFlags(name string) *pflag.FlagSet {
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	fs.StringP("config", "c", "", "configuration file (default $PLUGBOARD_CONFIG, else "+displayDefaultPath()+")")
	fs.Duration("startup-timeout", config.DefaultStartupTimeout, "how long list requests wait for servers still starting (env PLUGBOARD_STARTUP_TIMEOUT)")
	appFlags(fs)
	fs.String("workspace", "", "the workspace whose servers clients see unless they choose one (env PLUGBOARD_WORKSPACE; default: the config's workspace, else every server)")
	fs.String("log-level", "info", "debug, info, warn or error (env PLUGBOARD_LOG_LEVEL)")
	fs.Int("page-size", 1000, "items per page of the lists plugboard returns (env PLUGBOARD_PAGE_SIZE)")
	return fs
}
