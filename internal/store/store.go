// Package store is where identities and accounts live. Store is a small
// interface so that PostgreSQL can follow SQLite; storetest holds the suite
// every implementation must pass.
package store

import (
	"context"
	"errors"
	"time"

	"github.com/sesame/sesame/internal/identity"
	"github.com/sesame/sesame/internal/names"
)

var (
	ErrNotFound = errors.New("not found")
	ErrExists   = errors.New("already exists")
)

// Store is the whole persistent state of Sesame. Every method is safe for
// concurrent use, and a write is durable when it returns.
type Store interface {
	Identities
	Checks
	Accounts
	Mail
	Sending
	Sessions
	ConfigSets
	DKIMKeys
	Close() error
}

// Sessions keeps the console sessions signed out before their expiry, so
// that a copied cookie stays dead across a restart.
type Sessions interface {
	// RevokeSession records that session id is signed out; the record may
	// go once expires, the session's own end, has passed.
	RevokeSession(ctx context.Context, id string, expires time.Time) error
	// SessionRevoked reports whether session id was signed out.
	SessionRevoked(ctx context.Context, id string) (bool, error)
}

// Identities stores identities by (account, region, name).
type Identities interface {
	// GetIdentity returns ErrNotFound for an unknown identity.
	GetIdentity(ctx context.Context, k identity.Key) (*identity.Identity, error)
	// GetIdentities returns the known identities among names, by name.
	GetIdentities(ctx context.Context, account, region string, names []string) (map[string]*identity.Identity, error)
	// UpdateIdentity runs fn on the current identity (nil when there is
	// none) inside one transaction and stores what fn returns. fn returning
	// nil and no error leaves the store unchanged. fn's error is returned as
	// is. The stored identity is returned.
	UpdateIdentity(ctx context.Context, k identity.Key, fn func(cur *identity.Identity) (*identity.Identity, error)) (*identity.Identity, error)
	// Import stores many identities in one transaction, replacing any with
	// the same key: for bulk loads and benchmarks, where one commit per
	// identity would be slow.
	Import(ctx context.Context, ids []*identity.Identity) error
	// DeleteIdentity reports whether the identity existed.
	DeleteIdentity(ctx context.Context, k identity.Key) (bool, error)
	// ListIdentities lists one account and region in name order.
	ListIdentities(ctx context.Context, q ListQuery) ([]*identity.Identity, error)
	// CountAccountIdentities counts the identities of one account in one
	// region, or in all regions when region is empty.
	CountAccountIdentities(ctx context.Context, account, region string) (int, error)
	// CountIdentities counts identities per kind and status, for metrics.
	CountIdentities(ctx context.Context) ([]Count, error)
	// DueIdentities returns up to limit identities whose Next is set and
	// not after now, earliest first, for the verifier.
	DueIdentities(ctx context.Context, now time.Time, limit int) ([]*identity.Identity, error)
}

// Checks is what the verifier keeps beyond the identities: leases on due
// identities, so that no identity is checked twice at once even by two
// processes, and the timeline of the checks it ran.
type Checks interface {
	// ClaimDue leases up to limit identities due at now (Next set and not
	// after now), earliest first: in one transaction their Next becomes
	// until, so no other checker takes them before the lease runs out, and
	// those of a checker that died come due again when it does. They are
	// returned as stored, with Next = until.
	ClaimDue(ctx context.Context, now, until time.Time, limit int) ([]*identity.Identity, error)
	// SaveChecks applies the results of checks in one transaction. For each
	// update, Apply is given the current identity (nil if it was deleted)
	// and what it returns is stored, then Checks are appended to the
	// identity's timeline; Apply returning nil changes nothing and appends
	// nothing. Only the last MaxChecks records of an identity are kept, and
	// deleting an identity deletes them.
	SaveChecks(ctx context.Context, updates []CheckUpdate) error
	// ListChecks returns up to limit of an identity's check records, newest
	// first; none for an unknown identity.
	ListChecks(ctx context.Context, k identity.Key, limit int) ([]CheckRecord, error)
}

// MaxChecks is how many check records are kept per identity: at least the
// last ten checks of a domain with DKIM and MAIL FROM on two name servers.
const MaxChecks = 200

// CheckUpdate is the result of one check of one identity.
type CheckUpdate struct {
	Key    identity.Key
	Apply  func(cur *identity.Identity) *identity.Identity
	Checks []CheckRecord
}

// CheckRecord is what one name server said about one expected record: the
// evidence behind a status, which SES does not show.
type CheckRecord struct {
	At       time.Time
	Check    string   // "verification", "dkim", "mail-from" or "spf"
	Server   string   // "ns1.example.com. 192.0.2.1"; "resolver" for a zone lookup
	Query    string   // the dig command that repeats the query
	Answer   []string // what came back, as dig prints it
	Expected string   // the record looked for, in zone-file form
	// Outcome is "match" or "mismatch" for an answer with records, else
	// the dnsclient outcome (NoData, NXDomain, ServFail, Timeout, ...).
	Outcome string
	// TTL is how long a resolver may cache this answer: the TTL of the
	// records, or min(SOA TTL, MINIMUM) of a negative answer (RFC 2308 §5).
	TTL    time.Duration
	Detail string // why, when it is not obvious: a stale server, a lowercased value
}

// ListQuery selects a page of identities.
type ListQuery struct {
	Account, Region string
	Kind            names.Kind // zero: every kind
	After           string     // names greater than this one
	Limit           int
}

// Count is the number of identities of one kind and status.
type Count struct {
	Kind   names.Kind
	Status identity.Status
	N      int
}

// Accounts stores accounts and their access keys.
type Accounts interface {
	CreateAccount(ctx context.Context, a Account, k AccessKey) error
	GetAccount(ctx context.Context, id string) (*Account, error)
	ListAccounts(ctx context.Context) ([]Account, error)
	AddKey(ctx context.Context, k AccessKey) error
	// GetKey returns ErrNotFound for an unknown key; a revoked key is
	// returned with Revoked set.
	GetKey(ctx context.Context, id string) (*AccessKey, error)
	ListKeys(ctx context.Context, account string) ([]AccessKey, error)
	RevokeKey(ctx context.Context, id string, at time.Time) error
	// Generation changes whenever any process changes accounts or keys,
	// so a cache of keys knows when to forget.
	Generation(ctx context.Context) (int64, error)
}

// Account is a tenant.
type Account struct {
	ID      string // 12 digits
	Name    string
	Created time.Time
}

// AccessKey is one key pair of an account. The secret is stored sealed
// (encrypted with a key kept outside the database), never in plain text.
type AccessKey struct {
	ID           string
	Account      string
	SealedSecret []byte
	Created      time.Time
	Revoked      time.Time // zero while active
}
