package main

import (
	"strings"
	"testing"
)

// TestPlanUnread: a domain not delegated yet gets its whole record set as
// additions, with a warning; --apply sends nothing without --apply-unread.
// The primary named by --apply (ns1) does not serve example.test either:
// it refuses.
func TestPlanUnread(t *testing.T) {
	w := newDoctorDNS(t) // test. exists, example.test is not delegated
	in := "instance ops region=us-east-1 token=" + tok1 + " dkim=" + dk1 + "," + dk2 + "," + dk3 + " mail-from=mail.example.test\n"
	base := append([]string{"plan", "example.test", "--from", "-"}, w.args()...)
	apply := []string{"--apply", "rfc2136://127.0.0.1:" + w.port + "?zone=example.test"}

	out, errs, code := sesame(t, in, base...)
	if code != 0 || !strings.Contains(out, "zone-unread") || !strings.Contains(out, "is not delegated") || strings.Contains(out, "keep ") {
		t.Errorf("plan: exit status %d, want 0, a zone-unread warning and only additions\n%s%s", code, out, errs)
	}
	if n := strings.Count(out, "\nadd "); n != 7 { // TXT, 3 CNAMEs, DMARC, MX, SPF
		t.Errorf("%d record sets added, want 7\n%s", n, out)
	}

	out, errs, code = sesame(t, in, append(base, "-o", "json")...)
	if code != 0 || !strings.Contains(errs, "warning: cannot read the zone") || len(jsonLines(t, "plan -o json", out)) != 1 {
		t.Errorf("plan -o json: exit status %d, want 0, one line, and the warning on standard error\n%s%s", code, out, errs)
	}

	out, errs, code = sesame(t, in, append(append(base, apply...), "--dry-run")...)
	if code != 1 || !strings.Contains(errs, "not applied") || !strings.Contains(errs, "--apply-unread") || strings.Contains(out, "the update") {
		t.Errorf("--apply without --apply-unread: exit status %d, want 1 and not applied\n%s%s", code, out, errs)
	}
	if !strings.Contains(out, "Refused") {
		t.Errorf("the warning does not say the primary refused:\n%s", out)
	}

	out, errs, code = sesame(t, in, append(append(base, apply...), "--dry-run", "--apply-unread")...)
	if code != 0 || !strings.Contains(out, "the update (--dry-run: not sent)") || strings.Count(out, "prereq nxrrset") != 7 {
		t.Errorf("--apply-unread --dry-run: exit status %d, want 0 and an update of 7 conditional additions\n%s%s", code, out, errs)
	}

	if _, errs, code = sesame(t, in, append(base, "--apply-unread")...); code != 2 || !strings.Contains(errs, "goes with --apply") {
		t.Errorf("--apply-unread alone: exit status %d, want 2\n%s", code, errs)
	}
}
