package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// envAnnotation marks a flag that an environment variable may set.
const envAnnotation = "sesame-env"

// serveEnv are the flags of `sesame serve` that have an environment
// variable, besides the global ones: every row of the README's Flags table
// (TestServeEnvMatchesREADME holds the two together). A flag added to serve
// is added here and to that table, in name order.
var serveEnv = []string{
	"account-burst",
	"account-rate",
	"allow-local-outbox",
	"body-memory-mib",
	"dkim-domain",
	"dkim-rotation",
	"dkim-rotation-grace",
	"dns-listen",
	"dns-ns",
	"dns-port",
	"dns-rate-limit",
	"dns-soa-mbox",
	"dns-ttl",
	"key-file",
	"link-validity",
	"listen",
	"mail-from-mx",
	"mail-sender",
	"max-account-identities",
	"max-account-templates",
	"max-connections",
	"max-connections-per-ip",
	"public-url",
	"recheck-interval",
	"regions",
	"relay-concurrency",
	"resolver",
	"revocation-grace",
	"smtp-ca-file",
	"smtp-listen",
	"smtp-region",
	"smtp-tls-cert",
	"smtp-tls-key",
	"smtp-url",
	"smtps-listen",
	"spf-include",
	"value-prefix",
	"verification-prefix",
	"verification-window",
	"verify",
	"verify-concurrency",
}

// withEnv lets SESAME_<FLAG> set each named flag of fl when the command
// line does not. Only the flags named so have a variable: an environment
// meant for the server (SESAME_DNS_PORT) must not change what `sesame
// doctor` asks, nor SESAME_APPLY make `sesame plan` write a zone.
func withEnv(fl *pflag.FlagSet, names ...string) {
	for _, n := range names {
		if err := fl.SetAnnotation(n, envAnnotation, []string{envName(n)}); err != nil {
			panic(err) // a name that is not a flag of fl: a mistake in this file
		}
	}
}

// applyEnv sets the flags of cmd that have a variable, and are not given on
// the command line, from the environment.
func applyEnv(cmd *cobra.Command) error {
	var err error
	set := func(f *pflag.Flag) {
		if err != nil || f.Changed || f.Annotations[envAnnotation] == nil {
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

// envFlags returns the names of cmd's flags that have a variable, sorted.
func envFlags(cmd *cobra.Command) []string {
	var out []string
	add := func(f *pflag.Flag) {
		if f.Annotations[envAnnotation] != nil {
			out = append(out, f.Name)
		}
	}
	cmd.Flags().VisitAll(add)
	cmd.InheritedFlags().VisitAll(add)
	return out
}
