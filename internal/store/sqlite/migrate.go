package sqlite

import (
	"context"
	"database/sql"
	"fmt"
)

// migrations are applied in order; the schema version is PRAGMA
// user_version, the number of migrations applied. Never edit one that has
// shipped: append a new one.
var migrations = []string{
	// 1: identities, accounts and keys.
	`CREATE TABLE identities (
		account    TEXT    NOT NULL,
		region     TEXT    NOT NULL,
		name       TEXT    NOT NULL,
		kind       INTEGER NOT NULL,
		status     TEXT    NOT NULL,
		next_check INTEGER,          -- unix nanoseconds; NULL when nothing is checked
		data       BLOB    NOT NULL, -- the identity as JSON
		PRIMARY KEY (account, region, name)
	) WITHOUT ROWID;
	CREATE INDEX identities_next ON identities(next_check) WHERE next_check IS NOT NULL;
	CREATE INDEX identities_kind ON identities(account, region, kind, name);
	CREATE TABLE accounts (
		id      TEXT PRIMARY KEY,
		name    TEXT NOT NULL UNIQUE,
		created INTEGER NOT NULL
	);
	CREATE TABLE access_keys (
		id      TEXT PRIMARY KEY,
		account TEXT NOT NULL REFERENCES accounts(id),
		sealed  BLOB NOT NULL,
		created INTEGER NOT NULL,
		revoked INTEGER
	);
	CREATE INDEX access_keys_account ON access_keys(account);
	CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
	INSERT INTO meta VALUES ('accounts_generation', 0);`,
	// 2: the timeline of each identity's checks (store.CheckRecord), kept
	// with the identity and deleted with it.
	`CREATE TABLE checks (
		seq     INTEGER PRIMARY KEY, -- grows with each record: orders the timeline
		account TEXT    NOT NULL,
		region  TEXT    NOT NULL,
		name    TEXT    NOT NULL,
		at      INTEGER NOT NULL,    -- unix nanoseconds
		data    BLOB    NOT NULL     -- the record as JSON
	);
	CREATE INDEX checks_identity ON checks(account, region, name, seq);
	CREATE TRIGGER identities_delete_checks AFTER DELETE ON identities BEGIN
		DELETE FROM checks WHERE account = old.account AND region = old.region AND name = old.name;
	END;`,
	// 3: verification mail: links sent (only the newest of an identity
	// works), the outbox with its delivery state, custom verification
	// templates.
	`CREATE TABLE mail_links (
		nonce       TEXT    PRIMARY KEY,
		account     TEXT    NOT NULL,
		region      TEXT    NOT NULL,
		name        TEXT    NOT NULL,
		created     INTEGER NOT NULL,
		expires     INTEGER NOT NULL,
		used        INTEGER,          -- NULL until opened
		replaced    INTEGER,          -- NULL while the newest link of its identity
		success_url TEXT    NOT NULL DEFAULT '',
		failure_url TEXT    NOT NULL DEFAULT ''
	);
	CREATE INDEX mail_links_identity ON mail_links(account, region, name) WHERE replaced IS NULL;
	CREATE TABLE mail_messages (
		id           TEXT    PRIMARY KEY,
		account      TEXT    NOT NULL,
		region       TEXT    NOT NULL,
		identity     TEXT    NOT NULL,
		sender       TEXT    NOT NULL,
		recipient    TEXT    NOT NULL,
		subject      TEXT    NOT NULL,
		link         TEXT    NOT NULL,
		link_nonce   TEXT    NOT NULL,
		raw          BLOB    NOT NULL,
		created      INTEGER NOT NULL,
		status       TEXT    NOT NULL, -- local, queued, sent, failed
		attempts     INTEGER NOT NULL DEFAULT 0,
		next_attempt INTEGER,
		last_error   TEXT    NOT NULL DEFAULT '',
		done         INTEGER
	);
	CREATE INDEX mail_messages_due ON mail_messages(next_attempt) WHERE status = 'queued';
	CREATE INDEX mail_messages_account ON mail_messages(account, created);
	CREATE INDEX mail_messages_recipient ON mail_messages(recipient, created);
	CREATE INDEX mail_messages_created ON mail_messages(created);
	CREATE TABLE mail_templates (
		account TEXT NOT NULL,
		region  TEXT NOT NULL,
		name    TEXT NOT NULL,
		data    BLOB NOT NULL, -- the template as JSON
		PRIMARY KEY (account, region, name)
	) WITHOUT ROWID;`,
	// 4: one row of checks per check of an identity rather than per record:
	// data holds the check's records as a JSON array, oldest first. Rows
	// written before hold one record, a JSON object. total counts the
	// identity's records up to and including the row's, so that keeping the
	// last store.MaxChecks is one range of the index to delete.
	`ALTER TABLE checks ADD COLUMN total INTEGER NOT NULL DEFAULT 0;
	UPDATE checks SET total = t.total FROM (
		SELECT seq, ROW_NUMBER() OVER (PARTITION BY account, region, name ORDER BY seq) AS total FROM checks
	) AS t WHERE checks.seq = t.seq;
	DROP INDEX checks_identity;
	CREATE INDEX checks_identity ON checks(account, region, name, total);`,
	// 5: identities become a rowid table. WITHOUT ROWID keeps whole rows in
	// the interior pages of its b-tree, so every lookup by key compared
	// against rows whose JSON spills to overflow pages and read those from
	// disk, a dozen reads per identity; now a lookup goes through the
	// primary key's index, which holds the key alone.
	`CREATE TABLE identities_new (
		account    TEXT    NOT NULL,
		region     TEXT    NOT NULL,
		name       TEXT    NOT NULL,
		kind       INTEGER NOT NULL,
		status     TEXT    NOT NULL,
		next_check INTEGER,          -- unix nanoseconds; NULL when nothing is checked
		data       BLOB    NOT NULL, -- the identity as JSON
		PRIMARY KEY (account, region, name)
	);
	INSERT INTO identities_new (account, region, name, kind, status, next_check, data)
		SELECT account, region, name, kind, status, next_check, data FROM identities;
	DROP TABLE identities;
	ALTER TABLE identities_new RENAME TO identities;
	CREATE INDEX identities_next ON identities(next_check) WHERE next_check IS NOT NULL;
	CREATE INDEX identities_kind ON identities(account, region, kind, name);
	CREATE TRIGGER identities_delete_checks AFTER DELETE ON identities BEGIN
		DELETE FROM checks WHERE account = old.account AND region = old.region AND name = old.name;
	END;`,
	// 6: v2 configuration sets (store.ConfigSet).
	`CREATE TABLE config_sets (
		account TEXT NOT NULL,
		region  TEXT NOT NULL,
		name    TEXT NOT NULL,
		data    BLOB NOT NULL, -- the set as JSON
		PRIMARY KEY (account, region, name)
	) WITHOUT ROWID;`,
	// 7: sending: sent mail in the outbox beside verification mail (kind
	// 'sent', its envelope recipients and what the call gave as JSON, the
	// recipients counted for the quota), email templates (apart from the
	// custom verification templates of mail_templates: SES keeps the two
	// apart) and the sending state of each account and region (sandbox,
	// pause, quotas).
	`ALTER TABLE mail_messages ADD COLUMN kind TEXT NOT NULL DEFAULT '';
	ALTER TABLE mail_messages ADD COLUMN recipients INTEGER NOT NULL DEFAULT 1;
	ALTER TABLE mail_messages ADD COLUMN sent BLOB; -- store.SentInfo and the recipients as JSON; NULL for verification
	ALTER TABLE mail_messages ADD COLUMN hidden INTEGER NOT NULL DEFAULT 0; -- cleared from /_aws/ses, still counted
	CREATE INDEX mail_messages_sent ON mail_messages(account, region, created) WHERE kind = 'sent';
	CREATE TABLE email_templates (
		account TEXT NOT NULL,
		region  TEXT NOT NULL,
		name    TEXT NOT NULL,
		data    BLOB NOT NULL, -- the template as JSON
		PRIMARY KEY (account, region, name)
	);
	CREATE TABLE sending_states (
		account TEXT NOT NULL,
		region  TEXT NOT NULL,
		data    BLOB NOT NULL, -- the state as JSON
		PRIMARY KEY (account, region)
	);`,
	// 8: Easy DKIM keys (store.DKIMKey), one row per token, deleted with
	// their identity.
	`CREATE TABLE dkim_keys (
		token   TEXT PRIMARY KEY,
		account TEXT NOT NULL,
		region  TEXT NOT NULL,
		name    TEXT NOT NULL,
		data    BLOB NOT NULL -- the key as JSON; the private key in it sealed
	);
	CREATE INDEX dkim_keys_identity ON dkim_keys(account, region, name);
	CREATE TRIGGER identities_delete_dkim_keys AFTER DELETE ON identities BEGIN
		DELETE FROM dkim_keys WHERE account = old.account AND region = old.region AND name = old.name;
	END;
	-- store.DKIMKeys.DKIMGeneration: bumped by every change of the keys.
	INSERT INTO meta VALUES ('dkim_generation', 0);
	CREATE TRIGGER dkim_keys_insert AFTER INSERT ON dkim_keys BEGIN
		UPDATE meta SET value = value + 1 WHERE key = 'dkim_generation';
	END;
	CREATE TRIGGER dkim_keys_update AFTER UPDATE ON dkim_keys BEGIN
		UPDATE meta SET value = value + 1 WHERE key = 'dkim_generation';
	END;
	CREATE TRIGGER dkim_keys_delete AFTER DELETE ON dkim_keys BEGIN
		UPDATE meta SET value = value + 1 WHERE key = 'dkim_generation';
	END;`,
	// 9: the indexes for verification mail's limits (per account, per
	// recipient) hold only verification mail: a sent message then writes
	// two b-trees fewer (seven pages to the WAL rather than nine), and
	// the sent mail's own reads have mail_messages_sent and
	// mail_messages_created.
	`DROP INDEX mail_messages_account;
	CREATE INDEX mail_messages_account ON mail_messages(account, created) WHERE kind = '';
	DROP INDEX mail_messages_recipient;
	CREATE INDEX mail_messages_recipient ON mail_messages(recipient, created) WHERE kind = '';`,
	// 10: the sending quota's count (the recipients of an account's sent
	// mail over 24 hours, read at every send) from the index alone: the
	// recipients column comes after the raw message in the row, so reading
	// it walked each message's overflow pages (20 ms for 20,000 messages,
	// inside the writer's transaction; 1.3 ms from the index).
	`DROP INDEX mail_messages_sent;
	CREATE INDEX mail_messages_sent ON mail_messages(account, region, created, recipients) WHERE kind = 'sent';`,
	// 11: the recipients of sent mail by the minute (store.SentMinute), so
	// that the quota's count sums at most a day of minutes (1,440 rows)
	// rather than a day of messages; filled from the messages already
	// sent.
	`CREATE TABLE sent_minutes (
		account    TEXT    NOT NULL,
		region     TEXT    NOT NULL,
		minute     INTEGER NOT NULL, -- unix nanoseconds / 60e9 of the messages' creation
		recipients INTEGER NOT NULL,
		PRIMARY KEY (account, region, minute)
	) WITHOUT ROWID;
	INSERT INTO sent_minutes SELECT account, region, created / 60000000000, SUM(recipients)
		FROM mail_messages WHERE kind = 'sent' GROUP BY account, region, created / 60000000000;`,
	// 12: the raw message in a table of its own, written once: an UPDATE
	// that changes a row's size (an outcome: done, last_error) rewrites
	// the whole row, so each outcome of a message rewrote its 10 KB or
	// more (three overflow pages, and their copies at the WAL's
	// checkpoint) to change a few integers. (Made WITHOUT ROWID here, and
	// undone by 13.)
	`CREATE TABLE mail_raw (
		id  TEXT PRIMARY KEY REFERENCES mail_messages(id) ON DELETE CASCADE,
		raw BLOB NOT NULL
	) WITHOUT ROWID;
	INSERT INTO mail_raw SELECT id, raw FROM mail_messages;
	ALTER TABLE mail_messages DROP COLUMN raw;`,
	// 13: mail_raw as a table with a rowid and without the foreign key.
	// WITHOUT ROWID keeps the whole row in every b-tree cell, interior
	// ones too, so each step down to a 10 KB message read its overflow
	// pages (an insert took 39 µs, 24 µs now; a lookup 34 µs, 13 µs now),
	// as migration 5 found for identities. The foreign key bought nothing
	// (no message is ever deleted) and made a trap: with foreign_keys on,
	// which a migration's transaction cannot turn off, rebuilding
	// mail_messages the way migration 5 rebuilt identities (copy, DROP,
	// RENAME) would have cascaded its DROP to every raw message. Not keyed
	// on mail_messages' rowid, which VACUUM may renumber.
	`CREATE TABLE mail_raw_13 (
		id  TEXT PRIMARY KEY,
		raw BLOB NOT NULL
	);
	INSERT INTO mail_raw_13 SELECT id, raw FROM mail_raw;
	DROP TABLE mail_raw;
	ALTER TABLE mail_raw_13 RENAME TO mail_raw;`,
}

// SchemaVersion is the version this binary writes.
var SchemaVersion = len(migrations)

func (s *Store) migrate(ctx context.Context) error {
	var v int
	if err := s.db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return err
	}
	if v > len(migrations) {
		return fmt.Errorf("schema version %d is newer than this binary's %d: upgrade sesame", v, len(migrations))
	}
	for ; v < len(migrations); v++ {
		err := s.write(ctx, func(tx *sql.Tx) error {
			// Another process may have migrated since we looked.
			var cur int
			if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&cur); err != nil || cur > v {
				return err
			}
			if _, err := tx.ExecContext(ctx, migrations[v]); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", v+1))
			return err
		})
		if err != nil {
			return fmt.Errorf("migration %d: %w", v+1, err)
		}
	}
	return nil
}
