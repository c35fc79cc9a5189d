package main

import (
	"context"
	"fmt"
	"math"
)

// Linerelay made busy: at the highest concurrency, where the machine's
// cores are the limit, linerelay spending plugboard's extra processor
// time per call should keep what plugboard keeps of direct, if that time
// is the whole of the difference.

// busyPerLine is the processor time, in µs, that linerelay is to spend
// on each line each way for its time per call to match plugboard's in
// rounds: half the difference of their medians, a call being a line
// each way. ok is false when either was not measured, or when linerelay
// spent as much as plugboard.
func busyPerLine(rounds []pair) (us float64, ok bool) {
	relay, _, measured := relayMedians(rounds, cpuPerCall)
	_, plugboard, _ := roundMedians(rounds, cpuPerCall)
	if !measured || relay <= 0 || plugboard <= 0 {
		return 0, false
	}
	// To the nanosecond: the figure recorded is then the flag given.
	us = math.Round((plugboard-relay)/2*1e3) / 1e3
	if us <= 0 {
		return 0, false
	}
	return us, true
}

// measureBusyRelay runs rounds of the direct workload against linerelay
// made busy for the time busyPerLine finds in level; it returns nil when
// that is none.
func measureBusyRelay(ctx context.Context, r *runner, what string, level []pair, rounds int, direct []string) (*busyRelayResults, error) {
	us, ok := busyPerLine(level)
	if !ok {
		return nil, nil
	}
	busy := fmt.Sprintf("%gus", us)
	relay := r.relayed(direct, "--busy", busy)
	if relay == nil {
		return nil, nil
	}
	res := &busyRelayResults{BusyUS: us}
	for round := range rounds {
		p, err := relayRun(ctx, r, fmt.Sprintf("%s, linerelay --busy %s, round %d", what, busy, round+1), round%2 == 1, direct, relay)
		if err != nil {
			return res, err
		}
		res.Rounds = append(res.Rounds, p)
	}
	return res, nil
}

// relayRun runs the same workload directly and through linerelay, in the
// order given, as pairRun does with plugboard; the samples are the pair's
// Direct and Relay.
func relayRun(ctx context.Context, r *runner, what string, relayFirst bool, direct, relay []string) (pair, error) {
	p := pair{Relay: &latencySample{}}
	runs := []struct {
		name string
		args []string
		into *latencySample
	}{
		{"direct", direct, &p.Direct},
		{"linerelay", relay, p.Relay},
	}
	if relayFirst {
		runs[0], runs[1] = runs[1], runs[0]
	}
	for _, run := range runs {
		out, err := r.call(ctx, what+", "+run.name, run.args...)
		*run.into = out.sample()
		if err != nil {
			return p, err
		}
	}
	return p, nil
}
