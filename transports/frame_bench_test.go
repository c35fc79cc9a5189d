package transports

import (
	"encoding/json"
	"testing"
)

// A tools/call as a client sends it, and an echo result as it comes back.
var (
	benchCall   = []byte(`{"jsonrpc":"2.0","id":42,"method":"tools/call","params":{"name":"fx__echo","arguments":{"text":"hello"},"_meta":{"progressToken":"p-1"}}}`)
	benchResult = json.RawMessage(`{"content":[{"type":"text","text":"hello"}],"structuredContent":{"server":"fx","text":"hello"}}`)
)

func BenchmarkParseFrame(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseFrame(benchCall); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkResultFrame(b *testing.B) {
	b.ReportAllocs()
	id := json.RawMessage(`42`)
	for b.Loop() {
		_ = ResultFrame(id, benchResult)
	}
}
