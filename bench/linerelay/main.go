// Command linerelay is the least a stdio MCP proxy can do: it starts one
// server and copies lines between its own stdin and stdout and the
// server's, one goroutine each way, without reading them. bench/run
// measures it beside plugboard, as the floor of what one more process
// hop costs on the machine: its added latency, processor time per call
// and throughput are what any Go proxy pays before doing any work.
//
//	linerelay [--busy DURATION | --namespace NAME] COMMAND [ARGS...]
//
// --busy makes it spend DURATION of processor time, in a loop, on every
// line it copies, each way, before writing the line: a call (a request
// and its response) then costs it 2×DURATION more. bench/figures sets it
// to plugboard's processor time per call beyond linerelay's, halved, to
// tell whether that time alone accounts for plugboard's lower throughput
// on a machine whose cores are the limit. Without it, nothing is added.
// --namespace makes it read every frame, as a proxy in front of several
// servers must (frames.go): the floor of a proxy that reads what it
// relays. Its flags end at COMMAND: the command's own are passed on
// untouched.
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"time"
)

const usage = "usage: linerelay [--busy DURATION | --namespace NAME] COMMAND [ARGS...]"

// options are linerelay's flags.
type options struct {
	busy      time.Duration // processor time to spend per line, each way
	namespace string        // read every frame; tool names NAME__tool go to the server as tool
}

func main() {
	opts, command, err := parseArgs(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "linerelay:", err)
		fmt.Fprintln(os.Stderr, usage)
		os.Exit(2)
	}
	server := exec.Command(command[0], command[1:]...)
	server.Stderr = os.Stderr
	in, err := server.StdinPipe()
	if err != nil {
		fail(err)
	}
	out, err := server.StdoutPipe()
	if err != nil {
		fail(err)
	}
	if err := server.Start(); err != nil {
		fail(err)
	}
	if opts.namespace != "" {
		relayFrames(opts.namespace, in, out)
		_ = server.Wait()
		return
	}
	go func() {
		copyLines(in, os.Stdin, newBurner(opts.busy))
		in.Close() // the client is gone: so is the server's input
	}()
	copyLines(os.Stdout, out, newBurner(opts.busy))
	_ = server.Wait()
}

// parseArgs reads linerelay's flags, which stop at COMMAND, and returns
// them and the command to start.
func parseArgs(args []string) (opts options, command []string, err error) {
	flags := flag.NewFlagSet("linerelay", flag.ContinueOnError)
	flags.SetOutput(io.Discard) // main prints the error and the usage
	flags.DurationVar(&opts.busy, "busy", 0, "processor time to spend on each line, each way")
	flags.StringVar(&opts.namespace, "namespace", "", "read every frame; tool names NAME__tool go to the server as tool")
	if err := flags.Parse(args); err != nil {
		return options{}, nil, err
	}
	switch {
	case opts.busy < 0:
		return options{}, nil, fmt.Errorf("--busy %v: must not be negative", opts.busy)
	case opts.busy > 0 && opts.namespace != "":
		return options{}, nil, errors.New("--busy and --namespace do not go together")
	case flags.NArg() == 0:
		return options{}, nil, errors.New("no command to start")
	}
	return opts, flags.Args(), nil
}

// burner spends a set processor time on each line. Each copying
// goroutine has its own: sum is written on every line.
type burner struct {
	busy time.Duration
	// sum is what the loop computes, kept so that the compiler cannot
	// drop the loop as work without effect.
	sum uint64
}

// newBurner is a burner spending busy per line, or nil for none.
func newBurner(busy time.Duration) *burner {
	if busy == 0 {
		return nil
	}
	return &burner{busy: busy}
}

// burn keeps the processor busy for b.busy: a loop and not a sleep, so
// that the time is the process's own processor time, as a proxy's work
// on a line is.
func (b *burner) burn() {
	x := b.sum
	for start := time.Now(); time.Since(start) < b.busy; {
		for range 16 {
			x = x*6364136223846793005 + 1442695040888963407
		}
	}
	b.sum = x
}

// copyLines writes each line of src to dst as it arrives, one write per
// line, as a proxy that forwards frames one by one does; when b is not
// nil, it burns b's time on each line before writing it.
func copyLines(dst io.Writer, src io.Reader, b *burner) {
	r := bufio.NewReaderSize(src, 64<<10)
	for {
		line, err := r.ReadSlice('\n')
		if b != nil && err == nil {
			b.burn()
		}
		if len(line) > 0 {
			if _, werr := dst.Write(line); werr != nil {
				return
			}
		}
		if err == bufio.ErrBufferFull {
			continue // a line longer than the buffer: the rest follows
		}
		if err != nil {
			return
		}
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "linerelay:", err)
	os.Exit(1)
}
