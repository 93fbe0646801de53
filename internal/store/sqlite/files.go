package sqlite

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/sesame/sesame/internal/fileperm"
)

// sideFiles are the files SQLite keeps beside the database.
var sideFiles = []string{"-wal", "-shm", "-journal"}

// privateFiles makes the database at path before SQLite opens it, mode
// 0600 (its outbox holds live verification links), and takes group and
// other access away from an existing one and its side files (made by an
// older Sesame, or copied in). SQLite creates the
// WAL, the shared-memory file and the journal with the database's own mode
// (it fchmods them to it, so the umask plays no part): a private database
// keeps its side files private.
func privateFiles(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, fileperm.Private)
	switch {
	case err == nil:
		// The umask may have taken bits away from 0600; set it exactly.
		err = f.Chmod(fileperm.Private)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("database %q: %w", path, err)
		}
	case !errors.Is(err, fs.ErrExist):
		return fmt.Errorf("database %q: %w", path, err)
	}
	if err := fileperm.Tighten(path); err != nil {
		return err
	}
	for _, side := range sideFiles {
		if err := fileperm.Tighten(path + side); err != nil {
			return err
		}
	}
	return nil
}
