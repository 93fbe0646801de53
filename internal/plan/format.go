package plan

import (
	"fmt"
	"io"
	"slices"
	"strings"
)

// Format is a way to write a plan.
type Format string

const (
	Table     Format = "table"     // for people: every record set, its action and each value's change
	BIND      Format = "bind"      // zone-file lines of the merged record sets
	Route53   Format = "route53"   // a Route 53 ChangeBatch: UPSERT with every value, DELETE
	Terraform Format = "terraform" // aws_route53_record resources of the merged record sets
	JSON      Format = "json"      // the Plan, schema sesame-plan/1
)

// Formats lists the formats, the default first.
var Formats = []Format{Table, BIND, Route53, Terraform, JSON}

// WriteOptions change how names are written.
type WriteOptions struct {
	// FQDN ends every name, and every CNAME and MX target, with a dot: for
	// DNS providers that append the domain to a name without one. Zone
	// files always use absolute targets; their names are then absolute
	// too, instead of relative to $ORIGIN.
	FQDN bool
}

// name writes a fully qualified name.
func (o WriteOptions) name(n string) string {
	if o.FQDN {
		return n
	}
	return bare(n)
}

// data writes a value's data outside zone files: a target with or
// without its final dot.
func (o WriteOptions) data(s *RRset, d string) string {
	switch s.Type {
	case "TXT":
		return quoteTXT(d)
	case "MX":
		pref, host, _ := strings.Cut(d, " ")
		return pref + " " + o.name(host)
	}
	return o.name(d)
}

// Write writes p in format f.
func (p *Plan) Write(w io.Writer, f Format, o WriteOptions) error {
	switch f {
	case Table:
		return p.writeTable(w, o)
	case BIND:
		return p.writeBIND(w, o)
	case Route53:
		return p.writeRoute53(w, o)
	case Terraform:
		return p.writeTerraform(w, o)
	case JSON:
		return p.writeJSON(w, o)
	}
	return fmt.Errorf("format %q: want one of %s", f, formatList())
}

func formatList() string {
	var s []string
	for _, f := range Formats {
		s = append(s, string(f))
	}
	return strings.Join(s, ", ")
}

// summary says how many record sets each action has.
func (p *Plan) summary() string {
	n := p.Counts()
	return fmt.Sprintf("%d to add, %d to change, %d to keep, %d to remove", n[Add], n[Change], n[Keep], n[Remove])
}

// owners describes who a record set is for.
func (s *RRset) owners() string {
	var out []string
	for _, v := range s.Values {
		if v.Owner != "" && v.Change != Remove && !slices.Contains(out, v.Owner) {
			out = append(out, v.Owner)
		}
	}
	return strings.Join(out, ", ")
}

// errWriter keeps the first write error, so that writers can print
// without checking each line.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) printf(format string, args ...any) {
	if e.err == nil {
		_, e.err = fmt.Fprintf(e.w, format, args...)
	}
}

func itoa(n uint32) string { return fmt.Sprint(n) }

// Write makes errWriter an io.Writer, for tabwriter.
func (e *errWriter) Write(b []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(b)
	e.err = err
	return n, err
}
