package sesv2

import (
	"net/http"
	"strconv"

	"github.com/sesame/sesame/internal/api"
	"github.com/sesame/sesame/internal/identity"
	"github.com/sesame/sesame/internal/names"
	"github.com/sesame/sesame/internal/registry"
)

func (h *Handler) createEmailIdentity(r *request) (any, error) {
	var in createInput
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	o := registry.CreateOptions{ConfigurationSet: in.ConfigurationSetName}
	for _, t := range in.Tags {
		o.Tags = append(o.Tags, identity.Tag{Key: t.Key, Value: t.Value})
	}
	if d := in.DkimSigningAttributes; d != nil {
		o.DKIMAttributes = true
		o.KeyLength = d.NextSigningKeyLength
		o.Selector, o.PrivateKey, o.Origin = d.DomainSigningSelector, d.DomainSigningPrivateKey, d.DomainSigningAttributesOrigin
	}
	id, err := h.Registry.CreateEmailIdentity(r.ctx, r.scope, in.EmailIdentity, o)
	if err != nil {
		return nil, err
	}
	out := createOutput{IdentityType: identityType(id), VerifiedForSendingStatus: id.VerifiedForSending()}
	if id.IsDomain() {
		info, err := h.Registry.DKIMKeyInfo(r.ctx, id)
		if err != nil {
			return nil, err
		}
		out.DkimAttributes = dkimOut(id, registry.OwnDKIM(id), info)
	}
	return out, nil
}

// dkimOut is an identity's DkimAttributes; info is what its keys say
// (registry.DKIMKeyInfo): the next length is the identity's, the current
// one the length of the key that signs, which changes at a rotation.
func dkimOut(id *identity.Identity, v registry.DKIMView, info registry.KeyInfo) *dkimAttributes {
	d := &dkimAttributes{SigningEnabled: v.Enabled, Status: v.Status.V2(), Tokens: v.Tokens, SigningAttributesOrigin: identity.EasyDKIM}
	if id.IsDomain() && id.DKIM.External() {
		// BYODKIM: the selector is the one token (the model), the key
		// lengths are Easy DKIM's and not reported.
		d.SigningAttributesOrigin = identity.ExternalDKIM
		d.CurrentSigningKeyLength = info.CurrentLength
		d.LastKeyGenerationTimestamp = ts(info.LastGeneration)
	} else if id.IsDomain() && len(id.DKIM.Tokens) > 0 {
		if id.DKIM.ParentRegion() != "" {
			d.SigningAttributesOrigin = id.DKIM.Origin // a DEED replica: AWS_SES_<PARENT REGION>
		}
		d.NextSigningKeyLength = id.DKIM.KeyLength
		d.CurrentSigningKeyLength = info.CurrentLength
		d.LastKeyGenerationTimestamp = ts(info.LastGeneration)
	} else {
		d.NextSigningKeyLength = registry.DefaultKeyLength
	}
	return d
}

func (h *Handler) getEmailIdentity(r *request) (any, error) {
	id, err := h.Registry.Get(r.ctx, r.scope, r.name)
	if err != nil {
		return nil, err
	}
	v := registry.OwnDKIM(id)
	info, err := h.Registry.DKIMKeyInfo(r.ctx, id)
	if err != nil {
		return nil, err
	}
	out := getOutput{
		IdentityType:             identityType(id),
		FeedbackForwardingStatus: id.FeedbackForwardingStatus,
		VerifiedForSendingStatus: id.VerifiedForSending(),
		DkimAttributes:           dkimOut(id, v, info),
		MailFromAttributes:       mailFromAttributes{BehaviorOnMxFailure: id.MailFrom.Behavior.V2()},
		Policies:                 policiesOut(id.Policies),
		Tags:                     tagsOut(id.Tags),
		ConfigurationSetName:     id.ConfigurationSet,
		VerificationStatus:       id.Status().V2(),
		VerificationInfo:         infoOut(id),
	}
	if id.MailFrom.Domain != "" {
		out.MailFromAttributes.MailFromDomain = id.MailFrom.Domain
		out.MailFromAttributes.MailFromDomainStatus = id.MailFrom.Check.Status.V2()
	}
	return out, nil
}

// infoOut is VerificationInfo, from the check that decides the status.
func infoOut(id *identity.Identity) verificationInfo {
	c := id.StatusCheck()
	info := verificationInfo{LastCheckedTimestamp: ts(c.LastChecked), LastSuccessTimestamp: ts(c.LastSuccess), ErrorType: string(c.ErrorType)}
	if c.SOA != nil {
		info.SOARecord = &soaRecord{PrimaryNameServer: c.SOA.PrimaryNameServer, AdminEmail: c.SOA.AdminEmail, SerialNumber: c.SOA.SerialNumber}
	}
	return info
}

func (h *Handler) listEmailIdentities(r *request) (any, error) {
	q := registry.ListQuery{Limit: 100}
	var pageSize *int
	if r.http.Method == http.MethodPost {
		var in struct {
			Filter    map[string]string
			NextToken string
			PageSize  *int
		}
		if err := r.decode(&in); err != nil {
			return nil, err
		}
		q.NextToken, pageSize = in.NextToken, in.PageSize
		if err := applyFilter(&q, in.Filter); err != nil {
			return nil, err
		}
	} else {
		v := r.http.URL.Query()
		q.NextToken = v.Get("NextToken")
		if s := v.Get("PageSize"); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil {
				return nil, api.Errorf(http.StatusBadRequest, "BadRequestException", "Invalid PageSize %q: use a whole number from 0 to 1000.", s)
			}
			pageSize = &n
		}
	}
	// PageSize 0-1000 in the model; 0 or absent takes the default, 100
	// (SES's default is unconfirmed).
	if pageSize != nil {
		if *pageSize < 0 || *pageSize > 1000 {
			return nil, api.Errorf(http.StatusBadRequest, "BadRequestException", "Invalid PageSize %d: use a whole number from 0 to 1000.", *pageSize)
		}
		if *pageSize > 0 {
			q.Limit = *pageSize
		}
	}
	ids, next, err := h.Registry.List(r.ctx, r.scope, q)
	if err != nil {
		return nil, err
	}
	out := listOutput{EmailIdentities: make([]identityInfo, 0, len(ids)), NextToken: next}
	for _, id := range ids {
		out.EmailIdentities = append(out.EmailIdentities, identityInfo{
			IdentityType: identityType(id), IdentityName: id.Name,
			SendingEnabled: id.VerifiedForSending(), VerificationStatus: id.Status().V2(),
		})
	}
	return out, nil
}

// applyFilter reads ListEmailIdentities' Filter map.
func applyFilter(q *registry.ListQuery, f map[string]string) error {
	for k, v := range f {
		switch k {
		case "IDENTITY_NAME_CONTAINS":
			q.NameContains = v
		case "IDENTITY_TYPE":
			switch v {
			case "DOMAIN":
				q.Kind = names.KindDomain
			case "EMAIL_ADDRESS":
				q.Kind = names.KindEmail
			default:
				return api.Errorf(http.StatusBadRequest, "BadRequestException", "Invalid IDENTITY_TYPE filter %q: use DOMAIN or EMAIL_ADDRESS.", v)
			}
		case "VERIFICATION_STATUS":
			s, ok := statusV1[v]
			if !ok {
				return api.Errorf(http.StatusBadRequest, "BadRequestException", "Invalid VERIFICATION_STATUS filter %q: use PENDING, SUCCESS, FAILED, TEMPORARY_FAILURE or NOT_STARTED.", v)
			}
			q.Status = s
		default:
			return api.Errorf(http.StatusBadRequest, "BadRequestException", "Unknown filter %q: use IDENTITY_NAME_CONTAINS, IDENTITY_TYPE or VERIFICATION_STATUS.", k)
		}
	}
	return nil
}

var statusV1 = map[string]identity.Status{
	"PENDING": identity.Pending, "SUCCESS": identity.Success, "FAILED": identity.Failed,
	"TEMPORARY_FAILURE": identity.TemporaryFailure, "NOT_STARTED": identity.NotStarted,
}

func (h *Handler) deleteEmailIdentity(r *request) (any, error) {
	ok, err := h.Registry.Delete(r.ctx, r.scope, r.name)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, api.Errorf(http.StatusNotFound, "NotFoundException", "Email identity %s does not exist.", r.name)
	}
	return struct{}{}, nil
}

func (h *Handler) putDkimAttributes(r *request) (any, error) {
	var in struct{ SigningEnabled *bool }
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	on := in.SigningEnabled != nil && *in.SigningEnabled
	// The same change as v1 SetIdentityDkimEnabled, for an address too.
	if _, err := h.Registry.SetDKIMEnabled(r.ctx, r.scope, r.name, on); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

// putDkimSigningAttributes serves Easy DKIM (origin AWS_SES) and BYODKIM
// (EXTERNAL). DKIM replication (AWS_SES_<REGION>) is refused: a replica is
// made by CreateEmailIdentity.
func (h *Handler) putDkimSigningAttributes(r *request) (any, error) {
	var in struct {
		SigningAttributesOrigin string
		SigningAttributes       *dkimSigningAttributes
	}
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	switch in.SigningAttributesOrigin {
	case "":
		return nil, api.Errorf(http.StatusBadRequest, "BadRequestException", "SigningAttributesOrigin is required: use AWS_SES for Easy DKIM.")
	case identity.EasyDKIM, identity.ExternalDKIM:
	default:
		return nil, api.Errorf(http.StatusBadRequest, "BadRequestException", "SigningAttributesOrigin %q is not supported here: DKIM replication (AWS_SES_<REGION>) is set when the identity is created (CreateEmailIdentity with DkimSigningAttributes.DomainSigningAttributesOrigin); use AWS_SES for Easy DKIM or EXTERNAL for your own key.", in.SigningAttributesOrigin)
	}
	a := in.SigningAttributes
	if a == nil {
		a = &dkimSigningAttributes{}
	}
	if a.DomainSigningAttributesOrigin != "" {
		// The model: "None of the values are allowed" here.
		return nil, api.Errorf(http.StatusBadRequest, "BadRequestException", "SigningAttributes.DomainSigningAttributesOrigin is not allowed in PutEmailIdentityDkimSigningAttributes: give the origin as SigningAttributesOrigin.")
	}
	var id *identity.Identity
	var err error
	if in.SigningAttributesOrigin == identity.ExternalDKIM {
		if a.NextSigningKeyLength != "" {
			return nil, api.Errorf(http.StatusBadRequest, "BadRequestException", "NextSigningKeyLength is for Easy DKIM (AWS_SES): leave it out with EXTERNAL.")
		}
		id, err = h.Registry.SetExternalDKIM(r.ctx, r.scope, r.name, a.DomainSigningSelector, a.DomainSigningPrivateKey)
	} else {
		if a.DomainSigningSelector != "" || a.DomainSigningPrivateKey != "" {
			return nil, api.Errorf(http.StatusBadRequest, "BadRequestException", "DomainSigningSelector and DomainSigningPrivateKey are for Bring Your Own DKIM: give SigningAttributesOrigin EXTERNAL with them, or only NextSigningKeyLength for Easy DKIM (AWS_SES).")
		}
		id, err = h.Registry.SetEasyDKIM(r.ctx, r.scope, r.name, a.NextSigningKeyLength)
	}
	if err != nil {
		return nil, err
	}
	return dkimSigningOutput{DkimStatus: id.DKIM.Check.Status.V2(), DkimTokens: id.DKIM.Tokens}, nil
}

func (h *Handler) putMailFromAttributes(r *request) (any, error) {
	var in struct {
		MailFromDomain      string
		BehaviorOnMxFailure string
	}
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	switch in.BehaviorOnMxFailure {
	case "", "USE_DEFAULT_VALUE", "REJECT_MESSAGE":
	default:
		return nil, api.Errorf(http.StatusBadRequest, "BadRequestException", "Invalid BehaviorOnMxFailure %q: use USE_DEFAULT_VALUE or REJECT_MESSAGE.", in.BehaviorOnMxFailure)
	}
	if _, err := h.Registry.SetMailFrom(r.ctx, r.scope, r.name, in.MailFromDomain, in.BehaviorOnMxFailure); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}
