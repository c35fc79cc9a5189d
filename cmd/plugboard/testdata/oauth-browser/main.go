// Command oauth-browser stands in for a person's browser in plugboard's
// OAuth tests. Given as $BROWSER, it is run with the authorization URL: it
// opens it, follows the authorization server's redirect to plugboard's
// loopback callback, and exits 0 when the callback answers 2xx. It prints
// nothing, since the callback's URL carries the authorization code; it
// appends the URL it was given and the outcome to the file named by
// $OAUTH_BROWSER_LOG, when set.
package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"time"
)

func main() {
	if len(os.Args) != 2 {
		record("usage: oauth-browser URL, got %d arguments", len(os.Args)-1)
		os.Exit(2)
	}
	client := &http.Client{Timeout: 30 * time.Second}
	resp, err := client.Get(os.Args[1])
	if err != nil {
		// err names the URL that failed, which may be the callback's.
		record("opened %s: the request failed", os.Args[1])
		os.Exit(1)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	record("opened %s: the last page (%s%s) answered %d", os.Args[1], resp.Request.URL.Host, resp.Request.URL.Path, resp.StatusCode)
	if resp.StatusCode/100 != 2 {
		os.Exit(1)
	}
}

func record(format string, args ...any) {
	path := os.Getenv("OAUTH_BROWSER_LOG")
	if path == "" {
		return
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return
	}
	defer f.Close()
	fmt.Fprintf(f, format+"\n", args...)
}
