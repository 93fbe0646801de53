package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/sesame/sesame/internal/server"
	"github.com/sesame/sesame/internal/store"
)

func newOutbox(g *globals) *cobra.Command {
	var output, to, status string
	var limit int
	var sent bool
	cmd := &cobra.Command{
		Use:   "outbox",
		Short: "List verification emails and their links, newest first",
		Long: `List the verification emails Sesame stored, newest first, with their links
and delivery status: local (no --smtp-url, so kept here), queued (waiting for
the relay, with the last error), sent, or failed (the relay's answer). It
reads the data directory (or --database-url) directly, and works while the
server runs.

  sesame outbox --to user@example.com --output json
  sesame outbox --sent              # the mail sent through the API instead
  sesame outbox show MESSAGE_ID     # the whole message, as sent`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkOutput(output, "text", "json"); err != nil {
				return err
			}
			if limit < 1 {
				return usageError{fmt.Errorf("--limit %d: give at least 1", limit)}
			}
			switch s := store.MessageStatus(status); s {
			case "", store.Local, store.Queued, store.Sent, store.Failed:
			default:
				return usageError{fmt.Errorf("--status %q: use local, queued, sent or failed", status)}
			}
			return withStore(cmd.Context(), g, func(st store.Store) error {
				kind := store.Verification
				if sent {
					kind = store.SentMail
				}
				ms, err := st.ListMessages(cmd.Context(), store.MessageQuery{Kind: kind, To: to, Status: store.MessageStatus(status), Limit: limit})
				if err != nil {
					return err
				}
				return printOutbox(cmd.OutOrStdout(), ms, output)
			})
		},
	}
	fl := cmd.Flags()
	outputFlag(fl, &output, "text", "json")
	fl.StringVar(&to, "to", "", "only the messages to this address")
	fl.StringVar(&status, "status", "", "only the messages in this status: local, queued, sent or failed")
	fl.IntVar(&limit, "limit", 50, "at most this many messages (at least 1)")
	fl.BoolVar(&sent, "sent", false, "list the mail sent through the API (SendEmail and kin), not verification mail")

	show := &cobra.Command{
		Use:   "show MESSAGE_ID",
		Short: "Print one message as it was (or will be) sent",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withStore(cmd.Context(), g, func(st store.Store) error {
				m, err := st.GetMessage(cmd.Context(), args[0])
				if err != nil {
					return fmt.Errorf("message %q: %w", args[0], err)
				}
				_, err = cmd.OutOrStdout().Write(m.Raw)
				return err
			})
		},
	}
	cmd.AddCommand(show)
	return cmd
}

func withStore(ctx context.Context, g *globals, fn func(st store.Store) error) error {
	st, err := server.OpenStore(ctx, g.data, g.databaseURL)
	if err != nil {
		return err
	}
	defer st.Close()
	return fn(st)
}

// messageOut is a message as `sesame outbox --output json` prints it, one
// a line.
type messageOut struct {
	MessageId string
	Created   time.Time
	Status    store.MessageStatus
	AccountId string
	Region    string
	// From is the sender: the From address of verification mail, the
	// source of a sent message; MailFrom is the envelope sender it was
	// (or is to be) relayed with, SES's bounce address for sent mail.
	From      string
	MailFrom  string
	To        string
	Subject   string
	Link      string
	Attempts  int
	LastError string     `json:",omitempty"`
	Done      *time.Time `json:",omitempty"`
}

func printOutbox(w io.Writer, ms []*store.Message, output string) error {
	out := make([]messageOut, 0, len(ms))
	for _, m := range ms {
		o := messageOut{MessageId: m.ID, Created: m.Created, Status: m.Status, AccountId: m.Key.Account, Region: m.Key.Region,
			From: m.From, MailFrom: m.From, To: m.To, Subject: m.Subject, Link: m.Link, Attempts: m.Attempts, LastError: m.LastError}
		if m.Sent != nil {
			o.From = m.Sent.Source
		}
		if !m.Done.IsZero() {
			d := m.Done
			o.Done = &d
		}
		out = append(out, o)
	}
	if output == "json" {
		return writeJSONLines(w, out)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CREATED\tSTATUS\tTO\tREGION\tMESSAGE ID\tLINK")
	for _, m := range out {
		st := string(m.Status)
		if m.LastError != "" {
			st += " (" + m.LastError + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", m.Created.Format(time.RFC3339), st, m.To, m.Region, m.MessageId, m.Link)
	}
	return tw.Flush()
}
