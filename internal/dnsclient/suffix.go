package dnsclient

import (
	"strings"

	"golang.org/x/net/publicsuffix"
)

// isSubdomain reports whether child is a proper subdomain of parent, both
// canonical without the final dot.
func isSubdomain(child, parent string) bool {
	return len(child) > len(parent)+1 && strings.HasSuffix(child, parent) && child[len(child)-len(parent)-1] == '.'
}

// PublicZone reports whether zone, the nearest zone found above domain,
// is the root or a public suffix (a registry's, such as com or co.uk):
// domain is then not delegated, or not yet, and that zone cannot hold its
// records. The doctor reports it as a finding, plan as a zone it cannot
// read. Names may end with a dot; case does not matter.
func PublicZone(domain, zone string) bool {
	domain = strings.ToLower(strings.TrimSuffix(domain, "."))
	zone = strings.ToLower(strings.TrimSuffix(zone, "."))
	if zone == "" {
		return true
	}
	ps, _ := publicsuffix.PublicSuffix(domain)
	return ps == zone || isSubdomain(ps, zone)
}
