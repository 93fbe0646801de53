package doctor

import (
	"slices"
	"strings"

	"github.com/sesame/sesame/internal/records"
)

// Severity says how much a finding matters: records.Severity, which
// plan's problems share.
type Severity = records.Severity

const (
	SeverityOK      = records.SeverityOK
	SeverityInfo    = records.SeverityInfo
	SeverityWarning = records.SeverityWarning
	SeverityError   = records.SeverityError
)

// Code names one kind of finding. Codes are stable: scripts may match on
// them, so a code is never renamed or reused for another meaning.
type Code string

// The codes, in the order of the checks that produce them.
const (
	// The domain and its name servers.
	DomainNotFound        Code = "domain-not-found"
	DomainPublicSuffix    Code = "domain-public-suffix"
	DomainLookupFailed    Code = "domain-lookup-failed"
	DNSSECBogus           Code = "dnssec-validation-failed"
	NameserverNoAddress   Code = "nameserver-no-address"
	NameserverTimeout     Code = "nameserver-timeout"
	NameserverServFail    Code = "nameserver-servfail"
	NameserverLame        Code = "nameserver-lame"
	NameserversDisagree   Code = "nameservers-disagree"
	CNAMELoop             Code = "cname-loop"
	DNSSECNotChecked      Code = "dnssec-not-checked"
	ExpectationsNone      Code = "expectations-none"
	IdentityNotFound      Code = "identity-not-found"
	SESStatus             Code = "ses-status"
	SESStatusFailed       Code = "ses-status-failed"
	SESStatusTempFailure  Code = "ses-status-temporary-failure"
	EmailChecklist        Code = "email-checklist"
	MXOK                  Code = "mx-ok"
	MXMissing             Code = "mx-missing"
	MXNull                Code = "mx-null"
	MXImplicit            Code = "mx-implicit"
	TXTSplitWrongly       Code = "txt-split-wrongly"
	VerificationOK        Code = "verification-record-ok"
	VerificationMissing   Code = "verification-record-missing"
	VerificationNotNeeded Code = "verification-record-not-needed"
	VerificationAtApex    Code = "verification-record-at-apex"
	VerificationNoUnder   Code = "verification-record-no-underscore"
	VerificationAppended  Code = "verification-record-domain-appended"
	VerificationCase      Code = "verification-record-case-changed"
	VerificationMangled   Code = "verification-record-mangled"
	VerificationOther     Code = "verification-record-other-instance"
	VerificationMultiple  Code = "verification-record-multiple-values"
	VerificationCNAME     Code = "verification-record-cname"
	DKIMOK                Code = "dkim-records-ok"
	DKIMMissing           Code = "dkim-record-missing"
	DKIMWrongTarget       Code = "dkim-record-wrong-target"
	DKIMAppended          Code = "dkim-record-domain-appended"
	DKIMKeyMissing        Code = "dkim-key-missing"
	DKIMKeyInvalid        Code = "dkim-key-invalid"
	DKIMKeyMismatch       Code = "dkim-key-mismatch"
	DKIMSelectorOK        Code = "dkim-selector-ok"
	DKIMSelectorMissing   Code = "dkim-selector-missing"
	DKIMSelectorMismatch  Code = "dkim-selector-key-mismatch"
	MailFromOK            Code = "mail-from-mx-ok"
	MailFromMissing       Code = "mail-from-mx-missing"
	MailFromWrongRegion   Code = "mail-from-mx-wrong-region"
	MailFromWrongHost     Code = "mail-from-mx-wrong-host"
	MailFromMultiple      Code = "mail-from-mx-multiple"
	MailFromAppended      Code = "mail-from-domain-appended"
	MailFromCNAME         Code = "mail-from-cname"
	MailFromNotSub        Code = "mail-from-not-subdomain"
	MailFromConflict      Code = "mail-from-region-conflict"
	SPFOK                 Code = "spf-ok"
	SPFMissing            Code = "spf-missing"
	SPFMissingInclude     Code = "spf-missing-include"
	SPFMultiple           Code = "spf-multiple-records"
	SPFTooManyLookups     Code = "spf-too-many-lookups"
	SPFInvalid            Code = "spf-invalid"
	SPFPassAll            Code = "spf-pass-all"
	SPFLookupFailed       Code = "spf-lookup-failed"
	DMARCOK               Code = "dmarc-ok"
	DMARCMissing          Code = "dmarc-missing"
	DMARCInvalid          Code = "dmarc-invalid"
	DMARCMultiple         Code = "dmarc-multiple-records"
	DMARCPolicyNone       Code = "dmarc-policy-none"
	DMARCStrictSPF        Code = "dmarc-strict-spf-alignment"
	DMARCNotAligned       Code = "dmarc-not-aligned"
)

// entry is what every finding of one code shares. In Fix, {name} is the
// first record's name, {value} its expected value, {domain} the domain
// checked, {region} the instance's region.
type entry struct {
	severity Severity
	explain  string
	fix      string
}

// catalogue holds the explanation and the fix of every code. The texts
// follow SES's troubleshooting guide ("Amazon SES Email Address and Domain
// Verification Problems") and its multi-account, multi-region blog post.
var catalogue = map[Code]entry{
	DomainNotFound: {SeverityError,
		"SES verifies a domain by looking up records in the domain's own DNS. This domain has no name servers of its own: it is not registered, its delegation points at servers with no address, or the zone that holds its name has nothing at or below it. You cannot verify a domain you do not own.",
		"Check the spelling. If the domain is yours, make sure it is registered and delegated (its NS records at the registrar point at working name servers). To send from one address on someone else's domain, verify that address instead of the domain."},
	DomainPublicSuffix: {SeverityError,
		"The name is a public suffix (a top-level domain or a registry such as co.uk), under which anyone may register domains. Nobody owns it, so nobody can verify it.",
		"Verify your own domain below it, such as example.{domain}."},
	DomainLookupFailed: {SeverityError,
		"The recursive resolver failed (SERVFAIL) while looking for the domain's name servers. Resolvers do this when none of the domain's servers answers, or when its DNSSEC chain is broken. SES's resolvers will fail the same way.",
		"Check that the domain's name servers answer (dig @server {domain} SOA) and that the DS record at the registrar matches the zone's DNSKEY (https://dnsviz.net shows both)."},
	DNSSECBogus: {SeverityError,
		"The recursive resolver answered SERVFAIL while validating DNSSEC, and answered when asked with checking disabled (+cd): the zone's chain of trust is broken, usually a DS record at the registrar that matches none of the zone's DNSKEYs (after a change of DNS provider or a key rollover), or expired signatures. Every validating resolver, SES's among them, treats the domain as if it did not exist.",
		"Compare the DS record at the registrar with the zone's DNSKEY records (dig {domain} DS; dig @server {domain} DNSKEY; https://dnsviz.net shows the chain). Publish a matching DS record, re-sign the zone, or remove the DS record at the registrar to turn DNSSEC off."},
	NameserverNoAddress: {SeverityWarning,
		"A name server of the zone has no address (A or AAAA) that the resolver can find, so nobody can ask it. Resolvers that pick it waste time before trying another server.",
		"Fix or remove the NS record, at the registrar and in the zone."},
	NameserverTimeout: {SeverityError,
		"A name server of the zone did not answer. SES asks any of the zone's servers; when it picks this one, it sees nothing, and the check fails or is retried later.",
		"Make the server answer, or remove it from the zone's NS records at the registrar and in the zone."},
	NameserverServFail: {SeverityError,
		"A name server of the zone answered SERVFAIL: it failed to load the zone or to answer from it. SES sees no records through it.",
		"Look at the server's logs: a zone that does not load (a syntax error, an expired secondary) is the usual cause."},
	NameserverLame: {SeverityError,
		"A name server listed for the zone does not serve it: it refused the query or answered without authority (a lame delegation). Records published at your DNS provider are invisible through it.",
		"Make the zone's NS records, at the registrar and in the zone, list only the servers of the provider where you publish the records."},
	NameserversDisagree: {SeverityWarning,
		"The zone's name servers give different answers. SES may ask any of them, so a record present on only some servers is seen only some of the time. Different SOA serials mean a secondary has not caught up (or zone transfers are broken); equal serials mean the servers are fed separately, for example by two DNS providers.",
		"Wait for the secondaries to load the newest serial; if the serials stay apart, fix the zone transfers. With two DNS providers, publish every record at both."},
	CNAMELoop: {SeverityError,
		"A CNAME chain loops or is too long, so the name resolves to nothing.",
		"Point the CNAME at a name that holds the records."},
	DNSSECNotChecked: {SeverityInfo,
		"The zone is signed with DNSSEC (it has DNSKEY records). The doctor does not validate signatures or the DS record at the parent; a broken chain makes validating resolvers answer SERVFAIL for every name in the zone.",
		"If validating resolvers fail for this domain, check it with delv {domain} SOA or https://dnsviz.net."},
	ExpectationsNone: {SeverityInfo,
		"No expected values were given, so only checks that need none were made: name servers, DMARC, SPF syntax and the provider quirks that show without tokens.",
		"To check an identity's exact records, read them from SES (--profile, --region, --endpoint-url or --instance) or give them (--token, --dkim-token, --mail-from)."},
	IdentityNotFound: {SeverityError,
		"The SES account and region asked do not have this identity. Identities belong to one account in one region: a record published for another region or account verifies nothing here.",
		"Check the region and the profile. Create the identity in this account and region (VerifyDomainIdentity, VerifyDomainDkim or CreateEmailIdentity) and publish its records."},
	SESStatus: {SeverityInfo,
		"What SES says about the identity now. SES checks Pending records periodically for 72 hours, so a correct record can take a while to show as Success.",
		""},
	SESStatusFailed: {SeverityError,
		"SES stopped checking: the record was not found within 72 hours (or, for MAIL FROM, it disappeared). Publishing the record now does not restart the check.",
		"Fix the records, then start again: VerifyDomainIdentity or VerifyDomainDkim for a domain, VerifyEmailIdentity for an address, SetIdentityMailFromDomain for a MAIL FROM domain."},
	SESStatusTempFailure: {SeverityWarning,
		"SES could not determine the status because of a temporary problem, often DNS servers that fail or time out. It keeps trying for 72 hours.",
		"Fix any name server problem reported here; SES will then find the records."},
	EmailChecklist: {SeverityInfo,
		"SES verifies an address by sending it a message from no-reply-aws@amazon.com with a link that works for 24 hours.",
		"If the message did not arrive: look in the spam or junk folder; send the address a test message from another account to check that it receives mail; check the address for typos in the list of identities; then send the verification again."},
	MXOK: {SeverityOK,
		"The address's domain has MX records, so it can receive the verification message.",
		""},
	MXMissing: {SeverityError,
		"The address's domain has no MX record and no address record to fall back on (RFC 5321 §5.1), so the verification message cannot be delivered.",
		"Check the address for a typo in the domain. If it is right, the domain's owner must publish MX records before the address can receive mail."},
	MXNull: {SeverityError,
		"The address's domain publishes a null MX (\"0 .\", RFC 7505): it declares that it accepts no mail, so the verification message cannot be delivered.",
		"Check the address for a typo; otherwise use an address on a domain that receives mail."},
	MXImplicit: {SeverityWarning,
		"The address's domain has no MX record; mail falls back to its address records (RFC 5321 §5.1), which many domains do not mean to receive mail on.",
		"If the verification message does not arrive, publish MX records for {domain}."},
	TXTSplitWrongly: {SeverityError,
		"A TXT record holds one or more strings of at most 255 bytes, which readers join without anything in between (RFC 7208 §3.3). This value was split into separate TXT records, or into strings whose join loses a space, so readers see a broken value.",
		"Publish the value as one TXT record. If it is over 255 bytes, split it into several quoted strings of that one record, with the spaces inside the strings: \"v=spf1 include:a.example \" \"include:b.example ~all\"."},
	VerificationOK: {SeverityOK,
		"The verification TXT record holds this instance's token exactly.",
		""},
	VerificationMissing: {SeverityError,
		"SES looks for the token in a TXT record named {name}, and it is not there.",
		"Publish {name} TXT \"{value}\". At most DNS providers, enter the name as \"_amazonses\" (or the full name with a final dot) and the value without quotes."},
	VerificationNotNeeded: {SeverityInfo,
		"The verification TXT record is not published, but all three DKIM records are: a DKIM success verifies the domain too, so the TXT record is not needed.",
		""},
	VerificationAtApex: {SeverityInfo,
		"The token is on the domain itself, without _amazonses. SES accepts this for DNS providers that do not allow underscores in names.",
		""},
	VerificationNoUnder: {SeverityError,
		"The token is at amazonses.{domain}, without the underscore. SES accepts that name only for domains verified that way in the past: a verification started now does not look there.",
		"Publish the token at {name} (or on {domain} itself if your provider refuses underscores)."},
	VerificationAppended: {SeverityError,
		"The record is under the domain twice: your DNS provider appended the domain to the name you entered. SES looks only at {name}.",
		"Delete the record and create it again with the name \"_amazonses\" alone, or with the full name ending in a dot (\"{name}.\"), so the provider does not append the domain."},
	VerificationCase: {SeverityError,
		"The record holds the token with its letters' case changed. SES verifies only a value that matches the token exactly, including case; some DNS providers lowercase TXT values.",
		"Ask your DNS provider to keep the value's case, or move the zone to a provider that does. The value must be exactly \"{value}\"."},
	VerificationMangled: {SeverityError,
		"The record holds the token with extra characters around it, such as literal quotes or spaces entered with the value. SES needs the value to be the token alone (optionally prefixed with amazonses:).",
		"Edit the record so that its value is exactly {value}; at most providers, enter it without quotes."},
	VerificationOther: {SeverityError,
		"The record holds SES tokens, but not this instance's: they are the tokens of other accounts or regions. Each SES account and region that verifies the domain needs its own value in the record.",
		"Add \"{value}\" as another value of {name}; keep the values already there, which other accounts or regions need. If your provider allows only one value per name, you can verify twice at most: once at {name} and once on {domain} itself."},
	VerificationMultiple: {SeverityInfo,
		"The verification record has several values, one per SES account or region using the domain. This is how SES wants several instances set up.",
		""},
	VerificationCNAME: {SeverityWarning,
		"The verification name is a CNAME. A CNAME cannot coexist with other records at its name, so the values of other SES accounts or regions cannot be added there.",
		"Replace the CNAME with a TXT record holding the token(s)."},
	DKIMOK: {SeverityOK,
		"The three Easy DKIM CNAME records point at SES's keys.",
		""},
	DKIMMissing: {SeverityError,
		"Easy DKIM needs three CNAME records; SES marks DKIM verified only when it finds all three.",
		"Publish {name} CNAME {value}, and the others listed, each as a CNAME record."},
	DKIMWrongTarget: {SeverityError,
		"A DKIM CNAME points somewhere other than SES's key for its token, so receivers cannot find the key and SES does not verify DKIM.",
		"Make {name} a CNAME to {value}; enter the target with a final dot if your provider appends the domain to values."},
	DKIMAppended: {SeverityError,
		"The DKIM record is under the domain twice: your DNS provider appended the domain to the name you entered. SES looks only at {name}.",
		"Delete the record and create it again with the name \"<token>._domainkey\" alone, or the full name ending in a dot."},
	DKIMKeyMissing: {SeverityError,
		"The DKIM CNAME is right, but no DKIM key is published where it leads. SES marks DKIM verified from the CNAMEs alone; receivers follow them to the key, so every message signed with this token fails DKIM.",
		"The key at {name} belongs to the service that signs (SES's dkim.amazonses.com, or the DKIM zone a Sesame operator serves with --dns-listen). Check that the identity still exists there with these tokens, and that the DKIM zone is delegated to the servers that serve it. A Sesame server cannot publish keys in Amazon's dkim.amazonses.com: with that default its Easy DKIM identities send unsigned mail (a BYODKIM key still signs), and its operator must set --dkim-domain to a zone Sesame serves."},
	DKIMKeyMismatch: {SeverityError,
		"The DKIM CNAME is right, but where it leads a key is published that is not the one this instance signs with: the DKIM zone is served by other servers than the signer's (a stale copy, or a delegation to the wrong servers), so receivers fail the signatures.",
		"Delegate the DKIM zone to the servers that serve the signer's keys (for Sesame, its --dns-listen address) and remove other copies; {name} must publish {value}."},
	DKIMKeyInvalid: {SeverityError,
		"A DKIM key is published where the CNAME leads, but receivers cannot use it: it is revoked (empty p=), cut short, or not an RSA key, so every message signed with this token fails DKIM.",
		"The key at {name} is the signing service's to publish: for Sesame, rotate the token's key (sesame dkim rotate) or check what the DKIM zone serves; for SES, disable and enable Easy DKIM to get new tokens."},
	DKIMSelectorOK: {SeverityOK,
		"The BYODKIM selector's TXT record publishes the public half of the identity's own key.",
		""},
	DKIMSelectorMissing: {SeverityError,
		"With Bring Your Own DKIM the domain publishes its own key; SES (and Sesame) do not. Until {name} holds it, DKIM stays pending and mail is not signed.",
		"Publish {name} TXT {value} (the public half of the key given as DomainSigningPrivateKey), split into strings of at most 255 characters if your provider asks."},
	DKIMSelectorMismatch: {SeverityError,
		"The selector publishes a DKIM key, but not the public half of the private key the identity signs with: DKIM does not verify, and every message signed with it would fail DKIM.",
		"Replace the TXT record at {name} with {value}, or give the private key that matches the published one again (PutEmailIdentityDkimSigningAttributes, EXTERNAL)."},
	MailFromOK: {SeverityOK,
		"The MAIL FROM domain's only MX record points at SES's feedback endpoint for the region.",
		""},
	MailFromMissing: {SeverityError,
		"A custom MAIL FROM domain needs an MX record pointing at SES's feedback endpoint of the region; without it SES falls back to amazonses.com or rejects the mail, depending on the identity's setting.",
		"Publish {name} MX {value}."},
	MailFromWrongRegion: {SeverityError,
		"The MAIL FROM MX points at SES's endpoint of another region. Bounces and complaints go to the region of the MX, and SES does not verify the MAIL FROM domain in this one.",
		"Change the MX of {name} to {value}. To send from several regions, give each its own MAIL FROM domain."},
	MailFromWrongHost: {SeverityError,
		"The MAIL FROM MX points at a host that is not SES's feedback endpoint.",
		"Change the MX of {name} to {value}; enter the host with a final dot if your provider appends the domain to values."},
	MailFromMultiple: {SeverityError,
		"The MAIL FROM domain has more than one MX record. SES requires the one pointing at its feedback endpoint to be the only one; otherwise MAIL FROM setup fails.",
		"Keep only {name} MX {value}. The MAIL FROM domain must not receive other mail."},
	MailFromAppended: {SeverityError,
		"The MAIL FROM records are under the domain twice: your DNS provider appended the domain to the name you entered.",
		"Delete the records and create them again with the subdomain label alone, or the full name ending in a dot (\"{name}.\")."},
	MailFromCNAME: {SeverityWarning,
		"The MAIL FROM domain is a CNAME. A CNAME excludes every other record at the name, so its MX and SPF records must live at the target, which also decides what receivers see.",
		"Replace the CNAME with the MX and TXT records themselves."},
	MailFromNotSub: {SeverityError,
		"A MAIL FROM domain must be a subdomain of the identity's domain; SES refuses any other.",
		"Choose a subdomain of {domain}, such as mail.{domain}."},
	MailFromConflict: {SeverityError,
		"Instances in different regions use the same MAIL FROM domain, but its single MX can point at only one region's feedback endpoint.",
		"Give each region its own MAIL FROM subdomain (for example mail1.{domain} and mail2.{domain})."},
	SPFOK: {SeverityOK,
		"The SPF record is valid and authorises SES.",
		""},
	SPFMissing: {SeverityError,
		"The MAIL FROM domain has no SPF record, so receivers cannot tell that SES may send for it: SPF fails and cannot help DMARC.",
		"Publish {name} TXT \"{value}\"."},
	SPFMissingInclude: {SeverityError,
		"The SPF record does not authorise SES, so mail that SES sends with this MAIL FROM domain fails SPF.",
		"Add include:amazonses.com before the final all of {name}'s SPF record: \"{value}\"."},
	SPFMultiple: {SeverityError,
		"The name has more than one SPF record. RFC 7208 §4.5 makes that a permanent error: receivers treat SPF as failed whatever the records say.",
		"Merge them into one record that lists every mechanism once, with one final all."},
	SPFTooManyLookups: {SeverityError,
		"Evaluating the SPF record needs more than 10 DNS lookups (include, a, mx, ptr, exists, redirect), or more than 2 that find nothing. RFC 7208 §4.6.4 makes that a permanent error, so SPF fails for everyone.",
		"Remove includes you no longer need, replace a and mx mechanisms with ip4/ip6 ranges, or flatten nested includes."},
	SPFInvalid: {SeverityError,
		"The SPF record does not parse or cannot be evaluated (RFC 7208 §4.6), which receivers treat as a permanent error.",
		"Correct the record; check it with an SPF validator after each change."},
	SPFPassAll: {SeverityWarning,
		"The SPF record passes a documentation address (192.0.2.1) that nobody sends from, which means it authorises any host: +all or a very wide range. It protects nothing.",
		"End the record with ~all or -all and list only the hosts that send for the domain."},
	SPFLookupFailed: {SeverityWarning,
		"A DNS lookup needed to evaluate the SPF record failed temporarily, so it could not be checked fully. Receivers that hit the same failure give a temporary error.",
		"Check the name servers of the names the record includes, then run the doctor again."},
	DMARCOK: {SeverityOK,
		"The domain has one valid DMARC record.",
		""},
	DMARCMissing: {SeverityWarning,
		"The domain has no DMARC record (at _dmarc.{domain} or at its organisational domain). Large mailbox providers require one from bulk senders, and without it receivers apply their own policy.",
		"Publish _dmarc.{domain} TXT \"v=DMARC1; p=none; rua=mailto:dmarc-reports@{domain}\", then tighten p once reports look right."},
	DMARCInvalid: {SeverityError,
		"The DMARC record does not parse (RFC 7489 §6.3). Receivers ignore a record they cannot parse, as if there were none.",
		"Correct the record: it must start with v=DMARC1 and have a p= tag of none, quarantine or reject."},
	DMARCMultiple: {SeverityError,
		"The name has more than one DMARC record. RFC 7489 §6.6.3 tells receivers to apply no DMARC policy at all in that case.",
		"Keep one DMARC record."},
	DMARCPolicyNone: {SeverityInfo,
		"The DMARC policy is none: receivers report but do not act on failures.",
		"Once reports show that your mail passes, move to p=quarantine and then p=reject."},
	DMARCStrictSPF: {SeverityInfo,
		"The DMARC record asks for strict SPF alignment (aspf=s). A custom MAIL FROM domain is a subdomain, so SPF never aligns under strict mode; DMARC then relies on DKIM alone.",
		"Use relaxed SPF alignment (remove aspf=s) or make sure Easy DKIM is set up."},
	DMARCNotAligned: {SeverityError,
		"The domain's DMARC policy quarantines or rejects mail that fails DMARC, and this identity has neither Easy DKIM signing nor a custom MAIL FROM domain. Its mail from SES can align with neither DKIM nor SPF, so receivers will quarantine or reject it.",
		"Set up Easy DKIM for the identity (VerifyDomainDkim) and publish its three CNAMEs, or set a custom MAIL FROM domain."},
}

// Codes returns every code, sorted.
func Codes() []Code {
	cs := make([]Code, 0, len(catalogue))
	for c := range catalogue {
		cs = append(cs, c)
	}
	slices.Sort(cs)
	return cs
}

// Explain returns a code's default severity, explanation and fix.
func Explain(c Code) (sev Severity, explanation, fix string) {
	e := catalogue[c]
	return e.severity, e.explain, e.fix
}

// fill sets f's severity, explanation and fix from the catalogue, with the
// placeholders replaced.
func (f *Finding) fill(domain, region string) {
	e, ok := catalogue[f.Code]
	if !ok {
		panic("doctor: no catalogue entry for " + string(f.Code))
	}
	f.Severity = e.severity
	var name, value string
	if len(f.Records) > 0 {
		name, value = f.Records[0].Name, f.Records[0].Expected
	}
	r := strings.NewReplacer("{name}", name, "{value}", value, "{domain}", domain, "{region}", region)
	f.Explanation = r.Replace(e.explain)
	f.Fix = r.Replace(e.fix)
}
