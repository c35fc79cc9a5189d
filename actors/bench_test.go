package actors

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/plugboard/plugboard/messages"
)

// benchCatalog is 50 servers of 40 tools each.
func benchCatalog(b *testing.B) *catalog {
	b.Helper()
	c := newCatalog(1000)
	for s := 0; s < 50; s++ {
		var lists messages.ServerLists
		for i := 0; i < 40; i++ {
			lists[messages.Tools] = append(lists[messages.Tools], json.RawMessage(fmt.Sprintf(
				`{"name":"tool_%03d","description":"Tool %d of server %d.","inputSchema":{"type":"object","properties":{"text":{"type":"string"}}}}`, i, i, s)))
		}
		c.setLists(fmt.Sprintf("server%02d", s), lists, [numKinds]bool{true, true, true, true})
	}
	return c
}

func BenchmarkCatalogResolve(b *testing.B) {
	c := benchCatalog(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, ok := c.resolve(messages.Tools, "server25__tool_020"); !ok {
			b.Fatal("not found")
		}
	}
}

func BenchmarkCatalogPageCached(b *testing.B) {
	c := benchCatalog(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.page(messages.Tools, ""); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCatalogRebuild(b *testing.B) {
	c := benchCatalog(b)
	b.ReportAllocs()
	for b.Loop() {
		c.rebuild()
	}
}

func BenchmarkRestoreOriginalName(b *testing.B) {
	params := json.RawMessage(`{"name":"fx__echo","arguments":{"text":"hello"},"_meta":{"progressToken":"p-1"}}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := replaceField(params, "name", quoteJSON("echo")); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkClientName(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_ = clientName("github", "create_issue")
	}
}

// BenchmarkCatalogFiftyServersArrive is a cold start's catalog work: 50
// servers of 40 tools become ready one after another, each a rebuild.
func BenchmarkCatalogFiftyServersArrive(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		benchCatalog(b)
	}
}

// BenchmarkResolveToolsCall is the router's step of every tools/call: the
// members it decides on read, the name resolved and restored in place.
func BenchmarkResolveToolsCall(b *testing.B) {
	c := benchCatalog(b)
	params := json.RawMessage(`{"name":"server25__tool_020","arguments":{"text":"hello","count":3},"_meta":{"progressToken":"p-1"}}`)
	b.ReportAllocs()
	for b.Loop() {
		if server, _, rpcErr, _ := c.resolveRequest("tools/call", params); rpcErr != nil || server != "server25" {
			b.Fatal(server, rpcErr)
		}
	}
}
