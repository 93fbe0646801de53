package registry

import (
	"context"
	"errors"
	"slices"

	"github.com/sesame/sesame/internal/identity"
	"github.com/sesame/sesame/internal/store"
)

// The tags of v2's TagResource, UntagResource and ListTagsForResource, for
// the resources that have ARNs here: identities, configuration sets and
// custom verification email templates. SES's limits hold across both
// ways of setting tags: at most 50 per resource, keys 1-128 characters
// and values up to 256 (validateTags).

func resourceNotFound(arn string) error {
	return wrapf(NotFound, store.ErrNotFound, "Resource %s does not exist: check the ARN's type, name, region and account (arn:aws:ses:<region>:<account>:identity/<name>, configuration-set/<name> or custom-verification-email-template/<name>).", arn)
}

// editTags runs fn on the tags of the resource the ARN names and stores
// what it returns; fn == nil only reads. A resource of another account or
// region, or of an unknown type, is NotFound.
func (r *Registry) editTags(ctx context.Context, sc Scope, arn string, fn func([]identity.Tag) ([]identity.Tag, error)) ([]identity.Tag, error) {
	res, err := ParseARN(arn)
	if err != nil {
		return nil, err
	}
	if res.Scope != sc {
		return nil, resourceNotFound(arn)
	}
	var out []identity.Tag
	apply := func(cur []identity.Tag) ([]identity.Tag, error) {
		if fn == nil {
			out = cur
			return cur, nil
		}
		next, err := fn(slices.Clone(cur))
		if err != nil {
			return nil, err
		}
		if err := validateTags(next); err != nil {
			return nil, err
		}
		out = next
		return next, nil
	}
	switch res.Type {
	case ResourceIdentity:
		if fn == nil {
			id, err := r.Get(ctx, sc, res.Name)
			if IsKind(err, NotFound) {
				return nil, resourceNotFound(arn)
			}
			if err != nil {
				return nil, err
			}
			return apply(id.Tags)
		}
		_, err = r.editIdentity(ctx, sc, res.Name, func(cur *identity.Identity) error {
			cur.Tags, err = apply(cur.Tags)
			return err
		})
	case ResourceConfigurationSet:
		if r.ConfigSets == nil {
			return nil, resourceNotFound(arn)
		}
		_, err = r.ConfigSets.UpdateConfigSet(ctx, sc.configSet(res.Name), func(c *store.ConfigSet) error {
			var err error
			c.Tags, err = apply(c.Tags)
			return err
		})
	case ResourceTemplate:
		if r.Templates == nil {
			return nil, resourceNotFound(arn)
		}
		_, err = r.Templates.UpdateTemplate(ctx, sc.template(res.Name), func(t *store.Template) error {
			var err error
			t.Tags, err = apply(t.Tags)
			return err
		})
	default:
		return nil, resourceNotFound(arn)
	}
	if errors.Is(err, store.ErrNotFound) {
		return nil, resourceNotFound(arn)
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ListTags returns a resource's tags.
func (r *Registry) ListTags(ctx context.Context, sc Scope, arn string) ([]identity.Tag, error) {
	return r.editTags(ctx, sc, arn, nil)
}

// TagResource adds tags to a resource; a key it has already gets the new
// value.
func (r *Registry) TagResource(ctx context.Context, sc Scope, arn string, tags []identity.Tag) error {
	if len(tags) == 0 {
		return errorf(Invalid, "Tags is required: give at least one tag (Key and Value).")
	}
	if err := validateTags(tags); err != nil {
		return err
	}
	_, err := r.editTags(ctx, sc, arn, func(cur []identity.Tag) ([]identity.Tag, error) {
		for _, t := range tags {
			if i := slices.IndexFunc(cur, func(c identity.Tag) bool { return c.Key == t.Key }); i >= 0 {
				cur[i].Value = t.Value
			} else {
				cur = append(cur, t)
			}
		}
		return cur, nil
	})
	return err
}

// UntagResource removes the tags of the given keys; keys it does not have
// are ignored.
func (r *Registry) UntagResource(ctx context.Context, sc Scope, arn string, keys []string) error {
	if len(keys) == 0 {
		return errorf(Invalid, "TagKeys is required: give at least one tag key to remove.")
	}
	_, err := r.editTags(ctx, sc, arn, func(cur []identity.Tag) ([]identity.Tag, error) {
		return slices.DeleteFunc(cur, func(t identity.Tag) bool { return slices.Contains(keys, t.Key) }), nil
	})
	return err
}
