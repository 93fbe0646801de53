package console

import (
	"context"
	"errors"
	"net/http"

	"github.com/sesame/sesame/internal/doctor"
	"github.com/sesame/sesame/internal/registry"
	"github.com/sesame/sesame/internal/store"
)

type doctorData struct {
	Report   *doctor.Report
	Problems []doctor.Finding // errors, warnings and notes
	Passed   []doctor.Finding
	Error    string
}

// doctor runs the doctor on the identity with this instance's own
// expected values, and returns its findings as a fragment of the identity
// page, which fetches it after loading so the page itself never waits on
// DNS. A slow diagnosis is cut at DoctorTimeout.
func (c *Console) doctor(w http.ResponseWriter, r *request) error {
	id, err := c.Registry.Get(r.Context(), r.scope, r.PathValue("name"))
	if err != nil {
		return err
	}
	if c.DNS == nil {
		c.showDoctor(w, r, id.Name, doctorData{Error: "The doctor is not available on this server."})
		return nil
	}
	dk, err := c.Registry.DKIMOf(r.Context(), r.scope, id)
	if err != nil {
		return err
	}
	if dk.Selector != "" {
		dk.Tokens = nil // BYODKIM: a TXT at the selector, no CNAMEs
	}
	// The keys this server publishes for the tokens (a DEED replica's are
	// its parent's): the doctor then knows which key must be where each
	// CNAME leads.
	published := map[string]string{}
	if len(dk.Tokens) > 0 && c.Keys != nil {
		keys, err := c.Keys.ListDKIMKeys(r.Context(), registry.KeysOf(id))
		if err != nil {
			return err
		}
		for _, k := range keys {
			if k.State != store.DKIMExternal {
				published[k.Token] = k.Record
			}
		}
	}
	in := doctor.Instance{
		Label: "this account in " + id.Region, Region: id.Region, Token: id.Token, DKIMTokens: dk.Tokens,
		DKIMSelector: dk.Selector, DKIMKey: dk.KeyRecord, DKIMKeys: published, MailFrom: id.MailFrom.Domain, FromSES: true,
		Status: &doctor.Status{Verification: string(id.Verification.Status), DKIM: string(dk.Status), DKIMEnabled: dk.Enabled,
			MailFrom: string(id.MailFrom.Check.Status)},
	}
	ctx, cancel := context.WithTimeout(r.Context(), durationOr(c.DoctorTimeout, DefaultDoctorTimeout))
	defer cancel()
	doc := &doctor.Doctor{Client: c.DNS, Records: c.Registry.DNS} // one per run: it caches answers
	rep, err := doc.Diagnose(ctx, doctor.Input{Name: id.Name, Expect: doctor.Expectations{in}})
	var d doctorData
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		d.Error = "The diagnosis took too long: the domain's name servers are slow or do not answer. The evidence above shows what the last check saw."
	case err != nil:
		c.Log.Warn("doctor", "identity", id.Name, "err", err)
		d.Error = "The diagnosis could not run: " + err.Error()
	default:
		d.Report = rep
		for _, f := range rep.Findings {
			if f.Severity == doctor.SeverityOK {
				d.Passed = append(d.Passed, f)
			} else {
				d.Problems = append(d.Problems, f)
			}
		}
	}
	c.showDoctor(w, r, id.Name, d)
	return nil
}

// FragmentHeader asks for a page's fragment alone; the identity page's
// script sets it. Without script, the doctor is a page of its own.
const FragmentHeader = "X-Console-Fragment"

func (c *Console) showDoctor(w http.ResponseWriter, r *request, name string, d doctorData) {
	if r.Header.Get(FragmentHeader) != "" {
		c.fragment(w, "doctor.html", d)
		return
	}
	c.render(w, r.Request, r.s, http.StatusOK, "doctor.html", "Doctor · "+name, struct {
		Name string
		Data doctorData
	}{name, d})
}

// severityBadge shows a finding's severity as a word and an icon.
func severityBadge(s doctor.Severity) badge {
	switch s {
	case doctor.SeverityError:
		return badge{"failed", "✖", "error"}
	case doctor.SeverityWarning:
		return badge{"temp", "⚠", "warning"}
	case doctor.SeverityInfo:
		return badge{"none", "ℹ", "note"}
	}
	return badge{"ok", "✔", "ok"}
}
