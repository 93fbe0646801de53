package main

import (
	"errors"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/sesame/sesame/internal/redact"
	"github.com/sesame/sesame/internal/server"
)

func newDatabase(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "database",
		Short: "Move the data directory's SQLite database to PostgreSQL",
	}
	var output, to, keyFile string
	var replace bool
	cp := &cobra.Command{
		Use:   "copy --to postgres://...",
		Short: "Copy everything of the data directory's SQLite database into a PostgreSQL database",
		Long: `Copy the SQLite database of the data directory (--data) into the PostgreSQL
database of --to (default --database-url, SESAME_DATABASE_URL), for moving a
Sesame from one server on SQLite to replicas on PostgreSQL (docs/deploy.md,
"Moving from SQLite to PostgreSQL"): accounts and access keys, identities
with their verification state, tokens, policies and settings, the checks'
timeline, DKIM keys, templates, configuration sets, sending states, the
outbox with its queued mail and verification links, console sign-outs.

The SQLite database is read in one snapshot, and the copy is one
transaction on PostgreSQL: if it fails, the destination is left as it was.
A destination that holds data already is refused unless --replace, which
empties it first in the same transaction. Writes made to the SQLite
database after the copy began are not copied: stop sesame serve first.

Secret access keys and DKIM private keys are copied sealed, as they are:
they open only with the sealing key of the data directory (--key-file,
default <data>/secret.key), which the copy checks them against. Every
replica needs this data directory's key files (secret.key, link.key,
console.key); the copy records their fingerprints in the database, so a
replica started with other files is refused.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkOutput(output, "text", "json"); err != nil {
				return err
			}
			dest := to
			switch {
			case dest == "":
				dest = g.databaseURL
			case g.databaseURL != "" && g.databaseURL != dest:
				return usageError{errors.New("--to and --database-url (or SESAME_DATABASE_URL) name two databases: give one")}
			}
			if dest == "" {
				return usageError{errors.New("--to: the PostgreSQL database to copy into, postgres://user:password@host:5432/database")}
			}
			if !server.IsDatabaseURL(dest) {
				return usageError{fmt.Errorf("--to %s: want postgres://user:password@host:5432/database", redact.String(dest))}
			}
			return copyDatabase(cmd, g.data, dest, keyFile, replace, output)
		},
	}
	outputFlag(cp.Flags(), &output, "text", "json")
	cp.Flags().StringVar(&to, "to", "", "PostgreSQL database to copy into: postgres://user:password@host:5432/database (default --database-url)")
	cp.Flags().BoolVar(&replace, "replace", false, "empty a destination that holds data already, deleting everything in it (in the same transaction as the copy)")
	cp.Flags().StringVar(&keyFile, "key-file", "", "file of the key that seals secret access keys and DKIM keys (default <data>/secret.key)")
	// The server's: the secrets copied are sealed with it.
	withEnv(cp.Flags(), "key-file")
	cmd.AddCommand(cp)
	return cmd
}

// copyOut is what `sesame database copy --output json` prints.
type copyOut struct {
	Source      string
	Destination string
	Tables      []server.TableCount
	// KeyFiles are the files every replica needs, as they are here.
	KeyFiles []server.SharedKey
}

func copyDatabase(cmd *cobra.Command, data, dest, keyFile string, replace bool, output string) error {
	c, err := server.CopyDatabase(cmd.Context(), data, dest, keyFile, replace)
	if err != nil {
		return err
	}
	out := copyOut{Source: c.Source, Destination: redact.String(dest), Tables: c.Tables, KeyFiles: c.Keys}
	if output == "json" {
		return writeJSON(cmd.OutOrStdout(), out)
	}
	return printCopy(cmd.OutOrStdout(), out)
}

func printCopy(w io.Writer, out copyOut) error {
	fmt.Fprintf(w, "Copied %s into %s, in one transaction:\n", out.Source, out.Destination)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, c := range out.Tables {
		name := c.Table
		if name == server.MetaTable {
			name += " (console sign-outs)"
		}
		fmt.Fprintf(tw, "  %s\t%d\n", name, c.Rows)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w, `
Secret access keys and DKIM keys were copied sealed: they open only with
this data directory's sealing key. Every replica needs these key files, the
same bytes, mode 0600, in its own --data (the sealing key at --key-file if
that is where it is); the database now holds their fingerprints, and
refuses a replica started with others:`)
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, k := range out.KeyFiles {
		fmt.Fprintf(tw, "  %s\t%s\n", k.Path, k.Name)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintln(w, `
Writes made to the SQLite database after the copy began are not in it:
stop sesame serve before copying. Then start the replicas with
--database-url (docs/deploy.md, "Moving from SQLite to PostgreSQL").`)
	return err
}
