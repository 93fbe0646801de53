package plan

import (
	"io"
	"strings"

	"github.com/sesame/sesame/internal/records"
)

// writeBIND writes the merged record sets as zone-file lines (RFC 1035
// §5), names relative to $ORIGIN unless FQDN. Removed values are
// comments, so the output is both the new state and its history.
func (p *Plan) writeBIND(w io.Writer, o WriteOptions) error {
	ew := &errWriter{w: w}
	ew.printf("; sesame plan for %s: %s\n; zone %s, read from %s\n", p.Domain, p.summary(), bare(p.Zone), p.Source)
	for _, pr := range p.Problems {
		if pr.Severity >= records.SeverityWarning {
			ew.printf("; %s %s: %s\n", pr.Severity, pr.Code, pr.Message)
		}
	}
	if !o.FQDN {
		ew.printf("$ORIGIN %s\n", p.Zone)
	}
	for _, s := range p.RRsets {
		ew.printf("\n; %s %s", s.Action, s.Purpose)
		if who := s.owners(); who != "" {
			ew.printf(" for %s", who)
		}
		ew.printf("\n")
		for _, v := range s.Values {
			prefix := ""
			if v.Change == Remove {
				prefix = "; removed: "
			}
			ew.printf("%s%s %d IN %s %s\n", prefix, p.zoneName(s.Name, o), s.TTL, s.Type, s.zoneData(v.Data))
		}
	}
	return ew.err
}

// zoneName writes name relative to the zone's apex, or absolute.
func (p *Plan) zoneName(name string, o WriteOptions) string {
	switch {
	case o.FQDN:
		return name
	case name == p.Zone:
		return "@"
	}
	return strings.TrimSuffix(name, "."+p.Zone)
}
