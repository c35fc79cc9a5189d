package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/plugboard/plugboard/transports"
)

// runLogs prints the standard error a running `plugboard serve` kept of
// one of its servers, and with --follow the lines that come after, until
// interrupted.
func runLogs(socket *string, name string, follow *bool, asJSON *bool, stdout, stderr io.Writer) int {
	conn, err := transports.DialLocalSocket(*socket)
	if err != nil {
		fmt.Fprintf(stderr, "plugboard logs: no plugboard serve of yours at %s (logs are kept by a running plugboard serve): %v\n", *socket, err)
		return exitFailure
	}
	defer conn.Close()
	request := "logs " + name
	if *follow {
		request += " follow"
	}
	if strings.ContainsAny(name, " \t\r\n") {
		fmt.Fprintf(stderr, "plugboard logs: no server is named %q\n", name)
		return exitFailure
	}
	if _, err := io.WriteString(conn, request+"\n"); err != nil {
		fmt.Fprintln(stderr, "plugboard logs:", err)
		return exitFailure
	}
	if *follow {
		stopOnSignal(conn)
	} else {
		_ = conn.SetDeadline(time.Now().Add(3 * statusTimeout))
	}
	lines := transports.NewLineReader(conn, maxStatusAnswer)
	for {
		line, err := lines.Next()
		if err != nil {
			if *follow && !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				fmt.Fprintln(stderr, "plugboard logs:", err)
				return exitFailure
			}
			return exitOK
		}
		var answer logsJSON
		if err := json.Unmarshal(line, &answer); err != nil || answer.Error != "" {
			msg := answer.Error
			if msg == "" {
				msg = fmt.Sprintf("%s answered %s", *socket, line)
			}
			fmt.Fprintln(stderr, "plugboard logs:", msg)
			return exitFailure
		}
		if *asJSON {
			_, _ = stdout.Write(append(line, '\n'))
		} else {
			for _, l := range answer.Lines {
				fmt.Fprintln(stdout, l)
			}
		}
		if !*follow {
			return exitOK
		}
	}
}

// stopOnSignal closes conn at SIGINT or SIGTERM, which ends the reading.
func stopOnSignal(conn net.Conn) {
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		<-signals
		conn.Close()
	}()
}
