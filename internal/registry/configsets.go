package registry

import (
	"context"
	"encoding/base64"
	"errors"
	"strings"

	"github.com/sesame/sesame/internal/identity"
	"github.com/sesame/sesame/internal/store"
)

// MaxConfigSets is SES's quota of configuration sets per account and
// region.
const MaxConfigSets = 10000

var errNoConfigSets = errors.New("configuration sets are not configured on this server")

func (sc Scope) configSet(name string) store.ConfigSetKey {
	return store.ConfigSetKey{Account: sc.Account, Region: sc.Region, Name: name}
}

func configSetNotFound(name string) error {
	return wrapf(ConfigSetNotFound, store.ErrNotFound, "Configuration set %s does not exist: create it first (CreateConfigurationSet), or check its name and region.", name)
}

// checkConfigSetName applies SES's rule: 1 to 64 ASCII letters, digits,
// underscores or dashes (the same as template names).
func checkConfigSetName(name string) error {
	if !templateNameRE.MatchString(name) {
		return errorf(Invalid, "Invalid ConfigurationSetName %q: use 1 to 64 letters, digits, underscores or dashes.", name)
	}
	return nil
}

// encodePage and decodePage are the NextToken of a list in name order: the
// last name of the page, marked with the kind of list it belongs to.
func encodePage(kind, last string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(kind + ":" + last))
}

func decodePage(kind, tok string) (string, error) {
	if tok == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(tok)
	after, ok := strings.CutPrefix(string(b), kind+":")
	if err != nil || !ok {
		return "", errorf(Invalid, "Invalid NextToken %q: pass the NextToken of the previous page unchanged.", tok)
	}
	return after, nil
}

// ConfigSetExists returns nil for a configuration set of the scope, and
// ConfigSetNotFound (v1 ConfigurationSetDoesNotExist, v2
// NotFoundException) otherwise: for ConfigurationSetName on
// CreateEmailIdentity, SendCustomVerificationEmail and sending.
func (r *Registry) ConfigSetExists(ctx context.Context, sc Scope, name string) error {
	if r.ConfigSets == nil {
		return configSetNotFound(name)
	}
	_, err := r.ConfigSets.GetConfigSet(ctx, sc.configSet(name))
	if errors.Is(err, store.ErrNotFound) {
		return configSetNotFound(name)
	}
	return err
}

// CreateConfigSet adds a configuration set; options are the other members
// of the request, kept as given (JSON object, or nil).
func (r *Registry) CreateConfigSet(ctx context.Context, sc Scope, name string, tags []identity.Tag, options []byte) (*store.ConfigSet, error) {
	if r.ConfigSets == nil {
		return nil, errNoConfigSets
	}
	if err := checkConfigSetName(name); err != nil {
		return nil, err
	}
	if err := validateTags(tags); err != nil {
		return nil, err
	}
	if err := r.checkRegion(sc); err != nil {
		return nil, err
	}
	c := &store.ConfigSet{ConfigSetKey: sc.configSet(name), Tags: tags, Created: r.now(), Options: options}
	err := r.ConfigSets.CreateConfigSet(ctx, c, func(n int) error {
		if n >= MaxConfigSets {
			return errorf(LimitExceeded, "Maximum number of configuration sets (%d) reached in region %s. Delete sets you no longer use.", MaxConfigSets, sc.Region)
		}
		return nil
	})
	if errors.Is(err, store.ErrExists) {
		return nil, wrapf(AlreadyExists, err, "Configuration set %s already exists.", name)
	}
	if err != nil {
		return nil, err
	}
	return c, nil
}

// GetConfigSet returns a configuration set; an unknown one is
// ConfigSetNotFound.
func (r *Registry) GetConfigSet(ctx context.Context, sc Scope, name string) (*store.ConfigSet, error) {
	if r.ConfigSets == nil {
		return nil, configSetNotFound(name)
	}
	c, err := r.ConfigSets.GetConfigSet(ctx, sc.configSet(name))
	if errors.Is(err, store.ErrNotFound) {
		return nil, configSetNotFound(name)
	}
	return c, err
}

// DeleteConfigSet removes a configuration set; an unknown one is
// ConfigSetNotFound. Identities that name it as their default keep the
// name, as a deleted set's name on an identity is harmless until it is
// used to send.
func (r *Registry) DeleteConfigSet(ctx context.Context, sc Scope, name string) error {
	if r.ConfigSets == nil {
		return configSetNotFound(name)
	}
	ok, err := r.ConfigSets.DeleteConfigSet(ctx, sc.configSet(name))
	if err != nil {
		return err
	}
	if !ok {
		return configSetNotFound(name)
	}
	return nil
}

// ListConfigSets returns a page of set names in order and the token of
// the next page ("" on the last).
func (r *Registry) ListConfigSets(ctx context.Context, sc Scope, nextToken string, limit int) ([]string, string, error) {
	after, err := decodePage("c", nextToken)
	if err != nil {
		return nil, "", err
	}
	if r.ConfigSets == nil {
		return []string{}, "", nil
	}
	cs, err := r.ConfigSets.ListConfigSets(ctx, sc.Account, sc.Region, after, limit+1)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(cs) > limit {
		cs = cs[:limit]
		next = encodePage("c", cs[len(cs)-1].Name)
	}
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Name
	}
	return out, next, nil
}

// SetDefaultConfigurationSet is v2 PutEmailIdentityConfigurationSetAttributes:
// the set mail from the identity uses when the sender names none; empty
// removes it. The set must exist.
func (r *Registry) SetDefaultConfigurationSet(ctx context.Context, sc Scope, name, set string) (*identity.Identity, error) {
	if set != "" {
		if err := r.ConfigSetExists(ctx, sc, set); err != nil {
			return nil, err
		}
	}
	return r.editIdentity(ctx, sc, name, func(cur *identity.Identity) error {
		cur.ConfigurationSet = set
		return nil
	})
}
