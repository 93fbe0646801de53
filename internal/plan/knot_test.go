package plan

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/sesame/sesame/internal/dnsclient"
	"github.com/sesame/sesame/internal/dnstest"
	"github.com/sesame/sesame/internal/doctor"
	"github.com/sesame/sesame/internal/knottest"
)

// knotWorld runs Knot for example.test on 127.0.2.101 and, on the same
// port, a resolver that finds it and a server for amazonses.com, so that
// SPF includes resolve as they would on the Internet.
func knotWorld(t *testing.T, records string) (*knottest.Server, *dnsclient.Client, *Target, *TSIG) {
	t.Helper()
	head := "$ORIGIN example.test.\n$TTL 300\n@ SOA ns1 hostmaster 1 3600 600 86400 30\n@ NS ns1\nns1 A 127.0.2.101\n"
	knot := knottest.Start(t, "127.0.2.101", "example.test", head+records)
	res := dnstest.NewServer(t, "127.0.2.153:"+knot.Port)
	ses := dnstest.NewServer(t, "127.0.2.104:"+knot.Port)
	ses.SetZone("amazonses.com.", strings.ReplaceAll(sesZone, "127.0.2.4", "127.0.2.104"))
	res.SetZone(".", rootZone)
	res.SetZone("test.", tldZone)
	res.SetZone("amazonses.com.", strings.ReplaceAll(sesZone, "127.0.2.4", "127.0.2.104"))
	res.SetZone("example.test.", head+records)
	cl := &dnsclient.Client{Resolver: res.Addr, AuthPort: knot.Port, Timeout: time.Second, RateLimit: 1000}
	key := &TSIG{Name: dns.CanonicalName(knot.KeyName), Algorithm: dns.HmacSHA256, Secret: Secret(knot.KeySecret)}
	return knot, cl, &Target{Host: knot.IP, Port: knot.Port, Zone: knot.Zone}, key
}

const (
	tokOps = "QOfgFXU/ZSvHTm8Agxq581O1+2rrLJ9fv6qhqTjsYT4="
	tokMkt = "NJxE6HtWzaFUpVqtiMQwU7BlG0R8o1R1OttIAW56880="
	stale  = "og2iA7saW7YvcyM6/Ow7f1X1PloAQ4qAnXsZsEQqA4g="
)

var (
	dkimOps = []string{"6hejwjvnljv34qmfxwmlxr4dn2dc6z6c", "scum2nqzlcfoo5m5rh576oxtyjdrxjfz", "hn2svf5ykixggtiejfwc7pd2sylrmrg4"}
	dkimMkt = []string{"xan4xnsxvk6bntrjgkk5z4h3nagevaor", "b5gvrvfdakbtm3ocsmhyu4qeak6kllur", "uydv7p5ndi7ojx5lweliqslzv6ccd4ob"}
)

// knotZone holds the first instance's records, a DKIM CNAME and a token of
// an old key, the MAIL FROM domain of a region given up, and values of
// other services at the names the plan writes.
const knotZone = `_amazonses TXT "QOfgFXU/ZSvHTm8Agxq581O1+2rrLJ9fv6qhqTjsYT4="
_amazonses TXT "og2iA7saW7YvcyM6/Ow7f1X1PloAQ4qAnXsZsEQqA4g="
_amazonses TXT "other-service-verification=1234"
6hejwjvnljv34qmfxwmlxr4dn2dc6z6c._domainkey CNAME 6hejwjvnljv34qmfxwmlxr4dn2dc6z6c.dkim.amazonses.com.
3peamrm5j7oyoiebu7sulnwspqzb2w7p._domainkey CNAME 3peamrm5j7oyoiebu7sulnwspqzb2w7p.dkim.amazonses.com.
mail MX 10 feedback-smtp.us-east-1.amazonses.com.
mail TXT "v=spf1 ip4:198.51.100.0/24 ~all"
mail TXT "keep=me"
mail-ap MX 10 feedback-smtp.ap-south-1.amazonses.com.
mail-ap TXT "v=spf1 include:amazonses.com ~all"
`

func knotOptions(prune bool) Options {
	return Options{
		Domain: "example.test",
		Instances: []doctor.Instance{
			{Label: "ops", Region: "us-east-1", Token: tokOps, DKIMTokens: dkimOps, MailFrom: "mail.example.test"},
			{Label: "marketing", Region: "us-east-1", Token: tokMkt, DKIMTokens: dkimMkt, MailFrom: "mail.example.test"},
		},
		Prune: prune,
	}
}

// TestKnotApply applies a plan with pruning to Knot in one signed update,
// reads every server back, and plans again to find nothing to do.
func TestKnotApply(t *testing.T) {
	_, cl, target, key := knotWorld(t, knotZone)
	ctx := context.Background()
	pl := &Planner{Client: cl, Primary: target, List: ListAXFR(target, key)}
	p, err := pl.Plan(ctx, knotOptions(true))
	if err != nil {
		t.Fatal(err)
	}
	if errs := bad(p); len(errs) > 0 {
		t.Fatalf("problems: %+v", errs)
	}
	m := p.Update(target.Zone)
	if m == nil {
		t.Fatal("no update")
	}
	if err := Apply(ctx, target, key, m); err != nil {
		t.Fatalf("Apply: %v\n%s", err, UpdateText(m, target, key))
	}
	states, err := pl.ReadBack(ctx, p, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if len(states) != 1 || len(states[0].Differ) > 0 || states[0].AsPlanned != len(p.RRsets) {
		t.Fatalf("read back: %+v", states)
	}

	// What the plan does not own is still there; what it pruned is gone.
	rrs, err := ListAXFR(target, key)(ctx, target.Zone)
	if err != nil {
		t.Fatal(err)
	}
	zone := map[string]bool{}
	for _, rr := range rrs {
		zone[strings.ToLower(rr.Header().Name)+" "+dns.TypeToString[rr.Header().Rrtype]+" "+rrData(rr)] = true
	}
	for line, want := range map[string]bool{
		"_amazonses.example.test. TXT " + tokOps:                                                                               true,
		"_amazonses.example.test. TXT " + tokMkt:                                                                               true,
		"_amazonses.example.test. TXT other-service-verification=1234":                                                         true,
		"_amazonses.example.test. TXT " + stale:                                                                                false,
		"mail.example.test. TXT keep=me":                                                                                       true,
		"mail.example.test. TXT v=spf1 ip4:198.51.100.0/24 include:amazonses.com ~all":                                         true,
		"mail.example.test. TXT v=spf1 ip4:198.51.100.0/24 ~all":                                                               false,
		"3peamrm5j7oyoiebu7sulnwspqzb2w7p._domainkey.example.test. CNAME 3peamrm5j7oyoiebu7sulnwspqzb2w7p.dkim.amazonses.com.": false,
		"xan4xnsxvk6bntrjgkk5z4h3nagevaor._domainkey.example.test. CNAME xan4xnsxvk6bntrjgkk5z4h3nagevaor.dkim.amazonses.com.": true,
		"mail-ap.example.test. MX 10 feedback-smtp.ap-south-1.amazonses.com.":                                                  false,
		"_dmarc.example.test. TXT v=DMARC1; p=none":                                                                            true,
	} {
		if zone[line] != want {
			t.Errorf("after the update, %q in the zone: %v, want %v", line, zone[line], want)
		}
	}

	// Idempotent: a second plan finds nothing to change.
	again, err := pl.Plan(ctx, knotOptions(true))
	if err != nil {
		t.Fatal(err)
	}
	if ch := again.Changed(); len(ch) > 0 || again.Update(target.Zone) != nil {
		t.Errorf("a second plan changes %d record sets: %+v", len(ch), ch[0])
	}
}

// TestKnotReadBack: after the update, every name server is read back,
// and one that has not transferred it yet is reported with what it serves
// until it has.
func TestKnotReadBack(t *testing.T) {
	const ns2 = "@ NS ns2\nns2 A 127.0.2.102\n"
	knot, cl, target, key := knotWorld(t, ns2)
	// A secondary of the zone that does not follow the primary's NOTIFY.
	secondary := dnstest.NewServer(t, "127.0.2.102:"+knot.Port)
	secondary.SetZone("example.test.", "$TTL 300\n@ SOA ns1 hostmaster 1 3600 600 86400 30\n@ NS ns1\nns1 A 127.0.2.101\n"+ns2)
	ctx := context.Background()
	pl := &Planner{Client: cl, Primary: target}
	p, err := pl.Plan(ctx, knotOptions(false))
	if err != nil {
		t.Fatal(err)
	}
	if err := Apply(ctx, target, key, p.Update(target.Zone)); err != nil {
		t.Fatal(err)
	}
	states, err := pl.ReadBack(ctx, p, 300*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	var lagging []string
	for _, st := range states {
		if len(st.Differ) > 0 {
			lagging = append(lagging, st.Server)
		}
	}
	if len(states) != 2 || !slices.Equal(lagging, []string{"ns2.example.test 127.0.2.102"}) {
		t.Errorf("read back %+v: want ns1 (the primary, once) as planned and ns2 behind", states)
	}
	var out strings.Builder
	if err := WriteReadBack(&out, states, WriteOptions{}); err != nil || !strings.Contains(out.String(), "ns2.example.test 127.0.2.102 (serial 1): 0 of") {
		t.Errorf("WriteReadBack: %v\n%s", err, out.String())
	}

	// The secondary transfers the zone: every server serves the plan.
	rrs, err := ListAXFR(target, key)(ctx, target.Zone)
	if err != nil {
		t.Fatal(err)
	}
	var zone strings.Builder
	for _, rr := range rrs[:len(rrs)-1] { // the transfer ends with the SOA again
		zone.WriteString(rr.String() + "\n")
	}
	secondary.SetZone("example.test.", zone.String())
	states, err = pl.ReadBack(ctx, p, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range states {
		if len(st.Differ) > 0 || st.AsPlanned != len(p.RRsets) || st.Serial != 2 {
			t.Errorf("after the transfer, %s: serial %d, %d of %d as planned, %+v", st.Server, st.Serial, st.AsPlanned, len(p.RRsets), st.Differ)
		}
	}
}

// TestKnotChangedZone: a zone changed between plan and update makes the
// prerequisites fail, and nothing is changed.
func TestKnotChangedZone(t *testing.T) {
	knot, cl, target, key := knotWorld(t, knotZone)
	ctx := context.Background()
	pl := &Planner{Client: cl, Primary: target}
	p, err := pl.Plan(ctx, knotOptions(false))
	if err != nil {
		t.Fatal(err)
	}
	knot.Update(`add _amazonses.example.test. 300 TXT "added-meanwhile"`)
	err = Apply(ctx, target, key, p.Update(target.Zone))
	if !errors.Is(err, ErrChanged) {
		t.Fatalf("Apply after a change: %v, want ErrChanged", err)
	}
	again, err := pl.Plan(ctx, knotOptions(false))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(again.Changed()); n != len(p.Changed()) {
		t.Errorf("the refused update changed something: %d record sets left to change, want %d", n, len(p.Changed()))
	}
}

// TestKnotKeys: a wrong TSIG secret is refused, and without a key the
// zone cannot be listed, which the plan reports rather than pruning
// blind.
func TestKnotKeys(t *testing.T) {
	_, cl, target, key := knotWorld(t, knotZone)
	ctx := context.Background()
	wrong := *key
	wrong.Secret = Secret("d3Jvbmcgc2VjcmV0IG9mIDMyIGJ5dGVzLCBhbG1vc3Q=")
	pl := &Planner{Client: cl, Primary: target, List: ListAXFR(target, nil)}
	p, err := pl.Plan(ctx, knotOptions(true))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(codes(p), CodePruneNeedsAXFR) {
		t.Errorf("codes %v lack %s", codes(p), CodePruneNeedsAXFR)
	}
	if err := Apply(ctx, target, &wrong, p.Update(target.Zone)); !errors.Is(err, ErrApply) {
		t.Errorf("Apply with a wrong key: %v, want ErrApply", err)
	}
	if err := Apply(ctx, target, nil, p.Update(target.Zone)); !errors.Is(err, ErrApply) {
		t.Errorf("Apply without a key: %v, want ErrApply", err)
	}
}
