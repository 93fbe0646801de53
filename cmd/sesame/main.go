// Command sesame is a self-hosted email identity service that speaks the
// Amazon SES API: `sesame serve` runs it, `sesame accounts` manages its
// tenants.
package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"
)

func main() {
	if err := newRoot().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "sesame:", err)
		os.Exit(exitCode(err))
	}
}

// globals are the flags every subcommand has.
type globals struct {
	data        string
	databaseURL string
	logFormat   string
	logLevel    string
}

func newRoot() *cobra.Command {
	g := &globals{}
	root := &cobra.Command{
		Use:   "sesame",
		Short: "Sesame: sender identities as Amazon SES does them, on your own machines",
		Long: `Sesame registers email addresses and domains through the Amazon SES API
(v1 Query and v2 REST, SigV4-signed), tells you the DNS records to publish,
and verifies them.

The flags of "sesame serve" (and --data, --database-url, --log-format,
--log-level) can also be set with environment variables: SESAME_ and the
flag's name in upper case with dashes as underscores (--listen:
SESAME_LISTEN). Other commands
read only those that must agree with the server's (see each command's help);
no other flag has a variable.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			return applyEnv(cmd)
		},
	}
	root.PersistentFlags().StringVar(&g.data, "data", "./sesame-data", "data directory: the SQLite database and the key that seals secret keys")
	root.PersistentFlags().StringVar(&g.databaseURL, "database-url", "", "PostgreSQL database to use instead of the data directory's SQLite: postgres://user:password@host:5432/database (the key files stay in --data)")
	root.PersistentFlags().StringVar(&g.logFormat, "log-format", "text", "log format: text or json")
	root.PersistentFlags().StringVar(&g.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	withEnv(root.PersistentFlags(), "data", "database-url", "log-format", "log-level")
	root.AddCommand(newServe(g), newAccounts(g), newIdentities(g))
	root.AddCommand(newDoctor(g))
	root.AddCommand(newOutbox(g))
	root.AddCommand(newPlan(g))
	root.AddCommand(newDKIM(g))
	root.AddCommand(newDatabase(g))
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	usageArgs(root)
	return root
}

// usageArgs makes the errors of positional arguments usage errors, in cmd
// and its subcommands: a wrong count, and an unknown subcommand (which
// cobra reports as an argument of the command above, or not at all for a
// command without a Run of its own).
func usageArgs(cmd *cobra.Command) {
	for _, c := range cmd.Commands() {
		usageArgs(c)
	}
	switch args := cmd.Args; {
	case args != nil:
		cmd.Args = func(c *cobra.Command, a []string) error {
			if err := args(c, a); err != nil {
				return asUsage(err)
			}
			return nil
		}
	case cmd.HasSubCommands() && !cmd.Runnable():
		cmd.Args = cobra.ArbitraryArgs
		cmd.RunE = func(c *cobra.Command, a []string) error {
			if len(a) > 0 {
				return usageError{fmt.Errorf("unknown command %q for %q", a[0], c.CommandPath())}
			}
			return c.Help()
		}
	}
}

func (g *globals) logger() (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(g.logLevel)); err != nil {
		return nil, usageError{fmt.Errorf("--log-level %q: use debug, info, warn or error", g.logLevel)}
	}
	opts := &slog.HandlerOptions{Level: level}
	switch g.logFormat {
	case "json":
		return slog.New(slog.NewJSONHandler(os.Stderr, opts)), nil
	case "text":
		return slog.New(slog.NewTextHandler(os.Stderr, opts)), nil
	}
	return nil, usageError{fmt.Errorf("--log-format %q: use text or json", g.logFormat)}
}

// usageError is a mistake in the command line: exit status 2, wherever it
// is in the chain of wrapped errors.
type usageError struct{ error }

func (e usageError) Unwrap() error { return e.error }

// asUsage makes err a usage error, unless it is one already.
func asUsage(err error) error {
	if errors.As(err, new(usageError)) {
		return err
	}
	return usageError{err}
}

func exitCode(err error) int {
	if errors.As(err, new(usageError)) {
		return 2
	}
	return 1
}

func isTerminal(f *os.File) bool { return isatty.IsTerminal(f.Fd()) }
