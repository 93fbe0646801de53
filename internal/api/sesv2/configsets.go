package sesv2

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/sesame/sesame/internal/api"
	"github.com/sesame/sesame/internal/identity"
)

// Configuration sets and tags:
//
//	POST   /v2/email/configuration-sets                        Create
//	GET    /v2/email/configuration-sets                        List
//	GET    /v2/email/configuration-sets/{ConfigurationSetName} Get
//	DELETE /v2/email/configuration-sets/{ConfigurationSetName} Delete
//	POST   /v2/email/tags                                      TagResource
//	DELETE /v2/email/tags?ResourceArn=...&TagKeys=...          UntagResource
//	GET    /v2/email/tags?ResourceArn=...                      ListTagsForResource
const (
	configSetsPath = "/v2/email/configuration-sets"
	tagsPath       = "/v2/email/tags"
)

// routeResources is route for the paths above; ok is false for any other.
func routeResources(method, escapedPath string) (name string, op operation, param string, ok bool, err error) {
	// Newer SDKs list with a POST and a JSON body, as for identities.
	if escapedPath == "/v2/email/list-configuration-sets" && method == http.MethodPost {
		return "ListConfigurationSets", (*Handler).listConfigurationSets, "", true, nil
	}
	if strings.TrimSuffix(escapedPath, "/") == tagsPath {
		switch method {
		case http.MethodPost:
			return "TagResource", (*Handler).tagResource, "", true, nil
		case http.MethodDelete:
			return "UntagResource", (*Handler).untagResource, "", true, nil
		case http.MethodGet:
			return "ListTagsForResource", (*Handler).listTagsForResource, "", true, nil
		}
		return "", nil, "", true, errUnknownOperation(method, escapedPath)
	}
	rest, found := strings.CutPrefix(escapedPath, configSetsPath)
	if !found || (rest != "" && rest[0] != '/') {
		return "", nil, "", false, nil
	}
	if rest == "" || rest == "/" {
		switch method {
		case http.MethodPost:
			return "CreateConfigurationSet", (*Handler).createConfigurationSet, "", true, nil
		case http.MethodGet:
			return "ListConfigurationSets", (*Handler).listConfigurationSets, "", true, nil
		}
		return "", nil, "", true, errUnknownOperation(method, escapedPath)
	}
	cn, uerr := url.PathUnescape(rest[1:])
	if uerr != nil || cn == "" || strings.Contains(cn, "/") {
		return "", nil, "", true, errUnknownOperation(method, escapedPath)
	}
	switch method {
	case http.MethodGet:
		return "GetConfigurationSet", (*Handler).getConfigurationSet, cn, true, nil
	case http.MethodDelete:
		return "DeleteConfigurationSet", (*Handler).deleteConfigurationSet, cn, true, nil
	}
	return "", nil, "", true, errUnknownOperation(method, escapedPath)
}

// configSetOptions are the members of CreateConfigurationSet kept as
// given and returned by GetConfigurationSet: Sesame sends no events and
// tracks nothing, but a client reads back what it set.
var configSetOptions = []string{"TrackingOptions", "DeliveryOptions", "ReputationOptions", "SendingOptions", "SuppressionOptions", "VdmOptions", "ArchivingOptions"}

func tagsIn(ts []tag) []identity.Tag {
	var out []identity.Tag
	for _, t := range ts {
		out = append(out, identity.Tag{Key: t.Key, Value: t.Value})
	}
	return out
}

func (h *Handler) createConfigurationSet(r *request) (any, error) {
	var in struct {
		ConfigurationSetName string
		Tags                 []tag
	}
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	if in.ConfigurationSetName == "" {
		return nil, api.Errorf(http.StatusBadRequest, "BadRequestException", "ConfigurationSetName is required.")
	}
	var all map[string]json.RawMessage
	if err := r.decode(&all); err != nil {
		return nil, err
	}
	opts := map[string]json.RawMessage{}
	for _, k := range configSetOptions {
		if v, ok := all[k]; ok {
			var obj map[string]json.RawMessage
			if json.Unmarshal(v, &obj) != nil {
				return nil, api.Errorf(http.StatusBadRequest, "BadRequestException", "Invalid request body: %s must be an object.", k)
			}
			opts[k] = v
		}
	}
	var raw []byte
	if len(opts) > 0 {
		raw, _ = json.Marshal(opts)
	}
	if _, err := h.Registry.CreateConfigSet(r.ctx, r.scope, in.ConfigurationSetName, tagsIn(in.Tags), raw); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

func (h *Handler) getConfigurationSet(r *request) (any, error) {
	c, err := h.Registry.GetConfigSet(r.ctx, r.scope, r.name)
	if err != nil {
		return nil, err
	}
	out := map[string]any{"ConfigurationSetName": c.Name, "Tags": tagsOut(c.Tags)}
	if len(c.Options) > 0 {
		var opts map[string]json.RawMessage
		if err := json.Unmarshal(c.Options, &opts); err != nil {
			return nil, err
		}
		for k, v := range opts {
			out[k] = v
		}
	}
	return out, nil
}

func (h *Handler) listConfigurationSets(r *request) (any, error) {
	var in struct {
		NextToken string
		PageSize  *int
	}
	if r.http.Method == http.MethodPost {
		if err := r.decode(&in); err != nil {
			return nil, err
		}
	} else {
		v := r.http.URL.Query()
		in.NextToken = v.Get("NextToken")
		if s := v.Get("PageSize"); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil {
				return nil, api.Errorf(http.StatusBadRequest, "BadRequestException", "Invalid PageSize %q: use a whole number from 0 to 1000.", s)
			}
			in.PageSize = &n
		}
	}
	// PageSize 0-1000; 0 or absent: 100, as ListEmailIdentities.
	limit := 100
	if p := in.PageSize; p != nil {
		if *p < 0 || *p > 1000 {
			return nil, api.Errorf(http.StatusBadRequest, "BadRequestException", "Invalid PageSize %d: use a whole number from 0 to 1000.", *p)
		}
		if *p > 0 {
			limit = *p
		}
	}
	names, next, err := h.Registry.ListConfigSets(r.ctx, r.scope, in.NextToken, limit)
	if err != nil {
		return nil, err
	}
	return struct {
		ConfigurationSets []string
		NextToken         string `json:",omitempty"`
	}{names, next}, nil
}

func (h *Handler) deleteConfigurationSet(r *request) (any, error) {
	if err := h.Registry.DeleteConfigSet(r.ctx, r.scope, r.name); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

func (h *Handler) tagResource(r *request) (any, error) {
	var in struct {
		ResourceArn string
		Tags        []tag
	}
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	if in.ResourceArn == "" {
		return nil, api.Errorf(http.StatusBadRequest, "BadRequestException", "ResourceArn is required.")
	}
	if err := h.Registry.TagResource(r.ctx, r.scope, in.ResourceArn, tagsIn(in.Tags)); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

// resourceArn is the ResourceArn of the query string, which UntagResource
// and ListTagsForResource require.
func (r *request) resourceArn() (string, error) {
	arn := r.http.URL.Query().Get("ResourceArn")
	if arn == "" {
		return "", api.Errorf(http.StatusBadRequest, "BadRequestException", "ResourceArn is required: give the resource's ARN in the query string.")
	}
	return arn, nil
}

func (h *Handler) untagResource(r *request) (any, error) {
	arn, err := r.resourceArn()
	if err != nil {
		return nil, err
	}
	if err := h.Registry.UntagResource(r.ctx, r.scope, arn, r.http.URL.Query()["TagKeys"]); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

func (h *Handler) listTagsForResource(r *request) (any, error) {
	arn, err := r.resourceArn()
	if err != nil {
		return nil, err
	}
	ts, err := h.Registry.ListTags(r.ctx, r.scope, arn)
	if err != nil {
		return nil, err
	}
	return struct{ Tags []tag }{tagsOut(ts)}, nil
}
