package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/sesame/sesame/internal/account"
	"github.com/sesame/sesame/internal/auth/sigv4"
	"github.com/sesame/sesame/internal/store"
)

// smtpPasswordOut is `accounts smtp-password --output json`.
type smtpPasswordOut struct {
	AccessKeyId  string
	Region       string
	SmtpPassword string
}

// newSMTPPassword prints the SMTP password of an access key for a region:
// SES's derivation from the secret, so the SMTP user name is the key ID
// and the password works on a listener of that region only.
func newSMTPPassword(open func(context.Context) (store.Store, *account.Manager, error), output *string) *cobra.Command {
	var region string
	cmd := &cobra.Command{
		Use:   "smtp-password ACCESS_KEY_ID",
		Short: "Print the SMTP password of an access key for a region (the user name is the key ID)",
		Long: `Print the SMTP password of an active access key, derived from its secret as
SES derives it for email-smtp.REGION.amazonaws.com (HMAC-SHA256 chain ending in
"SendRawEmail", version 4): the password of the SMTP interface of sesame serve
with that --smtp-region. The user name is the access key ID.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !sigv4.ValidRegion(region) {
				return usageError{fmt.Errorf("--region %q: want a region such as us-east-1", region)}
			}
			st, m, err := open(cmd.Context())
			if err != nil {
				return err
			}
			defer st.Close()
			k, ok, err := m.Resolve(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if !ok {
				return fmt.Errorf("access key %q is unknown or revoked: see sesame accounts list", args[0])
			}
			pw := sigv4.SMTPPassword(k.Secret, region)
			if *output == "json" {
				return writeJSON(cmd.OutOrStdout(), smtpPasswordOut{AccessKeyId: args[0], Region: region, SmtpPassword: pw})
			}
			fmt.Fprintln(cmd.OutOrStdout(), pw)
			return nil
		},
	}
	cmd.Flags().StringVar(&region, "region", "us-east-1", "region of the SMTP interface (--smtp-region of sesame serve)")
	return cmd
}
