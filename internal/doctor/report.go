package doctor

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// Schema identifies the JSON form of a Report (docs/doctor.md). It
// changes only when a field changes meaning or goes away; fields may be
// added.
const Schema = "sesame-doctor/1"

// Report is the diagnosis of one identity.
type Report struct {
	Schema    string       `json:"schema"`
	Name      string       `json:"name"`   // the identity, canonical
	Kind      string       `json:"kind"`   // "domain" or "email"
	Domain    string       `json:"domain"` // the domain checked
	Status    Severity     `json:"status"` // the most severe finding
	Counts    Counts       `json:"counts"`
	Instances []Instance   `json:"instances"`
	Zones     []ZoneReport `json:"zones"`
	Findings  []Finding    `json:"findings"`
}

// Counts counts findings by severity.
type Counts struct {
	Error   int `json:"error"`
	Warning int `json:"warning"`
	Info    int `json:"info"`
	OK      int `json:"ok"`
}

func (c *Counts) add(s Severity) {
	switch s {
	case SeverityError:
		c.Error++
	case SeverityWarning:
		c.Warning++
	case SeverityInfo:
		c.Info++
	default:
		c.OK++
	}
}

// ZoneReport is a zone whose servers were asked: the domain's, and any
// other a record lives in.
type ZoneReport struct {
	Apex     string         `json:"apex"`
	NS       []string       `json:"ns"`
	Servers  []ServerReport `json:"servers"`
	Evidence []string       `json:"evidence,omitempty"` // how the resolver found them
}

// ServerReport is one address of one name server and its SOA answer.
type ServerReport struct {
	Name    string  `json:"name"`
	Address string  `json:"address"`
	Outcome string  `json:"outcome,omitempty"` // of the SOA query: Answer, Timeout, ServFail, Refused, Lame...
	Serial  *uint32 `json:"serial,omitempty"`
}

// Finding is one thing the doctor found.
type Finding struct {
	Code     Code     `json:"code"`
	Severity Severity `json:"severity"`
	// Instance is the label of the instance the finding is about; "" for
	// the domain as a whole.
	Instance    string   `json:"instance,omitempty"`
	Summary     string   `json:"summary"`
	Records     []Record `json:"records,omitempty"`
	Servers     []string `json:"servers,omitempty"` // "host. address" of each server it was seen on
	Explanation string   `json:"explanation"`
	Fix         string   `json:"fix,omitempty"`
	// Evidence is the queries, as dig commands, each followed by the
	// reply, on each server.
	Evidence []string `json:"evidence,omitempty"`
}

// Record is a record a finding is about: what should be there and what is.
type Record struct {
	Name     string   `json:"name"`
	Type     string   `json:"type"`
	Expected string   `json:"expected,omitempty"`
	Found    []string `json:"found,omitempty"`
}

// WriteJSON writes r as one line of JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	return json.NewEncoder(w).Encode(r)
}

// TextOptions control WriteText.
type TextOptions struct {
	// Color adds ANSI colours, for terminals.
	Color bool
	// Verbose shows the evidence of every finding, and how the zones were
	// found; otherwise only warnings and errors show theirs.
	Verbose bool
}

var colors = map[Severity]string{
	SeverityError:   "\x1b[1;31m",
	SeverityWarning: "\x1b[33m",
	SeverityInfo:    "\x1b[36m",
	SeverityOK:      "\x1b[32m",
}

// WriteText writes r for a person: a header, the servers asked, then each
// finding with its explanation, fix and evidence.
func (r *Report) WriteText(w io.Writer, o TextOptions) error {
	p := &printer{w: w}
	paint := func(s Severity, text string) string {
		if !o.Color {
			return text
		}
		return colors[s] + text + "\x1b[0m"
	}
	p.printf("%s: %s (%s)\n", r.Name, paint(r.Status, strings.ToUpper(r.Status.String())), countsText(r.Counts))
	if r.Kind == "email" {
		p.printf("  email address; domain %s\n", r.Domain)
	}
	for _, in := range r.Instances {
		p.printf("  expected by %s\n", instanceText(in))
	}
	for _, z := range r.Zones {
		p.printf("  zone %s, name servers %s\n", z.Apex, strings.Join(z.NS, " "))
		for _, s := range z.Servers {
			serial := ""
			if s.Serial != nil {
				serial = fmt.Sprintf(" serial %d", *s.Serial)
			}
			p.printf("    %s %s: %s%s\n", s.Name, s.Address, cmp.Or(s.Outcome, "not asked"), serial)
		}
		if o.Verbose {
			p.lines("    ", z.Evidence)
		}
	}
	for _, f := range r.Findings {
		p.printf("\n%s %s", paint(f.Severity, fmt.Sprintf("%-7s", f.Severity)), f.Code)
		if f.Instance != "" {
			p.printf(" [%s]", f.Instance)
		}
		p.printf("\n  %s\n", f.Summary)
		for _, rec := range f.Records {
			p.printf("    %s %s", rec.Name, rec.Type)
			if rec.Expected != "" {
				p.printf("  want %q", rec.Expected)
			}
			if len(rec.Found) > 0 {
				p.printf("  found %s", quoteAll(rec.Found))
			}
			p.printf("\n")
		}
		if len(f.Servers) > 0 {
			p.printf("  on %s\n", strings.Join(f.Servers, ", "))
		}
		if f.Severity == SeverityOK && !o.Verbose {
			continue
		}
		p.printf("  why: %s\n", f.Explanation)
		if f.Fix != "" {
			p.printf("  fix: %s\n", f.Fix)
		}
		if len(f.Evidence) > 0 && (o.Verbose || f.Severity >= SeverityWarning) {
			p.printf("  evidence:\n")
			p.lines("    ", f.Evidence)
		}
	}
	return p.err
}

func countsText(c Counts) string {
	return fmt.Sprintf("%d error(s), %d warning(s), %d info, %d ok", c.Error, c.Warning, c.Info, c.OK)
}

func instanceText(in Instance) string {
	var parts []string
	if in.Region != "" {
		parts = append(parts, "region "+in.Region)
	}
	if in.Missing {
		parts = append(parts, "no such identity")
	}
	if in.Token != "" {
		parts = append(parts, "token "+in.Token)
	}
	if len(in.DKIMTokens) > 0 {
		parts = append(parts, "DKIM "+strings.Join(in.DKIMTokens, " "))
	}
	if in.DKIMSelector != "" {
		parts = append(parts, "BYODKIM selector "+in.DKIMSelector)
	}
	if in.MailFrom != "" {
		parts = append(parts, "MAIL FROM "+in.MailFrom)
	}
	return in.Label + ": " + strings.Join(parts, ", ")
}

func quoteAll(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, " ")
}

// printer keeps the first write error, so that rendering code need not
// check each one.
type printer struct {
	w   io.Writer
	err error
}

func (p *printer) printf(format string, args ...any) {
	if p.err == nil {
		_, p.err = fmt.Fprintf(p.w, format, args...)
	}
}

func (p *printer) lines(indent string, ls []string) {
	for _, l := range ls {
		p.printf("%s%s\n", indent, l)
	}
}
