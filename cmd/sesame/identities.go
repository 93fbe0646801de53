package main

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/sesame/sesame/internal/identity"
	"github.com/sesame/sesame/internal/names"
	"github.com/sesame/sesame/internal/server"
	"github.com/sesame/sesame/internal/verify"
)

func newIdentities(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "identities", Short: "Look at identities and the evidence of their checks"}
	var account, region, output string
	var limit int
	p := identity.SESPolicies()
	show := &cobra.Command{
		Use:   "show NAME",
		Short: "Show an identity's checks, when a record published now will be seen, and the timeline of its checks",
		Long: `Show what the verifier knows of an identity: the status of each check
(verification, DKIM, MAIL FROM) with its error and deadline, when a record
published now becomes visible to Sesame and to resolvers, and the last
checks: which name server was asked what, what it answered, and what was
expected. It reads the data directory (or --database-url), so it works with
the server running or not. The same report is served by the API at
GET /v2/email/identities/{identity}/sesame/checks. Give the server's
--verification-window, --revocation-grace and --link-validity, or its
SESAME_* variables of them, so that the deadlines agree.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkOutput(output, "text", "json"); err != nil {
				return err
			}
			ctx := cmd.Context()
			st, err := server.OpenStore(ctx, g.data, g.databaseURL)
			if err != nil {
				return err
			}
			defer st.Close()
			a, err := st.GetAccount(ctx, account)
			if err != nil {
				return fmt.Errorf("--account %q: %w (see sesame accounts list)", account, err)
			}
			_, name, err := names.Identity(args[0])
			if err != nil {
				return usageError{err}
			}
			id, err := st.GetIdentity(ctx, identity.Key{Account: a.ID, Region: region, Name: name})
			if err != nil {
				return fmt.Errorf("identity %s in account %s, region %s: %w", name, a.ID, region, err)
			}
			now := time.Now().UTC()
			id.Expire(now, p)
			rep, err := verify.BuildReport(ctx, st, id, p, now, limit)
			if err != nil {
				return err
			}
			if output == "json" {
				return writeJSON(cmd.OutOrStdout(), rep)
			}
			printReport(cmd.OutOrStdout(), rep, now)
			return nil
		},
	}
	show.Flags().StringVar(&account, "account", "default", "account ID or name")
	show.Flags().StringVar(&region, "region", "us-east-1", "region")
	outputFlag(show.Flags(), &output, "text", "json")
	show.Flags().IntVar(&limit, "limit", 20, "checks of the timeline to show")
	// Those of serve: give the server's, so that the deadlines agree; the
	// server's variables set them too.
	addPolicyFlags(show.Flags(), &p)
	withEnv(show.Flags(), "verification-window", "revocation-grace", "link-validity")
	cmd.AddCommand(show)
	return cmd
}

func when(t *time.Time, now time.Time) string {
	if t == nil {
		return "-"
	}
	d := t.Sub(now).Round(time.Second)
	rel := "in " + d.String()
	switch {
	case d < 0:
		rel = (-d).String() + " ago"
	case d == 0:
		rel = "now"
	}
	return t.Format(time.RFC3339) + " (" + rel + ")"
}

func printReport(w io.Writer, r *verify.Report, now time.Time) {
	fmt.Fprintf(w, "%s  %s  account %s  region %s  status %s\n", r.Identity, r.Type, r.Account, r.Region, r.Status)
	fmt.Fprintf(w, "next check: %s\n\n", when(r.Next, now))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CHECK\tSTATUS\tLAST CHECKED\tDEADLINE\tERROR\tDETAIL")
	var keys []string
	for k := range r.Checks {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		c := r.Checks[k]
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", k, c.Status, when(c.LastChecked, now), when(c.Deadline, now), dash(c.ErrorType), dash(c.Detail))
	}
	tw.Flush()
	for _, v := range r.Estimate {
		fmt.Fprintf(w, "\n%s: a record published now is seen by Sesame at %s", v.Check, when(&v.Sesame, now))
		if !v.Resolvers.IsZero() {
			fmt.Fprintf(w, ", by every resolver by %s", when(&v.Resolvers, now))
		}
		if v.Detail != "" {
			fmt.Fprintf(w, "\n  %s", v.Detail)
		}
		fmt.Fprintln(w)
	}
	if len(r.Timeline) > 0 {
		fmt.Fprintln(w, "\ntimeline (newest first):")
	}
	for _, c := range r.Timeline {
		fmt.Fprintf(w, "%s  %-12s %-10s %s\n", c.At.Format(time.RFC3339), c.Check, c.Outcome, c.Server)
		if c.Query != "" {
			fmt.Fprintf(w, "    $ %s\n", c.Query)
		}
		for _, a := range c.Answer {
			fmt.Fprintf(w, "    %s\n", a)
		}
		if c.Expected != "" {
			fmt.Fprintf(w, "    expected: %s\n", c.Expected)
		}
		if c.Detail != "" {
			fmt.Fprintf(w, "    %s\n", strings.TrimSpace(c.Detail))
		}
	}
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
