package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/sesame/sesame/internal/dnsclient"
	"github.com/sesame/sesame/internal/doctor"
	"github.com/sesame/sesame/internal/names"
	"github.com/sesame/sesame/internal/redact"
)

type doctorFlags struct {
	output  string
	file    string
	verbose bool
	jobs    int

	// Expected values read from SES endpoints.
	ses       bool
	profile   string
	region    string
	endpoint  string
	instances []string

	// Expected values given on the command line.
	token      string
	dkimTokens []string
	mailFrom   string

	dnsFlags
}

func newDoctor(g *globals) *cobra.Command {
	f := &doctorFlags{dnsFlags: newDNSFlags()}
	cmd := &cobra.Command{
		Use:   "doctor [NAME]",
		Short: "Check the DNS records of a domain or an email address, as SES's troubleshooting guide does",
		Long: `Find the authoritative name servers of NAME (a domain or an email address),
ask each of them directly, and report what is wrong with the records SES
needs, with the fix and the dig commands that show it.

Expected values come from one of:
  SES endpoints   --profile, --region, --endpoint-url (or --ses for the default
                  credential chain); --instance PROFILE@REGION or
                  ENDPOINT@REGION, repeated, for a domain shared by several
                  accounts or regions
  flags           --token, --dkim-token (three times), --mail-from, --region
  nothing         generic checks only

With -f FILE (one name a line, "-" for standard input), names are checked
concurrently. --output json writes one JSON object a line: one report for
NAME, one a name with -f.

Exit status: 0 when no finding is an error, 1 when one is, 2 for a usage
error or when a name could not be checked at all.`,
		Example: `  sesame doctor example.com --profile prod --region eu-west-1
  sesame doctor example.com --endpoint-url http://127.0.0.1:8080 --region us-east-1
  sesame doctor example.com --instance ops@us-east-1 --instance marketing@eu-west-1
  sesame doctor example.com --token pmBGN/7Mjnf...= --dkim-token a --dkim-token b --dkim-token c
  sesame doctor user@example.com
  sesame doctor -f domains.txt --output json`,
		Args: func(cmd *cobra.Command, args []string) error {
			switch {
			case f.file != "" && len(args) > 0:
				return usageError{errors.New("give a NAME or -f FILE, not both")}
			case f.file == "" && len(args) != 1:
				return usageError{errors.New("give one NAME (a domain or an email address), or -f FILE")}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDoctor(cmd.Context(), f, args, cmd.InOrStdin(), cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	fl := cmd.Flags()
	outputFlag(fl, &f.output, "text", "json")
	fl.StringVarP(&f.file, "file", "f", "", `check the names in FILE, one a line ("-": standard input)`)
	fl.BoolVarP(&f.verbose, "verbose", "v", false, "show the evidence of every finding and how the zones were found")
	fl.IntVarP(&f.jobs, "jobs", "j", doctor.DefaultConcurrency, "with -f, how many names to check at once")
	fl.BoolVar(&f.ses, "ses", false, "read expected values from SES with the default credential chain and region")
	fl.StringVar(&f.profile, "profile", "", "AWS profile to read expected values with")
	fl.StringVar(&f.region, "region", "", "SES region; with --mail-from, the region of the MAIL FROM MX")
	fl.StringVar(&f.endpoint, "endpoint-url", "", "SES-compatible endpoint to read expected values from, such as a Sesame")
	fl.StringArrayVar(&f.instances, "instance", nil, "an SES instance sharing the domain: PROFILE@REGION or ENDPOINT@REGION (repeatable)")
	fl.StringVar(&f.token, "token", "", "expected domain verification token")
	fl.StringArrayVar(&f.dkimTokens, "dkim-token", nil, "expected Easy DKIM token (give three)")
	fl.StringVar(&f.mailFrom, "mail-from", "", "expected custom MAIL FROM domain")
	f.dnsFlags.add(fl)
	return cmd
}

func runDoctor(ctx context.Context, f *doctorFlags, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if err := f.validate(); err != nil {
		return err
	}
	list := args
	if f.file != "" {
		var err error
		if list, err = readNames(f.file, stdin); err != nil {
			return usageError{err}
		}
	}
	inputs, bad := make([]doctor.Input, len(list)), make([]error, len(list))
	var canon []string
	for i, n := range list {
		_, c, err := names.Identity(n)
		if err != nil {
			if f.file == "" {
				return usageError{err}
			}
			bad[i] = err
			continue
		}
		inputs[i].Name = c
		canon = append(canon, c)
	}
	expect, err := f.expectations(ctx, canon)
	if err != nil {
		return usageError{err} // exit status 2: nothing could be checked
	}
	for i := range inputs {
		if bad[i] == nil {
			inputs[i].Expect = expect(inputs[i].Name)
		}
	}
	d := &doctor.Doctor{
		Client:  f.client(f.budget()),
		Records: f.dns,
	}
	out := &reportWriter{f: f, w: stdout, color: f.output == "text" && colorful(stdout)}
	if f.file == "" {
		rep, err := d.Diagnose(ctx, inputs[0])
		if err != nil {
			return usageError{err}
		}
		if err := out.write(rep, nil); err != nil {
			return err
		}
		if rep.Counts.Error > 0 {
			return fmt.Errorf("%s: %d error(s) found", rep.Name, rep.Counts.Error)
		}
		return nil
	}

	bar := newProgress(stderr, len(inputs))
	todo, at := make([]doctor.Input, 0, len(inputs)), make([]int, 0, len(inputs))
	for i, in := range inputs {
		if bad[i] == nil {
			todo = append(todo, in)
			at = append(at, i)
		}
	}
	var failed, withErrors int
	var werr error
	next := 0 // the next input to write, so that output keeps input order
	flushBad := func(upto int) {
		for ; next < upto; next++ {
			if bad[next] != nil {
				failed++
				werr = cmpErr(werr, out.write(nil, &nameError{Name: list[next], Err: bad[next].Error()}))
				bar.add()
			}
		}
	}
	d.Batch(ctx, todo, f.jobs, func(i int, rep *doctor.Report, err error) {
		flushBad(at[i])
		next = at[i] + 1
		bar.clear()
		if err != nil {
			failed++
			werr = cmpErr(werr, out.write(nil, &nameError{Name: todo[i].Name, Err: err.Error()}))
			return
		}
		if rep.Counts.Error > 0 {
			withErrors++
		}
		werr = cmpErr(werr, out.write(rep, nil))
	}, bar.add)
	flushBad(len(list))
	bar.finish()
	if werr != nil {
		return werr
	}
	if f.output == "text" {
		fmt.Fprintf(stdout, "\n%d name(s): %d with errors, %d not checked\n", len(list), withErrors, failed)
	}
	switch {
	case failed > 0:
		return usageError{fmt.Errorf("%d of %d name(s) could not be checked", failed, len(list))}
	case withErrors > 0:
		return fmt.Errorf("%d of %d name(s) have errors", withErrors, len(list))
	}
	return nil
}

// questionsPerServer is about how many questions a diagnosis asks each
// server of a zone.
const questionsPerServer = 12

// budget bounds one DNS lookup. A batch whose names share a name server
// queues up to jobs×12 questions behind its rate limit; the budget leaves
// room for that wait, which would otherwise show as a server timing out.
func (f *doctorFlags) budget() time.Duration {
	jobs := 1
	if f.file != "" {
		jobs = max(f.jobs, 1)
	}
	wait := float64(jobs*questionsPerServer) / f.rateLimit
	return dnsclient.DefaultBudget + time.Duration(wait*float64(time.Second))
}

func cmpErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

func (f *doctorFlags) validate() error {
	if err := checkOutput(f.output, "text", "json"); err != nil {
		return err
	}
	if err := f.dnsFlags.validate(); err != nil {
		return usageError{err}
	}
	fromSES := f.ses || f.profile != "" || f.endpoint != "" || len(f.instances) > 0
	fromFlags := f.token != "" || len(f.dkimTokens) > 0 || f.mailFrom != ""
	switch {
	case fromSES && fromFlags:
		return usageError{errors.New("give expected values either from SES (--ses, --profile, --endpoint-url, --instance) or as flags (--token, --dkim-token, --mail-from), not both")}
	case fromFlags && f.file != "":
		return usageError{errors.New("--token, --dkim-token and --mail-from describe one identity: they cannot be used with -f")}
	case len(f.dkimTokens) != 0 && len(f.dkimTokens) != 3:
		return usageError{fmt.Errorf("--dkim-token given %d times: Easy DKIM has three tokens", len(f.dkimTokens))}
	case f.mailFrom != "" && f.region == "":
		return usageError{errors.New("--mail-from needs --region: the MAIL FROM MX points at the region's endpoint")}
	}
	if f.mailFrom != "" {
		mf, err := names.Domain(f.mailFrom)
		if err != nil {
			return usageError{fmt.Errorf("--mail-from: %w", err)}
		}
		f.mailFrom = mf
	}
	return nil
}

// expectations returns the expected values of each name: from the flags,
// or read from each SES instance for all names at once.
func (f *doctorFlags) expectations(ctx context.Context, ids []string) (func(string) doctor.Expectations, error) {
	if f.token != "" || len(f.dkimTokens) > 0 || f.mailFrom != "" {
		in := doctor.Instance{Label: "flags", Region: f.region, Token: f.token, DKIMTokens: f.dkimTokens, MailFrom: f.mailFrom}
		return func(string) doctor.Expectations { return doctor.Expectations{in} }, nil
	}
	var specs []doctor.SourceSpec
	for _, s := range f.instances {
		spec, err := f.instanceSpec(s)
		if err != nil {
			return nil, err
		}
		specs = append(specs, spec)
	}
	// --region alone reads SES there with the default credential chain,
	// as the aws CLI would; with --token and the like it was handled above.
	if len(specs) == 0 && (f.ses || f.profile != "" || f.endpoint != "" || f.region != "") {
		specs = append(specs, doctor.SourceSpec{Profile: f.profile, Region: f.region, Endpoint: f.endpoint})
	}
	fetched := make([]map[string]doctor.Instance, len(specs))
	errs := make([]error, len(specs))
	var wg sync.WaitGroup
	for i, spec := range specs {
		wg.Go(func() {
			src, err := doctor.NewSource(ctx, spec)
			if err == nil {
				fetched[i], err = doctor.Fetch(ctx, src, ids)
			}
			errs[i] = err
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return func(name string) doctor.Expectations {
		var e doctor.Expectations
		for _, m := range fetched {
			e = append(e, m[name])
		}
		return e
	}, nil
}

// instanceSpec reads PROFILE@REGION or ENDPOINT@REGION. An endpoint is
// read with --profile's credentials; a profile, at --endpoint-url if set.
func (f *doctorFlags) instanceSpec(s string) (doctor.SourceSpec, error) {
	at := strings.LastIndex(s, "@")
	if at <= 0 || at == len(s)-1 {
		return doctor.SourceSpec{}, fmt.Errorf("--instance %q: want PROFILE@REGION or ENDPOINT@REGION", redact.String(s))
	}
	who, region := s[:at], s[at+1:]
	// The label is printed: an endpoint's password is not.
	spec := doctor.SourceSpec{Label: redact.String(who) + "@" + region, Region: region, Profile: f.profile, Endpoint: f.endpoint}
	if strings.Contains(who, "://") {
		spec.Endpoint = who
	} else {
		spec.Profile = who
	}
	return spec, nil
}

func readNames(path string, stdin io.Reader) ([]string, error) {
	r := stdin
	if path != "-" {
		file, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer file.Close()
		r = file
	}
	var out []string
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line != "" && !strings.HasPrefix(line, "#") {
			out = append(out, line)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("-f %s: %w", path, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("-f %s: no names", path)
	}
	return out, nil
}

// nameError is the JSON line of a name that could not be checked.
type nameError struct {
	Schema string `json:"schema"`
	Name   string `json:"name"`
	Err    string `json:"error"`
}

type reportWriter struct {
	f     *doctorFlags
	w     io.Writer
	color bool
	n     int
}

func (o *reportWriter) write(rep *doctor.Report, bad *nameError) error {
	defer func() { o.n++ }()
	if o.f.output == "json" {
		if bad != nil {
			bad.Schema = doctor.Schema
			return writeJSON(o.w, bad)
		}
		return rep.WriteJSON(o.w)
	}
	if o.n > 0 {
		fmt.Fprintln(o.w)
	}
	if bad != nil {
		_, err := fmt.Fprintf(o.w, "%s: not checked: %s\n", bad.Name, bad.Err)
		return err
	}
	return rep.WriteText(o.w, doctor.TextOptions{Color: o.color, Verbose: o.f.verbose})
}

// colorful reports whether w is a terminal that wants colours
// (https://no-color.org).
func colorful(w io.Writer) bool {
	file, ok := w.(*os.File)
	return ok && isTerminal(file) && os.Getenv("NO_COLOR") == ""
}

// progress draws a bar on a terminal's standard error while a batch
// runs; elsewhere it draws nothing.
type progress struct {
	w     io.Writer
	on    bool
	total int

	mu    sync.Mutex
	done  int
	drawn time.Time
}

func newProgress(w io.Writer, total int) *progress {
	file, ok := w.(*os.File)
	return &progress{w: w, on: ok && isTerminal(file), total: total}
}

func (p *progress) add() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done++
	if p.on && (time.Since(p.drawn) > 100*time.Millisecond || p.done == p.total) {
		const width = 30
		n := width * p.done / p.total
		fmt.Fprintf(p.w, "\r[%s%s] %d/%d", strings.Repeat("=", n), strings.Repeat(" ", width-n), p.done, p.total)
		p.drawn = time.Now()
	}
}

// clear erases the bar before a report is written to the same terminal.
func (p *progress) clear() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.on && !p.drawn.IsZero() {
		fmt.Fprint(p.w, "\r\x1b[K")
		p.drawn = time.Time{}
	}
}

func (p *progress) finish() { p.clear() }
