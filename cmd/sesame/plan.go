package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/miekg/dns"
	"github.com/spf13/cobra"

	"github.com/sesame/sesame/internal/doctor"
	"github.com/sesame/sesame/internal/names"
	"github.com/sesame/sesame/internal/plan"
)

type planFlags struct {
	output string
	fqdn   bool

	// Instances: read from SES endpoints, as the doctor does, or by hand.
	profile   string
	region    string
	endpoint  string
	instances []string
	from      string

	singleValue bool
	dmarcPolicy string
	dmarcRUA    string
	ttl         uint32
	prune       bool

	apply       string
	applyUnread bool
	tsig        string
	dryRun      bool
	wait        time.Duration

	dnsFlags
}

func newPlan(g *globals) *cobra.Command {
	f := &planFlags{dnsFlags: newDNSFlags()}
	cmd := &cobra.Command{
		Use:   "plan DOMAIN",
		Short: "Print, and optionally apply, the one DNS record set of a domain shared by several SES accounts and regions",
		Long: `Compute the records a domain shared by several SES instances (accounts and
regions) needs: one _amazonses TXT record with a value per instance, three
DKIM CNAMEs per instance, one DMARC record, and for each MAIL FROM domain one
MX and one SPF record. Read what the zone's authoritative servers publish
now and show what to add, change and keep. Values the plan does not own are
kept.

Instances come from SES endpoints (--instance PROFILE@REGION or
ENDPOINT@REGION, repeated; --profile, --endpoint-url, --region for one) or
from a file (--from FILE, "-" for standard input), one a line:
  instance ops region=us-east-1 token=... dkim=a,b,c mail-from=mail-us-east-1.example.com

Instances in different regions need different MAIL FROM domains: a MAIL
FROM domain's one MX points at one region.

With --apply rfc2136://HOST:PORT?zone=ZONE the changes go to that server as
one dynamic update (signed with --tsig NAME:ALGORITHM:SECRET, or
SESAME_TSIG), then every server is read back. --prune removes values of no
current instance, found with a zone transfer from that server.

A zone that cannot be read (not delegated yet, servers that do not answer,
no network) is a warning: the plan adds every record, and --apply sends it
only with --apply-unread.

Exit status: 0 when the plan has no error (and, with --apply, was applied
and is served), 1 when it has one, the update failed, or the zone could not
be read and --apply was given without --apply-unread; 2 for a usage error or
when nothing could be planned (an endpoint that refuses).`,
		Example: `  sesame plan example.com --instance ops@us-east-1 --instance marketing@eu-west-1
  sesame plan example.com --endpoint-url http://127.0.0.1:8080 --instance ops@us-east-1 --instance ops@eu-west-1 -o bind
  sesame plan example.com --from instances.txt -o route53 > batch.json
  sesame plan example.com --from instances.txt --apply 'rfc2136://ns1.example.com?zone=example.com' --dry-run
  SESAME_TSIG=sesame.:hmac-sha256:c2VjcmV0 sesame plan example.com --from instances.txt --apply rfc2136://192.0.2.1:53 --prune`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageError{errors.New("give one DOMAIN")}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runPlan(cmd.Context(), f, args[0], cmd.InOrStdin(), cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	fl := cmd.Flags()
	outputFlag(fl, &f.output, planFormats()...)
	fl.BoolVar(&f.fqdn, "fqdn", false, "end every name with a dot, for DNS providers that append the domain to names without one")
	fl.StringVar(&f.profile, "profile", "", "AWS profile to read instances with")
	fl.StringVar(&f.region, "region", "", "SES region, for one instance read with --profile or --endpoint-url")
	fl.StringVar(&f.endpoint, "endpoint-url", "", "SES-compatible endpoint to read instances from, such as a Sesame")
	fl.StringArrayVar(&f.instances, "instance", nil, "an SES instance sharing the domain: PROFILE@REGION or ENDPOINT@REGION (repeatable)")
	fl.StringVar(&f.from, "from", "", `read instances from FILE ("-": standard input), one a line: instance LABEL region=R token=T dkim=A,B,C mail-from=M`)
	fl.BoolVar(&f.singleValue, "single-value-txt", false, "the DNS provider holds one value per TXT name: put a second token on the domain itself")
	fl.StringVar(&f.dmarcPolicy, "dmarc-policy", "none", "policy of the DMARC record added when the domain has none: none, quarantine or reject")
	fl.StringVar(&f.dmarcRUA, "dmarc-rua", "", "where that DMARC record asks for aggregate reports, such as mailto:dmarc@example.com")
	fl.Uint32Var(&f.ttl, "ttl", plan.DefaultTTL, "TTL of the record sets the plan creates; those that exist keep theirs")
	fl.BoolVar(&f.prune, "prune", false, "remove values of no current instance: old tokens, DKIM CNAMEs, MAIL FROM MX of unused regions")
	fl.StringVar(&f.apply, "apply", "", "apply the changes with an RFC 2136 update: rfc2136://HOST[:PORT][?zone=ZONE]")
	fl.StringVar(&f.tsig, "tsig", "", "TSIG key of the update and zone transfer: NAME:ALGORITHM:SECRET (better in SESAME_TSIG)")
	fl.BoolVar(&f.applyUnread, "apply-unread", false, "with --apply, send the update even when the zone could not be read: every record is an addition, refused by the server where the record set exists")
	fl.BoolVar(&f.dryRun, "dry-run", false, "with --apply, show the update instead of sending it")
	fl.DurationVar(&f.wait, "wait", 30*time.Second, "after --apply, how long to wait for every server to serve the update")
	f.dnsFlags.add(fl)
	// A secret is better kept off the command line, which other users of
	// the machine can read; no other flag of plan has a variable.
	withEnv(fl, "tsig")
	return cmd
}

func runPlan(ctx context.Context, f *planFlags, name string, stdin io.Reader, stdout, stderr io.Writer) error {
	domain, err := names.Domain(name)
	if err != nil {
		return usageError{err}
	}
	target, key, err := f.validate()
	if err != nil {
		return usageError{err}
	}
	instances, err := f.readInstances(ctx, domain, stdin)
	if err != nil {
		return usageError{err}
	}
	cl := f.client(0)
	pl := &plan.Planner{Client: cl, Primary: target}
	if f.prune && target != nil {
		pl.List = plan.ListAXFR(target, key)
	}
	dmarcRec := "v=DMARC1; p=" + f.dmarcPolicy
	if f.dmarcRUA != "" {
		dmarcRec += "; rua=" + f.dmarcRUA
	}
	p, err := pl.Plan(ctx, plan.Options{
		Domain: domain, Instances: instances, Records: f.dns, TTL: f.ttl, DMARC: dmarcRec,
		SingleValueTXT: f.singleValue, Prune: f.prune,
	})
	if err != nil {
		return usageError{err} // exit status 2: nothing could be planned
	}
	if err := writePlan(stdout, p, f); err != nil {
		return err
	}
	why, unread := p.Unread()
	if unread && f.output != string(plan.Table) { // a table lists it among its checks
		fmt.Fprintf(stderr, "sesame: warning: %s\n", why)
	}
	if errs := p.Errors(); len(errs) > 0 {
		what := "the plan has"
		if target != nil {
			what = "not applied: the plan has"
		}
		return fmt.Errorf("%s %d error(s), the first: %s", what, len(errs), errs[0].Message)
	}
	if target == nil {
		return nil
	}
	if unread && !f.applyUnread {
		return errors.New("not applied: the zone could not be read, so the plan adds every record; check what it holds, then give --apply-unread to send the additions (the server refuses those whose record set exists)")
	}
	// The update's report goes with a table; machine formats keep
	// standard output to themselves.
	report := stdout
	if f.output != string(plan.Table) {
		report = stderr
	}
	return applyPlan(ctx, pl, p, target, key, f, report)
}

func applyPlan(ctx context.Context, pl *plan.Planner, p *plan.Plan, target *plan.Target, key *plan.TSIG, f *planFlags, w io.Writer) error {
	zone := target.Zone
	if zone == "" {
		zone = p.Zone
	}
	for _, s := range p.RRsets {
		if !dns.IsSubDomain(zone, s.Name) {
			return usageError{fmt.Errorf("--apply zone %s does not hold %s", zone, s.Name)}
		}
	}
	m := p.Update(zone)
	switch {
	case m == nil && f.dryRun:
		fmt.Fprintf(w, "\nnothing to change: %s already serves the plan\n", target.Addr())
		return nil
	case m == nil:
		fmt.Fprintf(w, "\nnothing to change: %s already serves the plan\n", target.Addr())
	case f.dryRun:
		fmt.Fprintf(w, "\nthe update (--dry-run: not sent):\n%s", plan.UpdateText(m, target, key))
		return nil
	default:
		if err := plan.Apply(ctx, target, key, m); err != nil {
			return err
		}
		fmt.Fprintf(w, "\napplied: %d record set(s) changed at %s\n", len(p.Changed()), target.Addr())
	}
	states, err := pl.ReadBack(ctx, p, f.wait)
	if err != nil {
		return err
	}
	if err := plan.WriteReadBack(w, states, plan.WriteOptions{FQDN: f.fqdn}); err != nil {
		return err
	}
	for _, st := range states {
		if len(st.Differ) > 0 {
			return fmt.Errorf("%s does not serve the plan after %v", st.Server, f.wait)
		}
	}
	return nil
}

// planFormats are the formats of --output, table first.
func planFormats() []string {
	var out []string
	for _, f := range plan.Formats {
		out = append(out, string(f))
	}
	return out
}

// writePlan writes the plan in its format; JSON as every command's is, on
// one line.
func writePlan(w io.Writer, p *plan.Plan, f *planFlags) error {
	wo := plan.WriteOptions{FQDN: f.fqdn}
	if plan.Format(f.output) != plan.JSON {
		return p.Write(w, plan.Format(f.output), wo)
	}
	c := &compactJSON{w: w}
	if err := p.Write(c, plan.JSON, wo); err != nil {
		return err
	}
	return c.Close()
}

// validate checks the flags and parses --apply and --tsig.
func (f *planFlags) validate() (*plan.Target, *plan.TSIG, error) {
	if err := checkOutput(f.output, planFormats()...); err != nil {
		return nil, nil, err
	}
	if err := f.dnsFlags.validate(); err != nil {
		return nil, nil, err
	}
	switch {
	case f.ttl == 0:
		return nil, nil, errors.New("--ttl must be positive")
	case !slices.Contains([]string{"none", "quarantine", "reject"}, f.dmarcPolicy):
		return nil, nil, fmt.Errorf("--dmarc-policy %q: use none, quarantine or reject", f.dmarcPolicy)
	case f.dmarcRUA != "" && (!strings.HasPrefix(f.dmarcRUA, "mailto:") || strings.ContainsAny(f.dmarcRUA, "; \"")):
		return nil, nil, fmt.Errorf("--dmarc-rua %q: want mailto:ADDRESS", f.dmarcRUA)
	case f.apply == "" && f.dryRun:
		return nil, nil, errors.New("--dry-run goes with --apply")
	case f.apply == "" && f.applyUnread:
		return nil, nil, errors.New("--apply-unread goes with --apply")
	}
	if f.apply == "" {
		return nil, nil, nil
	}
	target, err := plan.ParseTarget(f.apply)
	if err != nil {
		return nil, nil, fmt.Errorf("--apply: %w", err)
	}
	var key *plan.TSIG
	if f.tsig != "" {
		if key, err = plan.ParseTSIG(f.tsig); err != nil {
			return nil, nil, fmt.Errorf("--tsig: %w", err)
		}
	}
	return target, key, nil
}

// readInstances reads the instances from SES endpoints, as the doctor
// does, and from --from.
func (f *planFlags) readInstances(ctx context.Context, domain string, stdin io.Reader) ([]doctor.Instance, error) {
	var out []doctor.Instance
	if len(f.instances) > 0 || f.profile != "" || f.endpoint != "" {
		df := &doctorFlags{profile: f.profile, region: f.region, endpoint: f.endpoint, instances: f.instances}
		expect, err := df.expectations(ctx, []string{domain})
		if err != nil {
			return nil, err
		}
		out = expect(domain)
	}
	if f.from != "" {
		r := stdin
		if f.from != "-" {
			file, err := os.Open(f.from)
			if err != nil {
				return nil, fmt.Errorf("--from: %w", err)
			}
			defer file.Close()
			r = file
		}
		more, err := plan.ParseInstances(r)
		if err != nil {
			return nil, fmt.Errorf("--from %s: %w", f.from, err)
		}
		out = append(out, more...)
	}
	if len(out) == 0 {
		return nil, errors.New("no instances: give --instance PROFILE@REGION or ENDPOINT@REGION (repeatable), --profile or --endpoint-url with --region, or --from FILE")
	}
	return out, nil
}
