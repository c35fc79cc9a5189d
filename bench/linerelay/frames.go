package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"

	"github.com/plugboard/plugboard/transports"
)

// With --namespace, linerelay does the least a proxy that puts several
// servers behind one client must do to every frame, and nothing more: it
// reads each line as JSON-RPC (transports.ParseFrame, plugboard's own:
// the JSON checked, the envelope read), gives each request an id of its
// own, since several clients may share the server, puts the server's
// own tool name back (NAME__tool becomes tool), and on the way back
// renders each response with the client's id. Like plugboard, it writes
// what one read brought in one write. It has no actors, no credits, no
// timeouts and no catalog: the difference between it and plugboard is
// what those cost.

// idTable maps the relay's request ids to the client's.
type idTable struct {
	mu      sync.Mutex
	next    int64
	pending map[int64]json.RawMessage
}

// issue gives a request an id of the relay's, remembering the client's.
func (t *idTable) issue(clientID json.RawMessage) int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.next++
	t.pending[t.next] = clientID
	return t.next
}

// take returns the client's id of the relay's id raw, once.
func (t *idTable) take(raw json.RawMessage) (json.RawMessage, bool) {
	id, err := strconv.ParseInt(string(raw), 10, 64)
	if err != nil {
		return nil, false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	clientID, ok := t.pending[id]
	delete(t.pending, id)
	return clientID, ok
}

// relayFrames relays between the client (stdin, stdout) and the server's
// pipes, one goroutine each way, reading every frame.
func relayFrames(namespace string, server io.WriteCloser, fromServer io.Reader) {
	ids := &idTable{pending: map[int64]json.RawMessage{}}
	go func() {
		framesDown(server, os.Stdin, ids, namespace+"__")
		server.Close() // the client is gone: so is the server's input
	}()
	framesUp(os.Stdout, fromServer, ids)
}

// framesDown reads the client's frames and writes them to the server:
// requests with an id of the relay's, a tools/call with the server's own
// name.
func framesDown(dst io.Writer, src io.Reader, ids *idTable, prefix string) {
	eachFrame(dst, src, func(out []byte, line []byte, f transports.Frame) []byte {
		if f.Method == "" || f.ID == nil { // a notification, or an answer to the server
			return append(out, line...)
		}
		params := f.Params
		if f.Method == "tools/call" {
			params = withoutPrefix(params, prefix)
		}
		id := strconv.AppendInt(nil, ids.issue(f.ID), 10)
		return append(out, transports.RequestFrame(id, f.Method, params)...)
	})
}

// framesUp reads the server's frames and writes them to the client: a
// response with the client's id.
func framesUp(dst io.Writer, src io.Reader, ids *idTable) {
	eachFrame(dst, src, func(out []byte, line []byte, f transports.Frame) []byte {
		if f.Method != "" { // a notification, or a request of the server's
			return append(out, line...)
		}
		clientID, ok := ids.take(f.ID)
		if !ok {
			fmt.Fprintf(os.Stderr, "linerelay: a response to no request of ours (id %s), dropped\n", f.ID)
			return out
		}
		if f.Error != nil {
			out = append(out, `{"jsonrpc":"2.0","id":`...)
			out = append(out, clientID...)
			out = append(out, `,"error":`...)
			out = append(out, f.Error...)
			return append(out, '}')
		}
		return transports.AppendResultFrame(out, clientID, f.Result)
	})
}

// eachFrame calls relay on every JSON-RPC frame of src, which appends what
// to write for it (without its newline) to out, and writes the frames of
// one read of src in one write to dst. A line that is not JSON-RPC is
// reported on stderr and dropped.
func eachFrame(dst io.Writer, src io.Reader, relay func(out, line []byte, f transports.Frame) []byte) {
	r := bufio.NewReaderSize(src, 64<<10)
	var out []byte
	for {
		line, err := r.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			fmt.Fprintln(os.Stderr, "linerelay: a frame over 64 KiB, which --namespace does not relay")
			return
		}
		if len(line) > 0 {
			f, ferr := transports.ParseFrame(line)
			if ferr != nil {
				fmt.Fprintln(os.Stderr, "linerelay: dropped a line:", ferr)
			} else {
				n := len(out)
				if out = relay(out, bytes.TrimRight(line, "\r\n"), f); len(out) > n {
					out = append(out, '\n') // not for a frame dropped
				}
			}
		}
		if (r.Buffered() == 0 || err != nil) && len(out) > 0 {
			if _, werr := dst.Write(out); werr != nil {
				return
			}
			out = out[:0]
		}
		if err != nil {
			return
		}
	}
}

// withoutPrefix returns params with its name member's prefix removed, or
// params as they are when the name does not have it.
func withoutPrefix(params json.RawMessage, prefix string) json.RawMessage {
	start, end, err := transports.MemberBounds(params, "name")
	if err != nil {
		return params
	}
	raw := params[start:end]
	var name string
	if raw[0] == '"' && transports.PlainJSONString(raw[1:len(raw)-1]) {
		name = string(raw[1 : len(raw)-1]) // the usual name: no escapes to decode
	} else if json.Unmarshal(raw, &name) != nil {
		return params // not a string
	}
	if len(name) <= len(prefix) || name[:len(prefix)] != prefix {
		return params
	}
	out := make([]byte, 0, len(params))
	out = append(out, params[:start]...)
	out = transports.AppendJSONString(out, name[len(prefix):])
	return append(out, params[end:]...)
}
