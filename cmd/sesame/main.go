// Command sesame is a self-hosted email identity service that speaks the
// Amazon SES API: `sesame serve` runs it, `sesame accounts` manages its
// tenants.
package main

import (
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

func main() {
	if err := newRoot().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "sesame:", err)
		os.Exit(exitCode(err))
	}
}

// globals are the flags every subcommand has.
type globals struct {
	data      string
	logFormat string
	logLevel  string
}

func newRoot() *cobra.Command {
	g := &globals{}
	root := &cobra.Command{
		Use:   "sesame",
		Short: "Sesame: sender identities as Amazon SES does them, on your own machines",
		Long: `Sesame registers email addresses and domains through the Amazon SES API
(v1 Query and v2 REST, SigV4-signed), tells you the DNS records to publish,
and verifies them.

Every flag can also be set with an environment variable: SESAME_ and the
flag's name in upper case with dashes as underscores (--listen: SESAME_LISTEN).`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			return applyEnv(cmd)
		},
	}
	root.PersistentFlags().StringVar(&g.data, "data", "./sesame-data", "data directory: the SQLite database and the key that seals secret keys")
	root.PersistentFlags().StringVar(&g.logFormat, "log-format", "text", "log format: text or json")
	root.PersistentFlags().StringVar(&g.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	root.AddCommand(newServe(g), newAccounts(g), newIdentities(g))
	root.AddCommand(newDoctor(g))
	root.AddCommand(newOutbox(g))
	root.AddCommand(newPlan(g))
	return root
}

// applyEnv sets every flag not given on the command line from its
// SESAME_* environment variable.
func applyEnv(cmd *cobra.Command) error {
	var err error
	set := func(f *pflag.Flag) {
		if err != nil || f.Changed {
			return
		}
		name := envName(f.Name)
		if v, ok := os.LookupEnv(name); ok {
			if e := f.Value.Set(v); e != nil {
				err = usageError{fmt.Errorf("%s=%q: %v", name, v, e)}
			}
		}
	}
	cmd.Flags().VisitAll(set)
	cmd.InheritedFlags().VisitAll(set)
	return err
}

func envName(flag string) string {
	return "SESAME_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
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

// usageError is a mistake in the command line: exit status 2.
type usageError struct{ error }

func exitCode(err error) int {
	if _, ok := err.(usageError); ok {
		return 2
	}
	return 1
}

func isTerminal(f *os.File) bool { return isatty.IsTerminal(f.Fd()) }
