package transports

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
)

// DefaultStateDir is the directory where plugboard keeps what other local
// users must not touch: the socket of `plugboard serve`, its auth token and
// the records of its children. It is $XDG_RUNTIME_DIR/plugboard when
// XDG_RUNTIME_DIR is an absolute path, else /tmp/plugboard-UID (os.TempDir).
func DefaultStateDir() string {
	if dir := os.Getenv("XDG_RUNTIME_DIR"); filepath.IsAbs(dir) {
		return filepath.Join(dir, "plugboard")
	}
	return filepath.Join(os.TempDir(), "plugboard-"+strconv.Itoa(os.Getuid()))
}

// ErrNotPrivate is wrapped by the errors of EnsurePrivateDir and
// CheckPrivateDir for a directory another local user could use against
// plugboard: not ours, writable by others, or not a plain directory.
var ErrNotPrivate = errors.New("not a private directory")

// EnsurePrivateDir creates dir with mode 0700, or accepts an existing one
// only if it is a directory (not a symlink) that this user owns and that
// neither group nor others can write; a wider mode of such a directory is
// narrowed to 0700. Its parent must exist.
func EnsurePrivateDir(dir string) error {
	err := os.Mkdir(dir, 0o700)
	if err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("creating %s: %w", dir, err)
	}
	info, err := checkOwnDir(dir)
	if err != nil {
		return err
	}
	if info.Mode().Perm() != 0o700 {
		if err := os.Chmod(dir, 0o700); err != nil {
			return fmt.Errorf("narrowing %s to mode 0700: %w", dir, err)
		}
	}
	return nil
}

// CheckPrivateDir checks, without changing anything, that dir is a
// directory (not a symlink) this user owns and that neither group nor
// others can write: the test for the directory of a socket given with
// --socket.
func CheckPrivateDir(dir string) error {
	_, err := checkOwnDir(dir)
	return err
}

func checkOwnDir(dir string) (fs.FileInfo, error) {
	info, err := os.Lstat(dir)
	if err != nil {
		return nil, err
	}
	switch {
	case info.Mode()&fs.ModeSymlink != 0:
		return nil, fmt.Errorf("%s is a symbolic link: %w", dir, ErrNotPrivate)
	case !info.IsDir():
		return nil, fmt.Errorf("%s is not a directory: %w", dir, ErrNotPrivate)
	}
	if uid, ok := fileOwner(info); ok && uid != os.Getuid() {
		return nil, fmt.Errorf("%s belongs to uid %d, not to this user (uid %d): %w", dir, uid, os.Getuid(), ErrNotPrivate)
	}
	if info.Mode().Perm()&0o022 != 0 {
		return nil, fmt.Errorf("%s is writable by other users (mode %04o): %w", dir, info.Mode().Perm(), ErrNotPrivate)
	}
	return info, nil
}

// fileOwner returns the uid that owns a file, where the platform says.
func fileOwner(info fs.FileInfo) (int, bool) {
	st, ok := info.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	return int(st.Uid), true
}
