package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// migrations are applied in order; the schema version, in the one row of
// schema_version, is the number applied. Never edit one that has shipped:
// append a new one. Migration 1 is the SQLite store's schema as of its
// migration 7, in PostgreSQL's types: times are unix nanoseconds (bigint),
// rows JSON (bytea, the bytes as written), text compares by its bytes
// (COLLATE "C", as SQLite's BINARY, whatever the database's locale), and seq
// columns stand for SQLite's rowid where order of insertion matters.
var migrations = []string{
	// 1: identities, accounts and keys, the checks' timeline, verification
	// mail and the outbox, templates, configuration sets, sending states.
	`CREATE TABLE identities (
		account    text COLLATE "C"    NOT NULL,
		region     text COLLATE "C"    NOT NULL,
		name       text COLLATE "C"    NOT NULL,
		kind       integer NOT NULL,
		status     text COLLATE "C"    NOT NULL,
		next_check bigint,          -- unix nanoseconds; NULL when nothing is checked
		data       bytea   NOT NULL, -- the identity as JSON
		PRIMARY KEY (account, region, name)
	);
	CREATE INDEX identities_next ON identities (next_check) WHERE next_check IS NOT NULL;
	-- kind before region: a lookup by the primary key's three columns
	-- can use only account of this index, so the planner never takes it
	-- for one (without statistics, as after a bulk load, it took it and
	-- read the whole region); the listing of one kind uses all four.
	CREATE INDEX identities_kind ON identities (account, kind, region, name);
	CREATE TABLE accounts (
		id      text COLLATE "C"   PRIMARY KEY,
		name    text COLLATE "C"   NOT NULL UNIQUE,
		created bigint NOT NULL
	);
	CREATE TABLE access_keys (
		id      text COLLATE "C"   PRIMARY KEY,
		account text COLLATE "C"   NOT NULL REFERENCES accounts (id),
		sealed  bytea  NOT NULL,
		created bigint NOT NULL,
		revoked bigint
	);
	CREATE INDEX access_keys_account ON access_keys (account);
	CREATE TABLE meta (key text COLLATE "C" PRIMARY KEY, value bigint NOT NULL);
	INSERT INTO meta VALUES ('accounts_generation', 0);
	CREATE TABLE checks (
		seq     bigserial PRIMARY KEY,
		account text COLLATE "C"   NOT NULL,
		region  text COLLATE "C"   NOT NULL,
		name    text COLLATE "C"   NOT NULL,
		at      bigint NOT NULL, -- unix nanoseconds
		total   bigint NOT NULL, -- the identity's records up to and including this row's
		data    bytea  NOT NULL  -- the check's records as a JSON array, oldest first
	);
	CREATE INDEX checks_identity ON checks (account, region, name, total);
	CREATE TABLE mail_links (
		nonce       text COLLATE "C"   PRIMARY KEY,
		account     text COLLATE "C"   NOT NULL,
		region      text COLLATE "C"   NOT NULL,
		name        text COLLATE "C"   NOT NULL,
		created     bigint NOT NULL,
		expires     bigint NOT NULL,
		used        bigint, -- NULL until opened
		replaced    bigint, -- NULL while the newest link of its identity
		success_url text COLLATE "C"   NOT NULL DEFAULT '',
		failure_url text COLLATE "C"   NOT NULL DEFAULT ''
	);
	CREATE INDEX mail_links_identity ON mail_links (account, region, name) WHERE replaced IS NULL;
	CREATE TABLE mail_messages (
		seq          bigserial UNIQUE,
		id           text COLLATE "C"    PRIMARY KEY,
		kind         text COLLATE "C"    NOT NULL DEFAULT '',
		account      text COLLATE "C"    NOT NULL,
		region       text COLLATE "C"    NOT NULL,
		identity     text COLLATE "C"    NOT NULL,
		sender       text COLLATE "C"    NOT NULL,
		recipient    text COLLATE "C"    NOT NULL,
		recipients   integer NOT NULL DEFAULT 1,
		subject      text COLLATE "C"    NOT NULL,
		link         text COLLATE "C"    NOT NULL,
		link_nonce   text COLLATE "C"    NOT NULL,
		raw          bytea   NOT NULL,
		sent         bytea, -- store.SentInfo and the recipients as JSON; NULL for verification
		created      bigint  NOT NULL,
		status       text COLLATE "C"    NOT NULL, -- local, queued, sent, failed
		attempts     integer NOT NULL DEFAULT 0,
		next_attempt bigint,
		last_error   text COLLATE "C"    NOT NULL DEFAULT '',
		done         bigint,
		hidden       boolean NOT NULL DEFAULT false -- cleared from /_aws/ses, still counted
	);
	CREATE INDEX mail_messages_due ON mail_messages (next_attempt) WHERE status = 'queued';
	CREATE INDEX mail_messages_account ON mail_messages (account, created);
	CREATE INDEX mail_messages_recipient ON mail_messages (recipient, created);
	CREATE INDEX mail_messages_created ON mail_messages (created);
	CREATE INDEX mail_messages_sent ON mail_messages (account, region, created) WHERE kind = 'sent';
	CREATE TABLE mail_templates (
		account text COLLATE "C"  NOT NULL,
		region  text COLLATE "C"  NOT NULL,
		name    text COLLATE "C"  NOT NULL,
		data    bytea NOT NULL, -- the template as JSON
		PRIMARY KEY (account, region, name)
	);
	CREATE TABLE config_sets (
		account text COLLATE "C"  NOT NULL,
		region  text COLLATE "C"  NOT NULL,
		name    text COLLATE "C"  NOT NULL,
		data    bytea NOT NULL,
		PRIMARY KEY (account, region, name)
	);
	CREATE TABLE email_templates (
		account text COLLATE "C"  NOT NULL,
		region  text COLLATE "C"  NOT NULL,
		name    text COLLATE "C"  NOT NULL,
		data    bytea NOT NULL,
		PRIMARY KEY (account, region, name)
	);
	CREATE TABLE sending_states (
		account text COLLATE "C"  NOT NULL,
		region  text COLLATE "C"  NOT NULL,
		data    bytea NOT NULL,
		PRIMARY KEY (account, region)
	);`,
	// 2: the fingerprints of the key files replicas must share
	// (store.SharedKeys); PostgreSQL's alone, since one SQLite database has
	// one server.
	`CREATE TABLE key_fingerprints (
		name        text COLLATE "C" PRIMARY KEY, -- what the key is: sealing key, link signing key, console session key
		fingerprint text COLLATE "C" NOT NULL
	);`,
	// 3: the Easy DKIM keys (store.DKIMKeys), as the SQLite store's
	// migration 8: one row per token, deleted with its identity, and a
	// generation that any change of any key bumps (a statement-level
	// trigger: one bump per statement, which is all a cache needs).
	`CREATE TABLE dkim_keys (
		token   text COLLATE "C" PRIMARY KEY, -- lower case
		account text COLLATE "C" NOT NULL,
		region  text COLLATE "C" NOT NULL,
		name    text COLLATE "C" NOT NULL,
		data    bytea NOT NULL -- store.DKIMKey as JSON, the private key sealed
	);
	CREATE INDEX dkim_keys_identity ON dkim_keys (account, region, name);
	INSERT INTO meta VALUES ('dkim_generation', 0);
	CREATE FUNCTION dkim_generation_bump() RETURNS trigger LANGUAGE plpgsql AS $$
	BEGIN
		UPDATE meta SET value = value + 1 WHERE key = 'dkim_generation';
		RETURN NULL;
	END $$;
	CREATE TRIGGER dkim_keys_changed AFTER INSERT OR UPDATE OR DELETE ON dkim_keys
		FOR EACH STATEMENT EXECUTE FUNCTION dkim_generation_bump();
	CREATE FUNCTION identities_delete_dkim_keys() RETURNS trigger LANGUAGE plpgsql AS $$
	BEGIN
		DELETE FROM dkim_keys WHERE account = old.account AND region = old.region AND name = old.name;
		RETURN NULL;
	END $$;
	CREATE TRIGGER identities_delete_dkim_keys AFTER DELETE ON identities
		FOR EACH ROW EXECUTE FUNCTION identities_delete_dkim_keys();`,
	// 4: the recipients of sent mail by the minute, as the SQLite store's
	// migration 11 (store.SentMinute): the quota's count sums at most a
	// day of minutes rather than a day of messages.
	`CREATE TABLE sent_minutes (
		account    text COLLATE "C" NOT NULL,
		region     text COLLATE "C" NOT NULL,
		minute     bigint NOT NULL, -- unix nanoseconds / 60e9 of the messages' creation
		recipients bigint NOT NULL,
		PRIMARY KEY (account, region, minute)
	);
	INSERT INTO sent_minutes SELECT account, region, created / 60000000000, SUM(recipients)
		FROM mail_messages WHERE kind = 'sent' GROUP BY account, region, created / 60000000000;`,
}

// SchemaVersion is the version this binary writes.
var SchemaVersion = len(migrations)

// migrate brings the schema to SchemaVersion in one transaction that holds
// an advisory lock for its whole life: replicas started at once queue on
// it, and each after the first finds the schema current. A failed
// migration leaves nothing half done (PostgreSQL's DDL is transactional).
func (s *Store) migrate(ctx context.Context) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, 0)`, classMigrate); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_version (version integer NOT NULL)`); err != nil {
			return err
		}
		var v int
		err := tx.QueryRow(ctx, `SELECT version FROM schema_version`).Scan(&v)
		if err == pgx.ErrNoRows {
			if _, err := tx.Exec(ctx, `INSERT INTO schema_version VALUES (0)`); err != nil {
				return err
			}
		} else if err != nil {
			return err
		}
		if v > len(migrations) {
			return fmt.Errorf("schema version %d is newer than this binary's %d: upgrade sesame", v, len(migrations))
		}
		for ; v < len(migrations); v++ {
			if _, err := tx.Exec(ctx, migrations[v]); err != nil {
				return fmt.Errorf("migration %d: %w", v+1, err)
			}
		}
		_, err = tx.Exec(ctx, `UPDATE schema_version SET version = $1`, v)
		return err
	})
}
