package registry

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/sesame/sesame/internal/identity"
	"github.com/sesame/sesame/internal/store"
)

// The limits of sending-authorization policies (SES Developer Guide,
// "Sending authorization policy anatomy"; the models' Policy shape: "The
// policy cannot exceed 4 KB"; PolicyName: "cannot exceed 64 characters and
// can only include alphanumeric characters, dashes, and underscores").
const (
	MaxPolicies   = 20
	MaxPolicySize = 4096
)

var policyName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// SendActions are the actions a sending-authorization policy can allow.
var SendActions = []string{"ses:SendEmail", "ses:SendRawEmail", "ses:SendTemplatedEmail", "ses:SendBulkTemplatedEmail"}

// statement is one statement of a policy, its lists normalised.
type statement struct {
	Sid       string
	Effect    string // Allow or Deny
	AWS       []string
	Service   []string
	Actions   []string
	Resources []string
	// Conditional: the statement has a Condition block, which Sesame
	// does not evaluate (MaySend treats it as not allowing and as
	// denying, so a condition never grants more than SES would).
	Conditional bool
}

func checkPolicyName(name string) error {
	if !policyName.MatchString(name) {
		return errorf(Invalid, "Invalid PolicyName %q: use 1 to 64 letters, digits, '-' or '_'.", name)
	}
	return nil
}

func policyErr(format string, a ...any) error { return errorf(InvalidPolicy, format, a...) }

// strings reads a member that is a string or a list of strings.
func stringsOf(raw json.RawMessage, what string) ([]string, error) {
	var one string
	if err := json.Unmarshal(raw, &one); err == nil {
		return []string{one}, nil
	}
	var many []string
	if err := json.Unmarshal(raw, &many); err != nil || len(many) == 0 {
		return nil, policyErr("Invalid policy: %s must be a string or a non-empty list of strings.", what)
	}
	return many, nil
}

// parsePolicy validates a policy document for the identity k as SES does:
// at most 4 KB of JSON, Version 2012-10-17 or 2008-10-17, and statements
// with Effect, Principal, Action (sending actions) and Resource (this
// identity's ARN).
func parsePolicy(k identity.Key, doc string) ([]statement, error) {
	if len(doc) > MaxPolicySize {
		return nil, policyErr("Policy is %d bytes, more than the limit of %d (4 KB): shorten it, or split it into several policies.", len(doc), MaxPolicySize)
	}
	var top map[string]json.RawMessage
	d := json.NewDecoder(bytes.NewReader([]byte(doc)))
	if err := d.Decode(&top); err != nil || d.More() || top == nil {
		msg := "it must be one JSON object"
		if err != nil {
			msg = err.Error()
		}
		return nil, policyErr("Policy is not valid JSON: %s.", msg)
	}
	var version string
	if err := json.Unmarshal(top["Version"], &version); err != nil || (version != "2012-10-17" && version != "2008-10-17") {
		return nil, policyErr("Invalid policy: Version must be \"2012-10-17\" or \"2008-10-17\".")
	}
	raw, ok := top["Statement"]
	if !ok {
		return nil, policyErr("Invalid policy: it has no Statement; add at least one.")
	}
	var list []map[string]json.RawMessage
	if err := json.Unmarshal(raw, &list); err != nil {
		var one map[string]json.RawMessage
		if err := json.Unmarshal(raw, &one); err != nil || one == nil {
			return nil, policyErr("Invalid policy: Statement must be an object or a list of objects.")
		}
		list = []map[string]json.RawMessage{one}
	}
	if len(list) == 0 {
		return nil, policyErr("Invalid policy: Statement is empty; add at least one.")
	}
	arn := IdentityARN(k)
	sids := map[string]bool{}
	var out []statement
	for i, m := range list {
		st, err := parseStatement(m, arn)
		if err != nil {
			return nil, wrapf(InvalidPolicy, err, "Invalid policy, statement %d: %s", i+1, err.Error())
		}
		if st.Sid != "" && sids[st.Sid] {
			return nil, policyErr("Invalid policy: Sid %q is used by two statements; give each statement its own.", st.Sid)
		}
		sids[st.Sid] = true
		out = append(out, st)
	}
	return out, nil
}

func parseStatement(m map[string]json.RawMessage, arn string) (statement, error) {
	var st statement
	fail := func(format string, a ...any) (statement, error) { return statement{}, policyErr(format, a...) }
	for k := range m {
		switch k {
		case "Sid", "Effect", "Principal", "Action", "Resource", "Condition":
		case "NotPrincipal", "NotAction", "NotResource":
			return fail("%s is not supported in sending-authorization policies; use Principal, Action and Resource.", k)
		default:
			return fail("unknown member %q; a statement has Sid, Effect, Principal, Action, Resource and Condition.", k)
		}
	}
	if raw, ok := m["Sid"]; ok {
		if err := json.Unmarshal(raw, &st.Sid); err != nil {
			return fail("Sid must be a string.")
		}
	}
	if err := json.Unmarshal(m["Effect"], &st.Effect); err != nil || (st.Effect != "Allow" && st.Effect != "Deny") {
		return fail("Effect must be \"Allow\" or \"Deny\".")
	}
	p, ok := m["Principal"]
	if !ok {
		return fail("it has no Principal: name the AWS accounts allowed, such as {\"AWS\": \"123456789012\"}.")
	}
	var star string
	if json.Unmarshal(p, &star) == nil {
		if star != "*" {
			return fail("Principal must be \"*\" or an object such as {\"AWS\": \"123456789012\"}.")
		}
		st.AWS = []string{"*"}
	} else {
		var pm map[string]json.RawMessage
		if err := json.Unmarshal(p, &pm); err != nil || len(pm) == 0 {
			return fail("Principal must be \"*\" or an object such as {\"AWS\": \"123456789012\"}.")
		}
		for k, v := range pm {
			vs, err := stringsOf(v, "Principal."+k)
			if err != nil {
				return statement{}, err
			}
			switch k {
			case "AWS":
				st.AWS = vs
			case "Service":
				st.Service = vs
			default:
				return fail("Principal %q is not supported: use AWS (accounts, IAM ARNs) or Service.", k)
			}
		}
	}
	var err error
	if _, ok := m["Action"]; !ok {
		return fail("it has no Action: name the sending actions, such as \"ses:SendEmail\".")
	}
	if st.Actions, err = stringsOf(m["Action"], "Action"); err != nil {
		return statement{}, err
	}
	for _, a := range st.Actions {
		if !slices.ContainsFunc(SendActions, func(s string) bool { return glob(a, s, true) }) {
			return fail("Action %q is not a sending action: use %s (or a wildcard such as ses:Send*).", a, strings.Join(SendActions, ", "))
		}
	}
	if _, ok := m["Resource"]; !ok {
		return fail("it has no Resource: use this identity's ARN, %s.", arn)
	}
	if st.Resources, err = stringsOf(m["Resource"], "Resource"); err != nil {
		return statement{}, err
	}
	for _, r := range st.Resources {
		if !glob(r, arn, false) {
			return fail("Resource %q is not this identity: use its ARN, %s.", r, arn)
		}
	}
	if c, ok := m["Condition"]; ok {
		var cm map[string]json.RawMessage
		if err := json.Unmarshal(c, &cm); err != nil {
			return fail("Condition must be an object, such as {\"StringEquals\": {\"ses:FromAddress\": \"a@example.com\"}}.")
		}
		st.Conditional = len(cm) > 0
	}
	return st, nil
}

// glob matches s against pattern, where * is any run of characters and ?
// any one, as IAM matches actions (case-insensitive) and resources. It
// backtracks only to the last star, so a pattern of many stars costs
// len(pattern)*len(s) at worst, not an exponential search.
func glob(pattern, s string, fold bool) bool {
	if fold {
		pattern, s = strings.ToLower(pattern), strings.ToLower(s)
	}
	p, i := 0, 0
	star, mark := -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == s[i]):
			p++
			i++
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case star >= 0:
			p = star + 1
			mark++
			i = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// PolicyMode says what PutPolicy may do.
type PolicyMode int

const (
	PolicyUpsert PolicyMode = iota // v1 PutIdentityPolicy: create or replace
	PolicyCreate                   // v2 CreateEmailIdentityPolicy: AlreadyExists if there is one
	PolicyUpdate                   // v2 UpdateEmailIdentityPolicy: NotFound if there is none
)

// PutPolicy stores a sending-authorization policy of an identity, after
// validating its name and document. An identity holds at most 20.
func (r *Registry) PutPolicy(ctx context.Context, sc Scope, name, policy, doc string, mode PolicyMode) error {
	if err := checkPolicyName(policy); err != nil {
		return err
	}
	if doc == "" {
		return errorf(Invalid, "Policy is required: give the policy document as JSON.")
	}
	name, err := nameOrARN(sc, name)
	if err != nil {
		return err
	}
	_, err = r.editIdentity(ctx, sc, name, func(cur *identity.Identity) error {
		if _, err := parsePolicy(cur.Key, doc); err != nil {
			return err
		}
		_, exists := cur.Policies[policy]
		switch {
		case mode == PolicyCreate && exists:
			return errorf(AlreadyExists, "Policy %s already exists for identity %s: use UpdateEmailIdentityPolicy to change it.", policy, cur.Name)
		case mode == PolicyUpdate && !exists:
			return errorf(NotFound, "Policy %s does not exist for identity %s: use CreateEmailIdentityPolicy to add it.", policy, cur.Name)
		case !exists && len(cur.Policies) >= MaxPolicies:
			return errorf(LimitExceeded, "Identity %s already has %d policies, the most it may have: delete one, or add statements to one of them.", cur.Name, MaxPolicies)
		}
		if cur.Policies == nil {
			cur.Policies = map[string]string{}
		}
		cur.Policies[policy] = doc
		return nil
	})
	return err
}

// IdentityPolicies returns an identity's policies by name: all of them, or only
// those among only that exist (v1 GetIdentityPolicies, at most 20 names).
func (r *Registry) IdentityPolicies(ctx context.Context, sc Scope, name string, only []string) (map[string]string, error) {
	if len(only) > MaxPolicies {
		return nil, errorf(Invalid, "Too many PolicyNames: %d given, at most %d.", len(only), MaxPolicies)
	}
	for _, p := range only {
		if err := checkPolicyName(p); err != nil {
			return nil, err
		}
	}
	name, err := nameOrARN(sc, name)
	if err != nil {
		return nil, err
	}
	id, err := r.Get(ctx, sc, name)
	if err != nil {
		return nil, err
	}
	if only == nil {
		return maps.Clone(id.Policies), nil
	}
	out := map[string]string{}
	for _, p := range only {
		if d, ok := id.Policies[p]; ok {
			out[p] = d
		}
	}
	return out, nil
}

// PolicyNames lists an identity's policy names in order.
func (r *Registry) PolicyNames(ctx context.Context, sc Scope, name string) ([]string, error) {
	ps, err := r.IdentityPolicies(ctx, sc, name, nil)
	if err != nil {
		return nil, err
	}
	return slices.Sorted(maps.Keys(ps)), nil
}

// DeletePolicy removes a policy. v1 deletes are idempotent (mustExist
// false); v2's answer NotFound for a policy that is not there.
func (r *Registry) DeletePolicy(ctx context.Context, sc Scope, name, policy string, mustExist bool) error {
	if err := checkPolicyName(policy); err != nil {
		return err
	}
	name, err := nameOrARN(sc, name)
	if err != nil {
		return err
	}
	_, err = r.editIdentity(ctx, sc, name, func(cur *identity.Identity) error {
		if _, ok := cur.Policies[policy]; !ok && mustExist {
			return wrapf(NotFound, store.ErrNotFound, "Policy %s does not exist for identity %s.", policy, cur.Name)
		}
		delete(cur.Policies, policy)
		return nil
	})
	return err
}
