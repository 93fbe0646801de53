package plan

import (
	"encoding/json"
	"io"
)

// writeJSON writes the plan as one JSON object (docs/plan.md), names and
// targets as WriteOptions say.
func (p *Plan) writeJSON(w io.Writer, o WriteOptions) error {
	out := *p
	out.RRsets = make([]*RRset, len(p.RRsets))
	for i, s := range p.RRsets {
		c := *s
		c.Name = o.name(s.Name)
		c.Values = make([]Value, len(s.Values))
		for j, v := range s.Values {
			if s.Type != "TXT" {
				v.Data = o.data(s, v.Data)
			}
			c.Values[j] = v
		}
		out.RRsets[i] = &c
	}
	out.Zone = o.name(p.Zone)
	out.Problems = make([]Problem, len(p.Problems))
	for i, pr := range p.Problems {
		if pr.Name != "" {
			pr.Name = o.name(pr.Name)
		}
		out.Problems[i] = pr
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(out)
}
