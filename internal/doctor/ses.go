package doctor

import (
	"cmp"
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	"github.com/aws/aws-sdk-go-v2/service/ses/types"

	"github.com/sesame/sesame/internal/redact"
)

// SES is the part of the SES v1 API the doctor reads; *ses.Client has it.
type SES interface {
	GetIdentityVerificationAttributes(context.Context, *ses.GetIdentityVerificationAttributesInput, ...func(*ses.Options)) (*ses.GetIdentityVerificationAttributesOutput, error)
	GetIdentityDkimAttributes(context.Context, *ses.GetIdentityDkimAttributesInput, ...func(*ses.Options)) (*ses.GetIdentityDkimAttributesOutput, error)
	GetIdentityMailFromDomainAttributes(context.Context, *ses.GetIdentityMailFromDomainAttributesInput, ...func(*ses.Options)) (*ses.GetIdentityMailFromDomainAttributesOutput, error)
}

// Source is one SES instance, an account in a region, to read expected
// values from.
type Source struct {
	Label  string
	Region string
	API    SES
	// endpoint is the URL as given, whose password (user:password@) is
	// masked in every error that might quote it.
	endpoint string
}

// SourceSpec says how to reach an instance. Empty fields mean the SDK's
// defaults: the standard credential chain (environment, shared files,
// SSO, instance roles), the region it finds, and AWS's endpoint.
type SourceSpec struct {
	Label    string // defaults to PROFILE@REGION or ENDPOINT@REGION
	Profile  string // of the shared config and credentials files
	Region   string
	Endpoint string // an SES-compatible endpoint URL, such as a Sesame
}

// NewSource builds the client of one instance with aws-sdk-go-v2.
func NewSource(ctx context.Context, spec SourceSpec) (Source, error) {
	if spec.Endpoint != "" {
		u, err := url.Parse(spec.Endpoint)
		if err != nil {
			return Source{}, fmt.Errorf("endpoint URL %q: %v; want an absolute http or https URL, such as http://127.0.0.1:8080", redact.String(spec.Endpoint), redact.ParseError(err))
		}
		if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return Source{}, fmt.Errorf("endpoint URL %q: want an absolute http or https URL, such as http://127.0.0.1:8080", redact.URL(u))
		}
	}
	var opts []func(*awsconfig.LoadOptions) error
	if spec.Profile != "" {
		opts = append(opts, awsconfig.WithSharedConfigProfile(spec.Profile))
	}
	if spec.Region != "" {
		opts = append(opts, awsconfig.WithRegion(spec.Region))
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return Source{}, fmt.Errorf("loading the AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		return Source{}, fmt.Errorf("no region for profile %q: give one with --region, PROFILE@REGION or AWS_REGION", cmp.Or(spec.Profile, "default"))
	}
	client := ses.NewFromConfig(cfg, func(o *ses.Options) {
		if spec.Endpoint != "" {
			o.BaseEndpoint = aws.String(spec.Endpoint)
		}
	})
	label := spec.Label
	if label == "" {
		label = cmp.Or(redact.String(spec.Endpoint), spec.Profile, "default") + "@" + cfg.Region
	}
	return Source{Label: label, Region: cfg.Region, API: client, endpoint: spec.Endpoint}, nil
}

// maxIdentities is the most identities one Get*Attributes call takes.
const maxIdentities = 100

// Fetch reads what src expects for each identity (canonical names, as
// names.Identity returns them), 100 per call. Identities src does not
// have come back Missing.
func Fetch(ctx context.Context, src Source, identities []string) (map[string]Instance, error) {
	out, err := fetch(ctx, src, identities)
	return out, redact.Error(err, src.endpoint)
}

func fetch(ctx context.Context, src Source, identities []string) (map[string]Instance, error) {
	out := make(map[string]Instance, len(identities))
	for start := 0; start < len(identities); start += maxIdentities {
		chunk := identities[start:min(start+maxIdentities, len(identities))]
		v, err := src.API.GetIdentityVerificationAttributes(ctx, &ses.GetIdentityVerificationAttributesInput{Identities: chunk})
		if err != nil {
			return nil, fmt.Errorf("%s: GetIdentityVerificationAttributes: %w", src.Label, err)
		}
		k, err := src.API.GetIdentityDkimAttributes(ctx, &ses.GetIdentityDkimAttributesInput{Identities: chunk})
		if err != nil {
			return nil, fmt.Errorf("%s: GetIdentityDkimAttributes: %w", src.Label, err)
		}
		m, err := src.API.GetIdentityMailFromDomainAttributes(ctx, &ses.GetIdentityMailFromDomainAttributesInput{Identities: chunk})
		if err != nil {
			return nil, fmt.Errorf("%s: GetIdentityMailFromDomainAttributes: %w", src.Label, err)
		}
		if err := domainDKIM(ctx, src, chunk, k.DkimAttributes); err != nil {
			return nil, err
		}
		for _, id := range chunk {
			in := Instance{Label: src.Label, Region: src.Region, FromSES: true, Status: &Status{}}
			va, okV := v.VerificationAttributes[id]
			ka, okK := k.DkimAttributes[id]
			ma, okM := m.MailFromDomainAttributes[id]
			// SES leaves identities it does not have out of the maps.
			if !okV && !okK && !okM {
				out[id] = Instance{Label: src.Label, Region: src.Region, FromSES: true, Missing: true}
				continue
			}
			in.Token = aws.ToString(va.VerificationToken)
			in.Status.Verification = string(va.VerificationStatus)
			in.DKIMTokens = ka.DkimTokens
			in.Status.DKIM = string(ka.DkimVerificationStatus)
			in.Status.DKIMEnabled = ka.DkimEnabled
			in.MailFrom = aws.ToString(ma.MailFromDomain)
			in.Status.MailFrom = string(ma.MailFromDomainStatus)
			out[id] = in
		}
	}
	return out, nil
}

// domainDKIM puts in dkim, for each address of ids without DKIM tokens of
// its own, its domain's DKIM: SES reports an address's own Easy DKIM
// (NotStarted, no tokens, as the model's GetIdentityDkimAttributes example
// shows), while its mail is signed with its domain's keys, whose records
// the doctor checks.
func domainDKIM(ctx context.Context, src Source, ids []string, dkim map[string]types.IdentityDkimAttributes) error {
	var domains []string
	for _, id := range ids {
		a, ok := dkim[id]
		if i := strings.LastIndexByte(id, '@'); i >= 0 && ok && len(a.DkimTokens) == 0 && !slices.Contains(domains, id[i+1:]) {
			domains = append(domains, id[i+1:])
		}
	}
	if len(domains) == 0 {
		return nil
	}
	k, err := src.API.GetIdentityDkimAttributes(ctx, &ses.GetIdentityDkimAttributesInput{Identities: domains})
	if err != nil {
		return fmt.Errorf("%s: GetIdentityDkimAttributes: %w", src.Label, err)
	}
	for _, id := range ids {
		if i := strings.LastIndexByte(id, '@'); i >= 0 && len(dkim[id].DkimTokens) == 0 {
			if d, ok := k.DkimAttributes[id[i+1:]]; ok {
				dkim[id] = d
			}
		}
	}
	return nil
}
