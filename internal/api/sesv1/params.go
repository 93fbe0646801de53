package sesv1

import (
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/sesame/sesame/internal/api"
)

// params are the request's form values. Lists arrive as Name.member.N (N
// from 1); an empty list as "Name=".
type params map[string][]string

func (p params) get(name string) string {
	if v := p[name]; len(v) > 0 {
		return v[0]
	}
	return ""
}

func (p params) has(name string) bool { _, ok := p[name]; return ok }

// required returns a member that must be present and non-empty, or SES's
// ValidationError.
func (p params) required(name string) (string, error) {
	v := p.get(name)
	if v == "" {
		return "", api.Errorf(http.StatusBadRequest, "ValidationError",
			"1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", lowerFirst(name))
	}
	return v, nil
}

// list returns Name.member.1, Name.member.2... in index order.
func (p params) list(name string) ([]string, error) {
	prefix := name + ".member."
	type item struct {
		i int
		v string
	}
	var items []item
	for k, v := range p {
		if !strings.HasPrefix(k, prefix) {
			continue
		}
		i, err := strconv.Atoi(k[len(prefix):])
		if err != nil || i < 1 {
			return nil, api.Errorf(http.StatusBadRequest, "InvalidParameterValue", "Invalid list member %q: members are numbered %s1, %s2...", k, prefix, prefix)
		}
		items = append(items, item{i, v[0]})
	}
	sort.Slice(items, func(a, b int) bool { return items[a].i < items[b].i })
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.v
	}
	return out, nil
}

// boolean parses a required true/false member.
func (p params) boolean(name string) (bool, error) {
	v, err := p.required(name)
	if err != nil {
		return false, err
	}
	switch strings.ToLower(v) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, api.Errorf(http.StatusBadRequest, "InvalidParameterValue", "Invalid %s %q: use true or false.", name, v)
}

// intRange parses an optional integer member within [lo, hi]; def when absent.
func (p params) intRange(name string, lo, hi, def int) (int, error) {
	v := p.get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, api.Errorf(http.StatusBadRequest, "InvalidParameterValue", "Invalid %s %q: use a whole number from %d to %d.", name, v, lo, hi)
	}
	return n, nil
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}
