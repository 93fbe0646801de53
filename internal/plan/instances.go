package plan

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/sesame/sesame/internal/names"
	"github.com/sesame/sesame/internal/records"
)

// ErrInstances: a --from file that cannot be read.
var ErrInstances = errors.New("bad instance file")

// ParseInstances reads instances given by hand, one a line:
//
//	# comment
//	instance ops region=us-east-1 token=pmBGN/7Mjn...= dkim=a,b,c mail-from=mail.example.com
//
// The label comes first; the fields are optional, in any order: region,
// token (the verification token), dkim (the three Easy DKIM tokens) and
// mail-from. "instance:" is read too, as the doctor's test cases write it.
func ParseInstances(r io.Reader) ([]records.Instance, error) {
	var out []records.Instance
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		in, err := parseInstance(line)
		if err != nil {
			return nil, fmt.Errorf("%w: line %d: %v", ErrInstances, n, err)
		}
		for _, o := range out {
			if o.Label == in.Label {
				return nil, fmt.Errorf("%w: line %d: a second instance labelled %q", ErrInstances, n, in.Label)
			}
		}
		out = append(out, in)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInstances, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: no instances", ErrInstances)
	}
	return out, nil
}

func parseInstance(line string) (records.Instance, error) {
	f := strings.Fields(line)
	if f[0] != "instance" && f[0] != "instance:" {
		return records.Instance{}, fmt.Errorf("%q: want instance LABEL region=R token=T dkim=A,B,C mail-from=M", f[0])
	}
	if len(f) < 2 || strings.Contains(f[1], "=") {
		return records.Instance{}, errors.New("the instance has no label")
	}
	in := records.Instance{Label: f[1]}
	seen := map[string]bool{}
	for _, kv := range f[2:] {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || v == "" {
			return in, fmt.Errorf("%q: want key=value", kv)
		}
		if seen[k] {
			return in, fmt.Errorf("%s given twice", k)
		}
		seen[k] = true
		switch k {
		case "region":
			in.Region = v
		case "token":
			in.Token = v
		case "dkim":
			in.DKIMTokens = strings.Split(v, ",")
			if len(in.DKIMTokens) != 3 {
				return in, fmt.Errorf("dkim=%q: Easy DKIM has three tokens, comma-separated", v)
			}
		case "mail-from":
			mf, err := names.Domain(v)
			if err != nil {
				return in, fmt.Errorf("mail-from: %v", err)
			}
			in.MailFrom = mf
		default:
			return in, fmt.Errorf("unknown field %q: want region, token, dkim or mail-from", k)
		}
	}
	if in.MailFrom != "" && in.Region == "" {
		return in, errors.New("mail-from needs region=: the MX points at the region's endpoint")
	}
	return in, nil
}
