package plan

import (
	"fmt"
	"io"
	"strings"
)

// writeTerraform writes the merged record sets as aws_route53_record
// resources, in the zone given by var.zone_id. Record sets that exist now
// get allow_overwrite, so that Terraform takes them over instead of
// failing on them; those the plan removes are left out, with a comment,
// since Terraform deletes only what it manages.
func (p *Plan) writeTerraform(w io.Writer, o WriteOptions) error {
	ew := &errWriter{w: w}
	ew.printf("# sesame plan for %s: %s\n\n", p.Domain, p.summary())
	ew.printf("variable \"zone_id\" {\n  description = %s\n  type        = string\n}\n", hcl("The Route 53 hosted zone of "+bare(p.Zone)))
	used := map[string]int{}
	for _, s := range p.RRsets {
		if s.Action == Remove {
			ew.printf("\n# removed: %s %s (not in Terraform's state unless it made it: delete it there or with -o route53)\n", o.name(s.Name), s.Type)
			continue
		}
		id := resourceName(s)
		if used[id]++; used[id] > 1 {
			id = fmt.Sprintf("%s_%d", id, used[id])
		}
		var recs []string
		for _, v := range s.Final() {
			recs = append(recs, hcl(tfValue(s, v, o)))
		}
		ew.printf("\n# %s %s", s.Action, s.Purpose)
		if who := s.owners(); who != "" {
			ew.printf(" for %s", who)
		}
		ew.printf("\nresource \"aws_route53_record\" %q {\n", id)
		ew.printf("  zone_id = var.zone_id\n  name    = %s\n  type    = %q\n  ttl     = %d\n  records = [%s]\n", hcl(o.name(s.Name)), s.Type, s.TTL, strings.Join(recs, ", "))
		if s.Action != Add {
			ew.printf("\n  allow_overwrite = true\n")
		}
		ew.printf("}\n")
	}
	return ew.err
}

// tfValue writes a value as the AWS provider takes it: a TXT value over
// 255 bytes has its strings joined by "" (the provider quotes the whole,
// making them separate strings); targets as they are.
func tfValue(s *RRset, v string, o WriteOptions) string {
	if s.Type != "TXT" {
		return o.data(s, v)
	}
	parts := splitTXT(v)
	for i, p := range parts {
		parts[i] = escape(p)
	}
	return strings.Join(parts, `""`)
}

// hcl quotes s as an HCL string, escaping its template sequences.
func hcl(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\r", `\r`, "\t", `\t`, "${", "$${", "%{", "%%{")
	return `"` + r.Replace(s) + `"`
}

// resourceName makes a Terraform name from a record set's name and type:
// _amazonses.example.com TXT is amazonses_example_com_txt.
func resourceName(s *RRset) string {
	var b strings.Builder
	for _, c := range strings.ToLower(bare(s.Name) + "_" + s.Type) {
		switch {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
			b.WriteRune(c)
		case b.Len() > 0 && !strings.HasSuffix(b.String(), "_"):
			b.WriteByte('_')
		}
	}
	id := b.String()
	if id == "" || '0' <= id[0] && id[0] <= '9' {
		id = "r_" + id
	}
	return id
}
