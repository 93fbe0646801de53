package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/sesame/sesame/internal/config"
	"github.com/sesame/sesame/internal/identity"
	"github.com/sesame/sesame/internal/keyring"
	"github.com/sesame/sesame/internal/names"
	"github.com/sesame/sesame/internal/server"
	"github.com/sesame/sesame/internal/store"
)

// dkimKeyRow is one key as `sesame dkim keys` and `rotate` show it: never
// the private key.
type dkimKeyRow struct {
	Identity  string
	Account   string
	Region    string
	Token     string
	State     string
	Selector  string `json:",omitempty"` // an external (BYODKIM) key's s=; its token is only a name
	Length    string
	Created   time.Time
	Activated *time.Time `json:",omitempty"`
	Retired   *time.Time `json:",omitempty"`
}

func keyRow(k store.DKIMKey) dkimKeyRow {
	r := dkimKeyRow{Identity: k.Identity.Name, Account: k.Identity.Account, Region: k.Identity.Region,
		Token: k.Token, State: k.State, Selector: k.Selector, Length: k.Length, Created: k.Created}
	if !k.Activated.IsZero() {
		r.Activated = &k.Activated
	}
	if !k.Retired.IsZero() {
		r.Retired = &k.Retired
	}
	return r
}

func newDKIM(g *globals) *cobra.Command {
	var output, keyFile, account, region, name string
	dnsCfg := config.SES()
	cmd := &cobra.Command{
		Use:   "dkim",
		Short: "List and rotate the Easy DKIM keys behind the tokens",
		Long: `Operate the Easy DKIM keys that Sesame publishes in its DKIM zone
(--dkim-domain, served by sesame serve --dns-listen). These commands open
the data directory directly and work while the server runs, which carries
out a rotation: the new key signs once it has been published for the
server's --dns-ttl, and the key it replaces stays published for
--dkim-rotation-grace. SESAME_DATA, SESAME_KEY_FILE and SESAME_DKIM_DOMAIN,
if the server has them, set --data, --key-file and --dkim-domain here too.`,
	}
	pf := cmd.PersistentFlags()
	outputFlag(pf, &output, "text", "json")
	pf.StringVar(&keyFile, "key-file", "", "file of the key that seals secret access keys and DKIM keys (default <data>/secret.key)")
	pf.StringVar(&dnsCfg.DKIMDomain, "dkim-domain", dnsCfg.DKIMDomain, "the server's --dkim-domain")
	pf.StringVar(&account, "account", "default", "account ID or name")
	pf.StringVar(&region, "region", "us-east-1", "region")
	withEnv(pf, "key-file", "dkim-domain")

	type opened struct {
		st   store.Store
		ring *keyring.Keyring
		acct string
	}
	open := func(ctx context.Context) (*opened, error) {
		if err := checkOutput(output, "text", "json"); err != nil {
			return nil, err
		}
		st, err := server.OpenStore(ctx, g.data, g.databaseURL)
		if err != nil {
			return nil, err
		}
		m, err := server.OpenAccounts(st, g.data, keyFile)
		if err != nil {
			st.Close()
			return nil, err
		}
		a, err := st.GetAccount(ctx, account)
		if err != nil {
			st.Close()
			return nil, fmt.Errorf("--account %q: %w (see sesame accounts list)", account, err)
		}
		return &opened{st: st, acct: a.ID, ring: &keyring.Keyring{Keys: st, Identities: st, Sealer: m.Sealer}}, nil
	}
	print := func(w io.Writer, keys []store.DKIMKey) error {
		rows := make([]dkimKeyRow, len(keys))
		for i, k := range keys {
			rows[i] = keyRow(k)
		}
		if output == "json" {
			return writeJSONLines(w, rows)
		}
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "IDENTITY\tACCOUNT\tREGION\tTOKEN\tSTATE\tLENGTH\tCREATED\tSIGNED FROM\tRETIRED")
		for _, r := range rows {
			state := r.State
			if r.Selector != "" {
				state += " s=" + r.Selector
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Identity, r.Account, r.Region, r.Token, state, r.Length,
				r.Created.Format(time.RFC3339), stamp(r.Activated), stamp(r.Retired))
		}
		return tw.Flush()
	}
	key := func(o *opened) (identity.Key, error) {
		kind, n, err := names.Identity(name)
		if err != nil || kind != names.KindDomain {
			return identity.Key{}, usageError{fmt.Errorf("--identity %q: want a domain identity, such as example.com", name)}
		}
		return identity.Key{Account: o.acct, Region: region, Name: n}, nil
	}

	rotate := &cobra.Command{
		Use:   "rotate --identity DOMAIN",
		Short: "Start a rotation of a domain's Easy DKIM keys: publish a new key, which signs after the TTL",
		Long: `Give one of the domain's tokens, the one with the oldest key that does not
sign, a new key of the identity's NextSigningKeyLength, published at once as
"next". The running server makes it the signing key once it has been
published for --dns-ttl; the key that signed until then stays published as
"previous" for --dkim-rotation-grace, then makes way for a fresh standby
key. Nothing changes in the customer's DNS: the three CNAMEs stay. A domain
whose tokens were made before Sesame had keys gets its keys instead.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if !server.ServesDKIM(dnsCfg) {
				return usageError{fmt.Errorf("--dkim-domain: %w", server.ErrSESDKIMDomain)}
			}
			o, err := open(cmd.Context())
			if err != nil {
				return err
			}
			defer o.st.Close()
			k, err := key(o)
			if err != nil {
				return err
			}
			keys, err := o.ring.Rotate(cmd.Context(), k)
			if err != nil {
				return fmt.Errorf("rotate the keys of %s (account %s, region %s): %w", k.Name, k.Account, k.Region, err)
			}
			return print(cmd.OutOrStdout(), keys)
		},
	}
	rotate.Flags().StringVar(&name, "identity", "", "the domain identity")
	rotate.MarkFlagRequired("identity")

	keys := &cobra.Command{
		Use:   "keys [--identity DOMAIN]",
		Short: "List the Easy DKIM keys (states, lengths, times; never the private keys)",
		Long: `List the keys of every domain in every account and region, or of one
account (--account), region (--region) or domain (--identity): each token,
its key's state (current signs; next signs after the TTL; previous signed
and stays published for the grace; standby is published and waits), the
key's length and when it was made, began and stopped signing.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			o, err := open(cmd.Context())
			if err != nil {
				return err
			}
			defer o.st.Close()
			ctx := cmd.Context()
			var all []store.DKIMKey
			if name != "" {
				k, err := key(o)
				if err != nil {
					return err
				}
				if all, err = o.st.ListDKIMKeys(ctx, k); err != nil {
					return err
				}
				return print(cmd.OutOrStdout(), all)
			}
			after := identity.Key{}
			for {
				ids, err := o.st.DKIMIdentities(ctx, after, 500)
				if err != nil {
					return err
				}
				for _, id := range ids {
					// Every account and region, unless --account or --region narrow it.
					if pf.Changed("account") && id.Account != o.acct || pf.Changed("region") && id.Region != region {
						continue
					}
					ks, err := o.st.ListDKIMKeys(ctx, id)
					if err != nil {
						return err
					}
					all = append(all, ks...)
				}
				if len(ids) < 500 {
					break
				}
				after = ids[len(ids)-1]
			}
			return print(cmd.OutOrStdout(), all)
		},
	}
	keys.Flags().StringVar(&name, "identity", "", "only this domain identity's keys")
	cmd.AddCommand(rotate, keys)
	return cmd
}

func stamp(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.Format(time.RFC3339)
}
