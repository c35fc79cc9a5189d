package main

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// runBench measures tools/call, or whole tools/list listings, on fresh
// sessions, and ends them.
func runBench(ctx context.Context, opts options) (*benchReport, error) {
	w := workload{warmup: opts.warmup, duration: opts.duration, count: opts.count, rate: opts.rate}
	if opts.mode == modeList {
		w.list = true
	} else {
		params, err := toolCallParams(opts.tool, opts.args)
		if err != nil {
			return nil, err
		}
		w.method, w.params = methodToolsCall, params
	}

	watched, err := watchProcess(opts.watchPID)
	if err != nil {
		return nil, err
	}
	t := newTarget(opts)
	defer t.release()
	sessions, server, err := openSessions(ctx, t, opts.sessions, opts.concurrency)
	if err != nil {
		watched.finish()
		return nil, err
	}
	if opts.listFirst {
		if listing := listAll(ctx, sessions[0].caller(0)); listing.kind != outcomeOK {
			watched.finish()
			closeSessions(sessions)
			return nil, fmt.Errorf("tools/list before the calls: %s", listing.describe())
		}
	}
	var sampler *rssSampler
	if pids := stdioPIDs(sessions); len(pids) > 0 {
		sampler = startRSSSampler(pids)
	}
	cpu := startCPUMeter(stdioPIDs(sessions), opts.warmup)
	var watchedCPU *cpuMeter
	if opts.watchPID > 0 {
		watchedCPU = startCPUMeter([]int{opts.watchPID}, opts.warmup)
	}
	m := runWorkload(ctx, sessions, opts.concurrency, w)
	cpuUsed, watchedCPUUsed := cpu.finish(m.tally.ok), watchedCPU.finish(m.tally.ok)
	r := &benchReport{
		Mode:        opts.mode,
		Target:      t.info(),
		Server:      server,
		Sessions:    opts.sessions,
		Concurrency: opts.concurrency,
		RatePerSec:  opts.rate,
		WarmupSec:   opts.warmup.Seconds(),
		ElapsedSec:  m.elapsed.Seconds(),
		Calls:       m.tally.ok + m.tally.errors.Total,
		OK:          m.tally.ok,
		LatencyUS:   summarize(m.tally.hist, m.tally.min, m.tally.max),
		Errors:      m.tally.errors,
		Tools:       m.tally.tools,
		Pages:       m.tally.pages,
		Unsent:      m.unsent,
		CPU:         cpuUsed,
		WatchedCPU:  watchedCPUUsed,
	}
	if opts.mode == modeCall {
		r.Tool = opts.tool
	}
	if m.elapsed > 0 {
		r.Throughput = float64(m.tally.ok) / m.elapsed.Seconds()
	}
	if sampler != nil {
		rss := sampler.finish()
		r.RSS = &rss
	}
	r.Watched = watched.finish()
	if m.unsent > 0 {
		r.Notes = append(r.Notes, fmt.Sprintf("%d calls due in the measuring time were never sent: the target fell behind the rate", m.unsent))
	}
	for _, n := range m.lost {
		r.Notes = append(r.Notes, fmt.Sprintf("session %d failed during the run and its calls stopped", n+1))
	}
	if ctx.Err() != nil {
		r.Notes = append(r.Notes, "interrupted: the report covers the calls made until then")
	}
	r.Notes = append(r.Notes, closeSessions(sessions)...)
	return r, nil
}

// openSessions opens and initializes n sessions at once, with room for
// their share of concurrency callers, and returns what the first server
// said about itself. When one fails, all are closed.
func openSessions(ctx context.Context, t target, n, concurrency int) ([]session, *serverInfo, error) {
	sessions := make([]session, n)
	servers := make([]*serverInfo, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			s, err := t.open(ctx, callersPerSession(concurrency, n, i))
			if err != nil {
				errs[i] = err
				return
			}
			sessions[i] = s
			servers[i], errs[i] = s.handshake(ctx)
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			var opened []session
			for _, s := range sessions {
				if s != nil {
					opened = append(opened, s)
				}
			}
			closeSessions(opened)
			if n > 1 {
				return nil, nil, fmt.Errorf("session %d: %w", i+1, err)
			}
			return nil, nil, err
		}
	}
	return sessions, servers[0], nil
}

// closeSessions ends the sessions at once and describes what went wrong.
// They get their full grace even when the run was interrupted.
func closeSessions(sessions []session) []string {
	problems := make([]error, len(sessions))
	var wg sync.WaitGroup
	for i, s := range sessions {
		wg.Go(func() { problems[i] = s.close(context.Background()) })
	}
	wg.Wait()
	var notes []string
	for i, err := range problems {
		if err != nil {
			notes = append(notes, fmt.Sprintf("closing session %d: %v", i+1, err))
		}
	}
	return notes
}

// watchedProcess samples the memory of a process that --watch-pid names;
// its methods do nothing on a nil one.
type watchedProcess struct {
	sampler *rssSampler
}

// watchProcess starts sampling pid, or returns nil for pid 0.
func watchProcess(pid int) (*watchedProcess, error) {
	if pid == 0 {
		return nil, nil
	}
	if _, err := readMemory(pid); err != nil {
		return nil, fmt.Errorf("--watch-pid %d: %w", pid, err)
	}
	return &watchedProcess{sampler: startRSSSampler([]int{pid})}, nil
}

// finish takes the last sample and stops.
func (w *watchedProcess) finish() *rssReport {
	if w == nil {
		return nil
	}
	r := w.sampler.finish()
	return &r
}

// stdioPIDs lists the processes of stdio sessions.
func stdioPIDs(sessions []session) []int {
	var pids []int
	for _, s := range sessions {
		if p, ok := s.(interface{ pid() int }); ok {
			pids = append(pids, p.pid())
		}
	}
	return pids
}

// runStartup starts the target opts.runs times and measures how long each
// takes from exec, or from the first connection, to the end of its first
// complete tools/list.
func runStartup(ctx context.Context, opts options) (*startupReport, error) {
	r := &startupReport{Mode: modeStartup, Runs: opts.runs}
	var times []time.Duration
	for run := 1; run <= opts.runs; run++ {
		t := newTarget(opts) // a new connection pool: each run connects afresh
		r.Target = t.info()
		elapsed, listing, server, note, err := startOnce(ctx, t)
		t.release()
		if err != nil {
			return nil, fmt.Errorf("run %d: %w", run, err)
		}
		if note != "" {
			r.Notes = append(r.Notes, fmt.Sprintf("run %d: %s", run, note))
		}
		times = append(times, elapsed)
		r.Server, r.Tools, r.Pages = server, listing.tools, listing.pages
	}
	r.StartupMS = newStartupTimes(times)
	return r, nil
}

// startOnce opens one session, lists its tools and closes it; note
// describes a problem with closing.
func startOnce(ctx context.Context, t target) (time.Duration, outcome, *serverInfo, string, error) {
	began := time.Now()
	s, err := t.open(ctx, 1)
	if err != nil {
		return 0, outcome{}, nil, "", err
	}
	server, err := s.handshake(ctx)
	var listing outcome
	if err == nil {
		listing = listAll(ctx, s.caller(0))
		if listing.kind != outcomeOK {
			err = fmt.Errorf("tools/list: %s", listing.describe())
		}
	}
	closeErr := s.close(context.Background())
	if err != nil {
		return 0, outcome{}, nil, "", err
	}
	note := ""
	if closeErr != nil {
		note = closeErr.Error()
	}
	return listing.done.Sub(began), listing, server, note, nil
}

// runIdle opens the sessions, lists the tools once on the first so that
// the server has everything up, and holds them all open without calls,
// sampling memory, until opts.idle has passed; then it ends them.
func runIdle(ctx context.Context, opts options) (*idleReport, error) {
	watched, err := watchProcess(opts.watchPID)
	if err != nil {
		return nil, err
	}
	t := newTarget(opts)
	defer t.release()
	began := time.Now()
	// One caller a session, for the listing.
	sessions, server, err := openSessions(ctx, t, opts.sessions, opts.sessions)
	if err != nil {
		watched.finish()
		return nil, err
	}
	opened := time.Since(began)
	r := &idleReport{Mode: modeIdle, Target: t.info(), Server: server, Sessions: opts.sessions,
		OpenSec: opened.Seconds(), HoldSec: opts.idle.Seconds()}
	listing := listAll(ctx, sessions[0].caller(0))
	if listing.kind != outcomeOK {
		watched.finish()
		closeSessions(sessions)
		return nil, fmt.Errorf("tools/list: %s", listing.describe())
	}
	r.Tools, r.Pages = listing.tools, listing.pages
	var sampler *rssSampler
	if pids := stdioPIDs(sessions); len(pids) > 0 {
		sampler = startRSSSampler(pids)
	}
	if !waitUntil(ctx, time.Now().Add(opts.idle)) {
		r.Notes = append(r.Notes, "interrupted: the sessions were held open for less than asked")
	}
	if sampler != nil {
		rss := sampler.finish()
		r.RSS = &rss
	}
	r.Watched = watched.finish()
	r.Notes = append(r.Notes, closeSessions(sessions)...)
	return r, nil
}
