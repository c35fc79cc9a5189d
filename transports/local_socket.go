package transports

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
)

// ListenLocalSocket listens on a unix socket at path that only this user
// can reach: the socket's directory must be private (CheckPrivateDir),
// and the socket itself gets mode 0600. A stale socket file of ours is
// replaced; a live one, a socket of another user or anything that is not
// a socket is refused, so that plugboard serve never shares its name with
// an impostor.
func ListenLocalSocket(path string) (net.Listener, error) {
	if err := CheckPrivateDir(filepath.Dir(path)); err != nil {
		return nil, err
	}
	info, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, err
	case info.Mode()&fs.ModeSocket == 0:
		return nil, fmt.Errorf("%s exists and is not a socket", path)
	default:
		if uid, ok := fileOwner(info); ok && uid != os.Getuid() {
			return nil, fmt.Errorf("socket %s belongs to uid %d, not to this user (uid %d)", path, uid, os.Getuid())
		}
		if conn, err := net.Dial("unix", path); err == nil {
			defer conn.Close()
			return nil, &SocketInUseError{Path: path, PID: peerPIDOrZero(conn)}
		}
		if err := os.Remove(path); err != nil {
			return nil, fmt.Errorf("removing the stale socket %s: %w", path, err)
		}
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, err
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, err
	}
	return ln, nil
}

// SocketInUseError is a local socket a live process listens on: another
// plugboard serve, whose pid is given when the platform tells (0 if not).
type SocketInUseError struct {
	Path string
	PID  int
}

func (e *SocketInUseError) Error() string {
	if e.PID > 0 {
		return fmt.Sprintf("another plugboard is listening on %s (pid %d)", e.Path, e.PID)
	}
	return fmt.Sprintf("another plugboard is listening on %s", e.Path)
}

func peerPIDOrZero(conn net.Conn) int {
	pid, _ := PeerPID(conn)
	return pid
}

// DialLocalSocket connects to the unix socket of a plugboard serve of
// this user. It refuses a socket in a directory that is not private, a
// socket file another user owns, and, where the platform tells
// (SO_PEERCRED on Linux), a listener run by another user.
func DialLocalSocket(path string) (net.Conn, error) {
	if err := CheckPrivateDir(filepath.Dir(path)); err != nil {
		return nil, err
	}
	info, err := os.Lstat(path)
	if err != nil {
		return nil, err
	}
	if info.Mode()&fs.ModeSocket == 0 {
		return nil, fmt.Errorf("%s is not a socket", path)
	}
	if uid, ok := fileOwner(info); ok && uid != os.Getuid() {
		return nil, fmt.Errorf("socket %s belongs to uid %d, not to this user (uid %d): refusing to talk to it", path, uid, os.Getuid())
	}
	conn, err := net.Dial("unix", path)
	if err != nil {
		return nil, err
	}
	uid, known, err := peerUID(conn)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("asking who listens on %s: %w", path, err)
	}
	if known && uid != os.Getuid() {
		conn.Close()
		return nil, fmt.Errorf("the process listening on %s runs as uid %d, not as this user (uid %d): refusing to talk to it", path, uid, os.Getuid())
	}
	return conn, nil
}
