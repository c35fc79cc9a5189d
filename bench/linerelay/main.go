// Command linerelay is the least a stdio MCP proxy can do: it starts one
// server and copies lines between its own stdin and stdout and the
// server's, one goroutine each way, without reading them. bench/run
// measures it beside plugboard, as the floor of what one more process
// hop costs on the machine: its added latency, processor time per call
// and throughput are what any Go proxy pays before doing any work.
//
//	linerelay COMMAND [ARGS...]
package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: linerelay COMMAND [ARGS...]")
		os.Exit(2)
	}
	server := exec.Command(os.Args[1], os.Args[2:]...)
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
	go func() {
		copyLines(in, os.Stdin)
		in.Close() // the client is gone: so is the server's input
	}()
	copyLines(os.Stdout, out)
	_ = server.Wait()
}

// copyLines writes each line of src to dst as it arrives, one write per
// line, as a proxy that forwards frames one by one does.
func copyLines(dst io.Writer, src io.Reader) {
	r := bufio.NewReaderSize(src, 64<<10)
	for {
		line, err := r.ReadSlice('\n')
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
