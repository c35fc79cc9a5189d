//go:build !linux

package transports

// processStart is unknown here: records hold pids only, and a leftover
// child is reported, never killed.
func processStart(int) string { return "" }

// groupMembers is unknown here.
func groupMembers(procID) []int { return nil }
