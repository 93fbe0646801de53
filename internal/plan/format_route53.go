package plan

import (
	"encoding/json"
	"io"
	"strings"
)

// changeBatch is the ChangeBatch of Route 53's ChangeResourceRecordSets,
// as `aws route53 change-resource-record-sets --change-batch` reads it.
type changeBatch struct {
	Comment string   `json:"Comment"`
	Changes []change `json:"Changes"`
}

type change struct {
	Action string   `json:"Action"`
	RRset  r53RRset `json:"ResourceRecordSet"`
}

type r53RRset struct {
	Name            string      `json:"Name"`
	Type            string      `json:"Type"`
	TTL             uint32      `json:"TTL"`
	ResourceRecords []r53Record `json:"ResourceRecords"`
}

type r53Record struct {
	Value string `json:"Value"`
}

// writeRoute53 writes the changes as one ChangeBatch. Route 53 replaces a
// record set as a whole, so an UPSERT carries every value the set keeps,
// including those the plan does not own; a set that loses all its values
// is a DELETE, which must name its current values exactly.
func (p *Plan) writeRoute53(w io.Writer, o WriteOptions) error {
	b := changeBatch{Comment: "sesame plan for " + p.Domain + ": " + p.summary(), Changes: []change{}}
	for _, s := range p.Changed() {
		c := change{Action: "UPSERT", RRset: r53RRset{Name: o.name(s.Name), Type: s.Type, TTL: s.TTL}}
		vals := s.Final()
		if s.Action == Remove {
			c.Action, vals = "DELETE", nil
			for _, v := range s.Values {
				vals = append(vals, v.Data)
			}
		}
		for _, v := range vals {
			c.RRset.ResourceRecords = append(c.RRset.ResourceRecords, r53Record{Value: r53Value(s, v, o)})
		}
		b.Changes = append(b.Changes, c)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(b)
}

// r53Value writes a value as Route 53 wants it: TXT in quoted strings of
// at most 255 bytes, separated by spaces; targets as they are.
func r53Value(s *RRset, v string, o WriteOptions) string {
	switch s.Type {
	case "TXT":
		return quoteTXT(v)
	case "MX":
		pref, host, _ := strings.Cut(v, " ")
		return pref + " " + o.name(host)
	}
	return o.name(v)
}
