package main

import (
	"errors"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/sesame/sesame/internal/account"
	"github.com/sesame/sesame/internal/config"
	"github.com/sesame/sesame/internal/store"
)

// sendingOut is one region of `sesame accounts sending --output json`.
type sendingOut struct {
	AccountId               string
	Region                  string
	ProductionAccessEnabled bool
	SendingEnabled          bool
	Max24HourSend           float64
	MaxSendRate             float64
}

// newSending is `sesame accounts sending`: what SES's support case and
// quota increase requests do, for an operator. It works while the server
// runs, since each send reads the state from the store.
func newSending(open func(cmd *cobra.Command) (store.Store, error), output *string) *cobra.Command {
	var regions []string
	var production, sandbox, pause, resume bool
	var max24, rate float64
	cmd := &cobra.Command{
		Use:   "sending ACCOUNT",
		Short: "Show or change an account's sending: sandbox or production, paused, quotas",
		Long: `Show an account's sending state (by ID or name), per region, or change it.
Every account starts in the sandbox in each region, as in SES: it may send
only to verified addresses and domains (and SES's mailbox simulator), at
most 200 recipients a day and 1 a second. --production lifts the sandbox
(quotas of 50,000 a day and 14 a second unless set); --sandbox puts it back.
--max-24-hour-send and --max-send-rate set the quotas (-1: unlimited,
0: the default of the sandbox or production). Without --region, every SES
region is changed.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if production && sandbox {
				return usageError{errors.New("--production and --sandbox contradict each other: give one")}
			}
			if pause && resume {
				return usageError{errors.New("--pause and --resume contradict each other: give one")}
			}
			st, err := open(cmd)
			if err != nil {
				return err
			}
			defer st.Close()
			ctx := cmd.Context()
			a, err := st.GetAccount(ctx, args[0])
			if err != nil {
				return fmt.Errorf("account %q: %w", args[0], err)
			}
			rs := regions
			if len(rs) == 0 {
				rs = config.SESRegions
			}
			f := cmd.Flags()
			change := f.Changed("production") || f.Changed("sandbox") || f.Changed("pause") || f.Changed("resume") ||
				f.Changed("max-24-hour-send") || f.Changed("max-send-rate")
			var out []sendingOut
			for _, r := range rs {
				s, err := st.GetSendingState(ctx, a.ID, r)
				if change {
					s, err = st.UpdateSendingState(ctx, a.ID, r, func(s *store.SendingState) error {
						switch {
						case production:
							s.Production = true
						case sandbox:
							s.Production = false
						}
						switch {
						case pause:
							s.Paused = true
						case resume:
							s.Paused = false
						}
						if f.Changed("max-24-hour-send") {
							s.Max24HourSend = max24
						}
						if f.Changed("max-send-rate") {
							s.MaxSendRate = rate
						}
						return nil
					})
				}
				if err != nil {
					return err
				}
				q := account.QuotaOf(s)
				out = append(out, sendingOut{a.ID, r, s.Production, !s.Paused, q.Max24HourSend, q.MaxSendRate})
			}
			return printSending(cmd.OutOrStdout(), out, *output)
		},
	}
	f := cmd.Flags()
	f.StringSliceVar(&regions, "region", nil, "region to show or change (repeatable; default every SES region)")
	f.BoolVar(&production, "production", false, "lift the sandbox: send to any recipient")
	f.BoolVar(&sandbox, "sandbox", false, "put the account back in the sandbox")
	f.BoolVar(&pause, "pause", false, "pause sending (as UpdateAccountSendingEnabled false)")
	f.BoolVar(&resume, "resume", false, "resume sending")
	f.Float64Var(&max24, "max-24-hour-send", 0, "recipients per rolling 24 hours (-1 unlimited, 0 default)")
	f.Float64Var(&rate, "max-send-rate", 0, "recipients per second (-1 unlimited, 0 default)")
	return cmd
}

func printSending(w io.Writer, out []sendingOut, output string) error {
	if output == "json" {
		return writeJSONLines(w, out)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "REGION\tSANDBOX\tSENDING\tMAX 24 HOURS\tMAX RATE")
	for _, s := range out {
		sending := "enabled"
		if !s.SendingEnabled {
			sending = "paused"
		}
		fmt.Fprintf(tw, "%s\t%v\t%s\t%g\t%g\n", s.Region, !s.ProductionAccessEnabled, sending, s.Max24HourSend, s.MaxSendRate)
	}
	return tw.Flush()
}
