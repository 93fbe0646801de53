package store

import (
	"context"
	"time"

	"github.com/sesame/sesame/internal/identity"
)

// The methods below neither read nor write what the cache holds, so they go
// to the store as they are. The reads of many identities (lists, counts) go
// there too: the cache writes through, so the store is current.

// ListIdentities implements Identities.
func (c *Cache) ListIdentities(ctx context.Context, q ListQuery) ([]*identity.Identity, error) {
	return c.s.ListIdentities(ctx, q)
}

// CountAccountIdentities implements Identities.
func (c *Cache) CountAccountIdentities(ctx context.Context, account, region string) (int, error) {
	return c.s.CountAccountIdentities(ctx, account, region)
}

// CountIdentities implements Identities.
func (c *Cache) CountIdentities(ctx context.Context) ([]Count, error) {
	return c.s.CountIdentities(ctx)
}

// ClaimMessages implements Outbox.
func (c *Cache) ClaimMessages(ctx context.Context, now, until time.Time, limit int) ([]*Message, error) {
	return c.s.ClaimMessages(ctx, now, until, limit)
}

// ListChecks implements Checks: the timeline is not cached.
func (c *Cache) ListChecks(ctx context.Context, k identity.Key, limit int) ([]CheckRecord, error) {
	return c.s.ListChecks(ctx, k, limit)
}

// CreateAccount implements Accounts.
func (c *Cache) CreateAccount(ctx context.Context, a Account, k AccessKey) error {
	return c.s.CreateAccount(ctx, a, k)
}

// GetAccount implements Accounts.
func (c *Cache) GetAccount(ctx context.Context, id string) (*Account, error) {
	return c.s.GetAccount(ctx, id)
}

// ListAccounts implements Accounts.
func (c *Cache) ListAccounts(ctx context.Context) ([]Account, error) { return c.s.ListAccounts(ctx) }

// AddKey implements Accounts.
func (c *Cache) AddKey(ctx context.Context, k AccessKey) error { return c.s.AddKey(ctx, k) }

// GetKey implements Accounts.
func (c *Cache) GetKey(ctx context.Context, id string) (*AccessKey, error) {
	return c.s.GetKey(ctx, id)
}

// ListKeys implements Accounts.
func (c *Cache) ListKeys(ctx context.Context, account string) ([]AccessKey, error) {
	return c.s.ListKeys(ctx, account)
}

// RevokeKey implements Accounts.
func (c *Cache) RevokeKey(ctx context.Context, id string, at time.Time) error {
	return c.s.RevokeKey(ctx, id, at)
}

// Generation implements Accounts.
func (c *Cache) Generation(ctx context.Context) (int64, error) { return c.s.Generation(ctx) }

// GetLink implements Links.
func (c *Cache) GetLink(ctx context.Context, nonce string) (*Link, error) {
	return c.s.GetLink(ctx, nonce)
}

// UseLink implements Links. The address it verifies is written with
// UpdateIdentity, through the cache.
func (c *Cache) UseLink(ctx context.Context, nonce string, at time.Time) (bool, error) {
	return c.s.UseLink(ctx, nonce, at)
}

// AddMessage implements Outbox; it replaces links, not identities.
func (c *Cache) AddMessage(ctx context.Context, m *Message, l *Link, limits []Limit) error {
	return c.s.AddMessage(ctx, m, l, limits)
}

// CountMessages implements Outbox.
func (c *Cache) CountMessages(ctx context.Context, l Limit) (int, error) {
	return c.s.CountMessages(ctx, l)
}

// GetMessage implements Outbox.
func (c *Cache) GetMessage(ctx context.Context, id string) (*Message, error) {
	return c.s.GetMessage(ctx, id)
}

// ListMessages implements Outbox.
func (c *Cache) ListMessages(ctx context.Context, q MessageQuery) ([]*Message, error) {
	return c.s.ListMessages(ctx, q)
}

// DueMessages implements Outbox.
func (c *Cache) DueMessages(ctx context.Context, now time.Time, limit int) ([]*Message, error) {
	return c.s.DueMessages(ctx, now, limit)
}

// NextDue implements Outbox.
func (c *Cache) NextDue(ctx context.Context) (time.Time, error) { return c.s.NextDue(ctx) }

// UpdateMessage implements Outbox.
func (c *Cache) UpdateMessage(ctx context.Context, m *Message) error {
	return c.s.UpdateMessage(ctx, m)
}

// UpdateMessages implements MessageBatcher, in one transaction when the
// store behind can.
func (c *Cache) UpdateMessages(ctx context.Context, ms []*Message) error {
	return UpdateMessages(ctx, c.s, ms)
}

// CreateTemplate implements Templates.
func (c *Cache) CreateTemplate(ctx context.Context, t *Template, limit func(inRegion, inAccount int) error) error {
	return c.s.CreateTemplate(ctx, t, limit)
}

// GetTemplate implements Templates.
func (c *Cache) GetTemplate(ctx context.Context, k TemplateKey) (*Template, error) {
	return c.s.GetTemplate(ctx, k)
}

// UpdateTemplate implements Templates.
func (c *Cache) UpdateTemplate(ctx context.Context, k TemplateKey, fn func(t *Template) error) (*Template, error) {
	return c.s.UpdateTemplate(ctx, k, fn)
}

// DeleteTemplate implements Templates.
func (c *Cache) DeleteTemplate(ctx context.Context, k TemplateKey) (bool, error) {
	return c.s.DeleteTemplate(ctx, k)
}

// ListTemplates implements Templates.
func (c *Cache) ListTemplates(ctx context.Context, account, region, after string, limit int) ([]*Template, error) {
	return c.s.ListTemplates(ctx, account, region, after, limit)
}

// RevokeSession implements Sessions.
func (c *Cache) RevokeSession(ctx context.Context, id string, expires time.Time) error {
	return c.s.RevokeSession(ctx, id, expires)
}

// SessionRevoked implements Sessions.
func (c *Cache) SessionRevoked(ctx context.Context, id string) (bool, error) {
	return c.s.SessionRevoked(ctx, id)
}

// Close implements Store: it closes the store.
func (c *Cache) Close() error { return c.s.Close() }

// CreateConfigSet implements ConfigSets: configuration sets are not
// cached, and an identity names its default set without holding it.
func (c *Cache) CreateConfigSet(ctx context.Context, cs *ConfigSet, limit func(inRegion int) error) error {
	return c.s.CreateConfigSet(ctx, cs, limit)
}

// GetConfigSet implements ConfigSets.
func (c *Cache) GetConfigSet(ctx context.Context, k ConfigSetKey) (*ConfigSet, error) {
	return c.s.GetConfigSet(ctx, k)
}

// UpdateConfigSet implements ConfigSets.
func (c *Cache) UpdateConfigSet(ctx context.Context, k ConfigSetKey, fn func(cs *ConfigSet) error) (*ConfigSet, error) {
	return c.s.UpdateConfigSet(ctx, k, fn)
}

// DeleteConfigSet implements ConfigSets.
func (c *Cache) DeleteConfigSet(ctx context.Context, k ConfigSetKey) (bool, error) {
	return c.s.DeleteConfigSet(ctx, k)
}

// ListConfigSets implements ConfigSets.
func (c *Cache) ListConfigSets(ctx context.Context, account, region, after string, limit int) ([]*ConfigSet, error) {
	return c.s.ListConfigSets(ctx, account, region, after, limit)
}

// CreateEmailTemplate implements EmailTemplates.
func (c *Cache) CreateEmailTemplate(ctx context.Context, t *EmailTemplate, limit func(inRegion int) error) error {
	return c.s.CreateEmailTemplate(ctx, t, limit)
}

// GetEmailTemplate implements EmailTemplates.
func (c *Cache) GetEmailTemplate(ctx context.Context, k TemplateKey) (*EmailTemplate, error) {
	return c.s.GetEmailTemplate(ctx, k)
}

// UpdateEmailTemplate implements EmailTemplates.
func (c *Cache) UpdateEmailTemplate(ctx context.Context, t *EmailTemplate) error {
	return c.s.UpdateEmailTemplate(ctx, t)
}

// DeleteEmailTemplate implements EmailTemplates.
func (c *Cache) DeleteEmailTemplate(ctx context.Context, k TemplateKey) (bool, error) {
	return c.s.DeleteEmailTemplate(ctx, k)
}

// ListEmailTemplates implements EmailTemplates.
func (c *Cache) ListEmailTemplates(ctx context.Context, account, region, after string, limit int) ([]*EmailTemplate, error) {
	return c.s.ListEmailTemplates(ctx, account, region, after, limit)
}

// GetSendingState implements SendingStates: sending states are not cached.
func (c *Cache) GetSendingState(ctx context.Context, account, region string) (*SendingState, error) {
	return c.s.GetSendingState(ctx, account, region)
}

// UpdateSendingState implements SendingStates.
func (c *Cache) UpdateSendingState(ctx context.Context, account, region string, fn func(s *SendingState) error) (*SendingState, error) {
	return c.s.UpdateSendingState(ctx, account, region, fn)
}

// SentVolume implements Sending.
func (c *Cache) SentVolume(ctx context.Context, account, region string, since time.Time) ([]Volume, error) {
	return c.s.SentVolume(ctx, account, region, since)
}

// HideSent implements Sending.
func (c *Cache) HideSent(ctx context.Context, account, id string) (int, error) {
	return c.s.HideSent(ctx, account, id)
}
