package store

import (
	"context"
	"time"

	"github.com/sesame/sesame/internal/identity"
)

// ConfigSetKey names a configuration set: sets belong to one account in
// one region, as in SES.
type ConfigSetKey struct {
	Account string
	Region  string
	Name    string
}

// ConfigSet is a v2 configuration set. Sesame sends no events, so the
// options are kept as the client gave them and returned as they were.
type ConfigSet struct {
	ConfigSetKey
	Tags    []identity.Tag
	Created time.Time
	// Options are the option members of CreateConfigurationSet
	// (TrackingOptions, DeliveryOptions, ...) as one JSON object; nil when
	// none were given.
	Options []byte `json:",omitempty"`
}

// ConfigSets stores configuration sets.
type ConfigSets interface {
	// CreateConfigSet stores a new set, or returns ErrExists for a name in
	// use. In the same transaction it counts the account's sets in the
	// set's region and stores it only if limit (when not nil) returns nil;
	// limit's error is returned as is.
	CreateConfigSet(ctx context.Context, c *ConfigSet, limit func(inRegion int) error) error
	// GetConfigSet returns ErrNotFound for an unknown set.
	GetConfigSet(ctx context.Context, k ConfigSetKey) (*ConfigSet, error)
	// UpdateConfigSet runs fn on the set in one transaction and stores the
	// result; ErrNotFound for an unknown set, fn's error as is.
	UpdateConfigSet(ctx context.Context, k ConfigSetKey, fn func(c *ConfigSet) error) (*ConfigSet, error)
	// DeleteConfigSet reports whether the set existed.
	DeleteConfigSet(ctx context.Context, k ConfigSetKey) (bool, error)
	// ListConfigSets lists the sets of one account and region whose names
	// sort after after, in name order.
	ListConfigSets(ctx context.Context, account, region, after string, limit int) ([]*ConfigSet, error)
}
