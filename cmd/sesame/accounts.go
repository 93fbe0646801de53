package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/sesame/sesame/internal/account"
	"github.com/sesame/sesame/internal/server"
	"github.com/sesame/sesame/internal/store"
)

func newAccounts(g *globals) *cobra.Command {
	var output, keyFile string
	cmd := &cobra.Command{
		Use:   "accounts",
		Short: "Create and list accounts, add and revoke their access keys, lift the sandbox",
		Long: `Manage tenants. These commands open the data directory (or the PostgreSQL
database of --database-url) directly, and work while the server runs: a new
key works at once, a revoked key stops working within 0.1 seconds, on every
replica. SESAME_DATA, SESAME_DATABASE_URL and SESAME_KEY_FILE, if the server
has them, set --data, --database-url and --key-file here too.`,
	}
	outputFlag(cmd.PersistentFlags(), &output, "text", "json")
	cmd.PersistentFlags().StringVar(&keyFile, "key-file", "", "file of the key that seals secret access keys (default <data>/secret.key)")
	// The server's: a key sealed with another would not open.
	withEnv(cmd.PersistentFlags(), "key-file")

	open := func(ctx context.Context) (store.Store, *account.Manager, error) {
		if err := checkOutput(output, "text", "json"); err != nil {
			return nil, nil, err
		}
		st, err := server.OpenStore(ctx, g.data, g.databaseURL)
		if err != nil {
			return nil, nil, err
		}
		m, err := server.OpenAccounts(st, g.data, keyFile)
		if err != nil {
			st.Close()
			return nil, nil, err
		}
		return st, m, nil
	}
	printCreds := func(w io.Writer, c *account.Credentials) error {
		if output == "json" {
			return writeJSON(w, c)
		}
		fmt.Fprintf(w, "AccountId        %s\nAccessKeyId      %s\nSecretAccessKey  %s\n", c.AccountId, c.AccessKeyId, c.SecretAccessKey)
		return nil
	}

	create := &cobra.Command{
		Use:   "create NAME",
		Short: "Create an account with one access key and print its credentials",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			st, m, err := open(cmd.Context())
			if err != nil {
				return err
			}
			defer st.Close()
			c, err := m.Create(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return printCreds(cmd.OutOrStdout(), c)
		},
	}
	list := &cobra.Command{
		Use:   "list",
		Short: "List accounts and their access keys",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			st, _, err := open(cmd.Context())
			if err != nil {
				return err
			}
			defer st.Close()
			return listAccounts(cmd.Context(), st, cmd.OutOrStdout(), output)
		},
	}
	keys := &cobra.Command{Use: "keys", Short: "Add or revoke access keys"}
	add := &cobra.Command{
		Use:   "add ACCOUNT",
		Short: "Add an access key to an account (by ID or name) and print it",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			st, m, err := open(cmd.Context())
			if err != nil {
				return err
			}
			defer st.Close()
			c, err := m.AddKey(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return printCreds(cmd.OutOrStdout(), c)
		},
	}
	revoke := &cobra.Command{
		Use:   "revoke ACCESS_KEY_ID",
		Short: "Revoke an access key",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			st, m, err := open(cmd.Context())
			if err != nil {
				return err
			}
			defer st.Close()
			if err := m.Revoke(cmd.Context(), args[0]); err != nil {
				return err
			}
			if output == "json" {
				return writeJSON(cmd.OutOrStdout(), keyOut{AccessKeyId: args[0], Status: "Revoked"})
			}
			fmt.Fprintf(cmd.OutOrStdout(), "revoked %s\n", args[0])
			return nil
		},
	}
	keys.AddCommand(add, revoke)
	openStore := func(cmd *cobra.Command) (store.Store, error) {
		st, _, err := open(cmd.Context())
		return st, err
	}
	cmd.AddCommand(create, list, keys, newSending(openStore, &output), newSMTPPassword(open, &output))
	return cmd
}

// keyOut is an access key as `sesame accounts list --output json` prints
// it, and `keys revoke` without Created.
type keyOut struct {
	AccessKeyId string
	Status      string
	Created     *time.Time `json:",omitempty"`
	Revoked     *time.Time `json:",omitempty"`
}

// accountOut is one line of `sesame accounts list --output json`.
type accountOut struct {
	AccountId string
	Name      string
	Created   time.Time
	Keys      []keyOut
}

func listAccounts(ctx context.Context, st store.Accounts, w io.Writer, output string) error {
	accts, err := st.ListAccounts(ctx)
	if err != nil {
		return err
	}
	var out []accountOut
	for _, a := range accts {
		ks, err := st.ListKeys(ctx, a.ID)
		if err != nil {
			return err
		}
		ao := accountOut{AccountId: a.ID, Name: a.Name, Created: a.Created, Keys: []keyOut{}}
		for _, k := range ks {
			ko := keyOut{AccessKeyId: k.ID, Status: "Active", Created: &k.Created}
			if !k.Revoked.IsZero() {
				r := k.Revoked
				ko.Status, ko.Revoked = "Revoked", &r
			}
			ao.Keys = append(ao.Keys, ko)
		}
		out = append(out, ao)
	}
	if output == "json" {
		return writeJSONLines(w, out)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ACCOUNT ID\tNAME\tACCESS KEY ID\tSTATUS\tCREATED")
	for _, a := range out {
		for _, k := range a.Keys {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", a.AccountId, a.Name, k.AccessKeyId, k.Status, k.Created.Format(time.RFC3339))
		}
	}
	return tw.Flush()
}
