package plan

import (
	"io"
	"strings"
	"text/tabwriter"
)

// writeTable writes the plan for people: every record set with its
// action, each value marked + (added), - (removed) or kept, who it is
// for, then the checks.
func (p *Plan) writeTable(w io.Writer, o WriteOptions) error {
	ew := &errWriter{w: w}
	ew.printf("%s in zone %s, read from %s\n", p.Domain, bare(p.Zone), p.Source)
	for _, in := range p.Instances {
		var has []string
		if in.Region != "" {
			has = append(has, in.Region)
		}
		if in.Token != "" {
			has = append(has, "a verification token")
		}
		if n := len(in.DKIMTokens); n > 0 {
			has = append(has, "3 DKIM tokens")
		}
		if in.MailFrom != "" {
			has = append(has, "MAIL FROM "+in.MailFrom)
		}
		ew.printf("  %s: %s\n", in.Label, strings.Join(has, ", "))
	}
	ew.printf("\n")
	tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
	tw.Write([]byte("ACTION\tNAME\tTYPE\tTTL\tVALUE\tFOR\n"))
	for _, s := range p.RRsets {
		for i, v := range s.Values {
			mark := "  "
			switch v.Change {
			case Add:
				mark = "+ "
			case Remove:
				mark = "- "
			}
			who := v.Owner
			if who == "" {
				who = "-"
			}
			if v.Note != "" {
				who += " (" + v.Note + ")"
			}
			if i == 0 {
				tw.Write([]byte(string(s.Action) + "\t" + o.name(s.Name) + "\t" + s.Type + "\t" + itoa(s.TTL) + "\t" + mark + o.data(s, v.Data) + "\t" + who + "\n"))
			} else {
				tw.Write([]byte("\t\t\t\t" + mark + o.data(s, v.Data) + "\t" + who + "\n"))
			}
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	ew.printf("\n%s\n", p.summary())
	if len(p.Problems) > 0 {
		ew.printf("\nchecks:\n")
		tw = tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
		for _, pr := range p.Problems {
			tw.Write([]byte("  " + pr.Severity.String() + "\t" + string(pr.Code) + "\t" + pr.Message + "\n"))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	return ew.err
}
