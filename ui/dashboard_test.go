package ui

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// recordingDaemon answers like plugboard serve's socket, from fixed
// answers, and records what it was asked.
type recordingDaemon struct {
	mu    sync.Mutex
	asked []string
}

func (d *recordingDaemon) Ask(_ context.Context, request string) (json.RawMessage, error) {
	d.mu.Lock()
	d.asked = append(d.asked, request)
	d.mu.Unlock()
	switch {
	case request == "status":
		return json.RawMessage(`{"pid":1,"servers":[{"name":"alpha","state":"ready"}],"sessions":[]}`), nil
	case request == "tools":
		return json.RawMessage(`{"tools":[{"name":"alpha__echo","server":"alpha","original":"echo"}]}`), nil
	case request == "workspace list":
		return json.RawMessage(`{"default":"","workspaces":[]}`), nil
	}
	return json.RawMessage(`{}`), nil
}

func (d *recordingDaemon) requests() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.asked...)
}

func TestChangesNeedTheCSRFTokenFromTheSameOrigin(t *testing.T) {
	daemon := &recordingDaemon{}
	dash := New(Options{Daemon: daemon, Token: "tok"})
	defer dash.Close()
	srv := httptest.NewServer(dash.Handler())
	defer srv.Close()
	id, session := dash.sessions.open()
	cookie := &http.Cookie{Name: cookieName, Value: id}
	body := `{"names":["alpha__echo"],"enabled":false}`
	cases := []struct {
		name   string
		header map[string]string
		cookie bool
		want   int
	}{
		{"no credentials", map[string]string{"X-Plugboard-CSRF": session.csrf}, false, 401},
		{"cookie without the CSRF token", nil, true, 403},
		{"cookie with a wrong CSRF token", map[string]string{"X-Plugboard-CSRF": "x" + session.csrf[1:]}, true, 403},
		{"another origin", map[string]string{"X-Plugboard-CSRF": session.csrf, "Origin": "http://127.0.0.1:1"}, true, 403},
		{"another site by Sec-Fetch-Site", map[string]string{"X-Plugboard-CSRF": session.csrf, "Sec-Fetch-Site": "same-site"}, true, 403},
		{"a wrong bearer token", map[string]string{"Authorization": "Bearer tok2"}, false, 401},
		{"the bearer token", map[string]string{"Authorization": "Bearer tok"}, false, 200},
		{"cookie and CSRF token, same origin", map[string]string{"X-Plugboard-CSRF": session.csrf, "Origin": srv.URL, "Sec-Fetch-Site": "same-origin"}, true, 200},
	}
	for _, c := range cases {
		req, _ := http.NewRequest("POST", srv.URL+"/ui/api/tools", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		for k, v := range c.header {
			req.Header.Set(k, v)
		}
		if c.cookie {
			req.AddCookie(cookie)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Errorf("%s: HTTP %d, want %d", c.name, resp.StatusCode, c.want)
		}
	}
	changes := 0
	for _, r := range daemon.requests() {
		if strings.HasPrefix(r, "tools disable") {
			changes++
			if r != "tools disable alpha__echo" {
				t.Errorf("asked %q", r)
			}
		}
	}
	if changes != 2 {
		t.Errorf("%d changes reached the daemon, want the 2 allowed", changes)
	}
}

func TestNamesThatAreNotOneWordAreRefused(t *testing.T) {
	daemon := &recordingDaemon{}
	dash := New(Options{Daemon: daemon, Token: "tok"})
	defer dash.Close()
	srv := httptest.NewServer(dash.Handler())
	defer srv.Close()
	for path, body := range map[string]string{
		"/ui/api/tools":     `{"names":["a\nsession x"],"enabled":false}`,
		"/ui/api/workspace": `{"name":"--default x"}`,
		"/ui/api/restart":   `{"name":"a b"}`,
	} {
		req, _ := http.NewRequest("POST", srv.URL+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer tok")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("POST %s %s: HTTP %d, want 400", path, body, resp.StatusCode)
		}
	}
	if asked := daemon.requests(); len(asked) != 0 {
		t.Errorf("the daemon was asked %q", asked)
	}
}

func TestLoginCodesWorkOnceAndExpire(t *testing.T) {
	s := newSessions()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s.nowFor = func() time.Time { return now }
	code := s.newCode()
	if !s.useCode(code) || s.useCode(code) {
		t.Error("a code did not work exactly once")
	}
	late := s.newCode()
	now = now.Add(loginCodeLifetime + time.Second)
	if s.useCode(late) || s.useCode("") {
		t.Error("an expired or empty code worked")
	}
	id, _ := s.open()
	if s.find(id) == nil {
		t.Fatal("a new session is not found")
	}
	now = now.Add(sessionLifetime + time.Second)
	if s.find(id) != nil {
		t.Error("an expired session is still found")
	}
}

// The event stream sends the state, and the daemon is asked only while a
// browser watches.
func TestEventsAskTheDaemonOnlyWhileABrowserWatches(t *testing.T) {
	daemon := &recordingDaemon{}
	dash := New(Options{Daemon: daemon, Token: "tok"})
	defer dash.Close()
	srv := httptest.NewServer(dash.Handler())
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/ui/api/events", nil)
	req.Header.Set("Authorization", "Bearer tok")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("Content-Type %q", ct)
	}
	r := bufio.NewReader(resp.Body)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(line, "data: ") {
			if !strings.Contains(line, `"alpha__echo"`) || !strings.Contains(line, `"state":"ready"`) {
				t.Errorf("the event %s", line)
			}
			break
		}
	}
	cancel()
	resp.Body.Close()
	// Once the poller has seen the stream gone, nothing more is asked.
	deadline := time.Now().Add(5 * time.Second)
	for {
		dash.hub.mu.Lock()
		running := dash.hub.running
		dash.hub.mu.Unlock()
		if !running {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the poller still runs with no stream open")
		}
		time.Sleep(20 * time.Millisecond)
	}
	before := len(daemon.requests())
	time.Sleep(2 * pollEvery)
	if after := len(daemon.requests()); after != before {
		t.Errorf("the daemon was asked %d times with no browser watching", after-before)
	}
}

func TestStrangersGetTheLoginPage(t *testing.T) {
	dash := New(Options{Daemon: &recordingDaemon{}, Token: "tok"})
	defer dash.Close()
	srv := httptest.NewServer(dash.Handler())
	defer srv.Close()
	for path, want := range map[string]int{"/ui": 200, "/ui/": 200, "/ui/app.js": 401, "/ui/nosuch": 401, "/ui/api/state": 401} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		b := make([]byte, 64<<10)
		n, _ := resp.Body.Read(b)
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET %s: HTTP %d, want %d", path, resp.StatusCode, want)
		}
		if strings.Contains(string(b[:n]), "alpha") || strings.Contains(string(b[:n]), "app.js") {
			t.Errorf("GET %s without credentials shows %s", path, b[:n])
		}
	}
}
