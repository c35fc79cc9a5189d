//go:build !linux

package transports

import "net"

// peerUID reports that the peer's uid is unknown: only Linux's
// SO_PEERCRED is asked; elsewhere the socket file's owner and its private
// directory are the checks.
func peerUID(net.Conn) (uid int, known bool, err error) { return 0, false, nil }

// PeerPID reports that the peer's pid is unknown: only Linux's
// SO_PEERCRED tells it.
func PeerPID(net.Conn) (pid int, known bool) { return 0, false }
