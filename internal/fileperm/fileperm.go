// Package fileperm keeps the files of the data directory private: the
// database (whose outbox holds live verification links) and the secret keys
// are mode 0600, whatever the mode of the directory they are in, which
// systemd units and container volumes often make 0755 beforehand.
package fileperm

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// Private is the mode of every file of the data directory.
const Private fs.FileMode = 0o600

// Tighten takes group and other access away from the file at path, if it
// exists: a file of an older Sesame, or one copied in, becomes 0600 (or
// stricter, if its owner had fewer bits).
func Tighten(path string) error {
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	perm := fi.Mode().Perm()
	if perm&0o077 == 0 {
		return nil
	}
	if err := os.Chmod(path, perm&Private); err != nil {
		return fmt.Errorf("%q is open to other users (mode %04o) and could not be made 0600: %w; chmod 600 it", path, perm, err)
	}
	return nil
}

// OpenToOthers reports the mode of directory dir when users other than its
// owner and group may list or enter it, which the server warns about at
// start: the files in it are private, but their names and sizes are not.
func OpenToOthers(dir string) (fs.FileMode, bool) {
	fi, err := os.Stat(dir)
	if err != nil || fi.Mode().Perm()&0o007 == 0 {
		return 0, false
	}
	return fi.Mode().Perm(), true
}
