package console

import (
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/sesame/sesame/internal/identity"
	"github.com/sesame/sesame/internal/names"
	"github.com/sesame/sesame/internal/registry"
)

// PageSizes are the page sizes offered; the first is the default.
var PageSizes = []int{50, 20, 100, 500}

type listData struct {
	Rows     []row
	Query    string
	Type     string // "", "domain", "email"
	Status   string // "" or a v1 status
	Size     int
	Sizes    []int
	Statuses []statusOption
	Next     string // URL of the next page; "" on the last
	First    string // URL of the first page, when not on it
	Error    string
}

type statusOption struct {
	Value string
	Label string
}

type row struct {
	Name         string
	Type         string
	Verification badge
	DKIM         badge
	MailFrom     badge
	LastChecked  time.Time
}

var statusOptions = []statusOption{
	{"", "any status"},
	{string(identity.Success), "verified"},
	{string(identity.Pending), "pending verification"},
	{string(identity.Failed), "failed"},
	{string(identity.TemporaryFailure), "temporary failure"},
	{string(identity.NotStarted), "not started"},
}

// list is the identities of the account in the session's region, a page
// at a time (registry.List's NextToken), filtered by type, status and
// part of the name.
func (c *Console) list(w http.ResponseWriter, r *request) error {
	q := r.URL.Query()
	d := listData{Query: q.Get("q"), Type: q.Get("type"), Status: q.Get("status"), Sizes: PageSizes, Statuses: statusOptions, Size: PageSizes[0]}
	lq := registry.ListQuery{NameContains: d.Query, NextToken: q.Get("next")}
	switch d.Type {
	case "domain":
		lq.Kind = names.KindDomain
	case "email":
		lq.Kind = names.KindEmail
	default:
		d.Type = ""
	}
	for _, o := range statusOptions[1:] {
		if d.Status == o.Value {
			lq.Status = identity.Status(o.Value)
		}
	}
	d.Status = string(lq.Status)
	if n, err := strconv.Atoi(q.Get("size")); err == nil {
		for _, s := range PageSizes {
			if n == s {
				d.Size = n
			}
		}
	}
	lq.Limit = d.Size
	ids, next, err := c.Registry.List(r.Context(), r.scope, lq)
	if registry.IsKind(err, registry.Invalid) && lq.NextToken != "" {
		// A token from another filter: start again from the first page.
		d.Error = "That page link no longer matches the filters; showing the first page."
		lq.NextToken = ""
		ids, next, err = c.Registry.List(r.Context(), r.scope, lq)
	}
	if err != nil {
		return err
	}
	for _, id := range ids {
		rw, err := c.rowOf(r, id)
		if err != nil {
			return err
		}
		d.Rows = append(d.Rows, rw)
	}
	page := func(token string) string {
		v := url.Values{}
		for k, val := range map[string]string{"q": d.Query, "type": d.Type, "status": d.Status, "next": token} {
			if val != "" {
				v.Set(k, val)
			}
		}
		if d.Size != PageSizes[0] {
			v.Set("size", strconv.Itoa(d.Size))
		}
		if len(v) == 0 {
			return "/console/identities"
		}
		return "/console/identities?" + v.Encode()
	}
	if next != "" {
		d.Next = page(next)
	}
	if lq.NextToken != "" {
		d.First = page("")
	}
	c.render(w, r.Request, r.s, http.StatusOK, "list.html", "Identities", d)
	return nil
}

func (c *Console) rowOf(r *request, id *identity.Identity) (row, error) {
	dk, err := c.Registry.DKIMOf(r.Context(), r.scope, id)
	if err != nil {
		return row{}, err
	}
	rw := row{Name: id.Name, Type: typeName(id), Verification: badgeOf(id.Status()), DKIM: badgeOf(dk.Status), MailFrom: mailFromBadge(id)}
	for _, ch := range id.Checks() {
		if ch.LastChecked.After(rw.LastChecked) {
			rw.LastChecked = ch.LastChecked
		}
	}
	return rw, nil
}

func typeName(id *identity.Identity) string {
	if id.IsDomain() {
		return "Domain"
	}
	return "Email address"
}

func mailFromBadge(id *identity.Identity) badge {
	if id.MailFrom.Domain == "" {
		return notSetUp
	}
	return badgeOf(id.MailFrom.Check.Status)
}

// flashes are the messages a redirect may ask for with ?done=: a fixed
// set, so the URL cannot put words in the console's mouth.
var flashes = map[string]string{
	"created":  "Identity created. Follow the steps below to verify it.",
	"checked":  "Checked the name servers just now.",
	"mailfrom": "MAIL FROM settings saved.",
	"resent":   "A new verification email was sent.",
	"deleted":  "Identity deleted.",
}
