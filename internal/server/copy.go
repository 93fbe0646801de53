package server

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/sesame/sesame/internal/account"
	"github.com/sesame/sesame/internal/store/postgres"
	"github.com/sesame/sesame/internal/store/sqlite"
	"github.com/sesame/sesame/internal/store/storecopy"
)

// Copied is what CopyDatabase copied.
type Copied struct {
	Source string            // the SQLite database's file
	Tables []storecopy.Count // rows per table
	Keys   []SharedKey       // the key files every replica needs
}

// TableCount is the rows copied of one table.
type TableCount = storecopy.Count

// MetaTable is the table of the console's sign-outs among Copied.Tables.
const MetaTable = storecopy.MetaTable

// IsDatabaseURL says whether url names a database --database-url serves
// (PostgreSQL).
func IsDatabaseURL(url string) bool { return postgres.IsURL(url) }

// CopyDatabase copies the SQLite database of the data directory into the
// PostgreSQL database of url (`sesame database copy`): in one snapshot
// and one transaction, the sealed secrets checked against the sealing
// key (keyFile, default <data>/secret.key), refusing a destination with
// data in it unless replace. Like OpenStore, it names the backends so
// that the commands need not.
func CopyDatabase(ctx context.Context, data, url, keyFile string, replace bool) (*Copied, error) {
	path := filepath.Join(data, sqlite.FileName)
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("no SQLite database to copy in --data %s: %w", data, err)
	}
	keys, err := SharedKeys(data, keyFile)
	if err != nil {
		return nil, err
	}
	sealer, err := account.LoadSealer(keys[0].Path)
	if err != nil {
		return nil, err
	}
	opts := storecopy.Options{Replace: replace, Sealer: sealer}
	for _, k := range keys {
		opts.Keys = append(opts.Keys, storecopy.Key{Name: k.Name, Fingerprint: k.Fingerprint})
	}
	src, err := sqlite.Open(ctx, data)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	dst, err := postgres.Open(ctx, url)
	if err != nil {
		return nil, err
	}
	defer dst.Close()
	counts, err := storecopy.Copy(ctx, src, dst, opts)
	if errors.Is(err, storecopy.ErrNotEmpty) {
		return nil, fmt.Errorf("%w: nothing copied; --replace deletes everything in it first", err)
	}
	if err != nil {
		return nil, fmt.Errorf("nothing copied: %w", err)
	}
	return &Copied{Source: path, Tables: counts, Keys: keys}, nil
}
