package postgres

import (
	"context"
	"net"
	"time"

	json "github.com/go-json-experiment/json/v1"
	"github.com/jackc/pgx/v5"

	"github.com/sesame/sesame/internal/identity"
	"github.com/sesame/sesame/internal/store"
)

// identityChannel is the LISTEN/NOTIFY channel of identity writes: every
// transaction that changes identities notifies it once, with their keys,
// when it commits; each replica's Watch forgets them in its cache.
const identityChannel = "sesame_identities"

// allIdentities is the payload of a write of too many identities to list.
const allIdentities = "*"

// maxPayload keeps a notification under PostgreSQL's 8,000 bytes.
const maxPayload = 7000

// notifyIdentities tells every replica's cache, once tx commits, that the
// identities of keys changed.
func notifyIdentities(ctx context.Context, tx pgx.Tx, keys []identity.Key) error {
	if len(keys) == 0 {
		return nil
	}
	l := make([][3]string, len(keys))
	for i, k := range keys {
		l[i] = [3]string{k.Account, k.Region, k.Name}
	}
	b, err := json.Marshal(l)
	if err != nil {
		return err
	}
	payload := string(b)
	if len(payload) > maxPayload {
		payload = allIdentities
	}
	_, err = tx.Exec(ctx, `SELECT pg_notify($1, $2)`, identityChannel, payload)
	return err
}

// Watch implements store.Watcher on a connection of its own that LISTENs
// to identityChannel. The cache is paused until the connection listens,
// and again from the moment it fails until a new one listens (a
// notification sent meanwhile is lost to it). TCP keepalives every second
// tell a silent network failure within about four seconds, during which
// the cache may serve what another replica changed: the one window of
// stale reads.
func (s *Store) Watch(ctx context.Context, c *store.Cache) {
	c.Pause()
	for ctx.Err() == nil {
		s.listen(ctx, c)
		c.Pause()
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

func (s *Store) listen(ctx context.Context, c *store.Cache) error {
	cfg := s.listenConfig.Copy()
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN "+identityChannel); err != nil {
		return err
	}
	c.Resume()
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		var l [][3]string
		if n.Payload == allIdentities || json.Unmarshal([]byte(n.Payload), &l) != nil {
			c.ForgetAll()
			continue
		}
		keys := make([]identity.Key, len(l))
		for i, k := range l {
			keys[i] = identity.Key{Account: k[0], Region: k[1], Name: k[2]}
		}
		c.Forget(keys...)
	}
}

// keepAliveDialer is the listening connection's: probes after a second of
// silence, every second, three unanswered ones end it.
var keepAliveDialer = &net.Dialer{
	Timeout:         30 * time.Second,
	KeepAliveConfig: net.KeepAliveConfig{Enable: true, Idle: time.Second, Interval: time.Second, Count: 3},
}
