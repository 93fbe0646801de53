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
// identities of keys changed: one notification per 7,000 bytes of keys, so
// that a verifier's batch of hundreds costs a few and empties no cache.
func notifyIdentities(ctx context.Context, tx pgx.Tx, keys []identity.Key) error {
	for len(keys) > 0 {
		var payload []byte
		n := 0
		for ; n < len(keys); n++ {
			k := keys[n]
			b, err := json.Marshal([3]string{k.Account, k.Region, k.Name})
			if err != nil {
				return err
			}
			if len(payload)+len(b)+2 > maxPayload && n > 0 {
				break
			}
			payload = append(append(payload, ','), b...)
		}
		payload[0] = '['
		payload = append(payload, ']')
		keys = keys[n:]
		if len(payload) > maxPayload { // one key longer than a notification: tell everyone to forget all
			payload = []byte(allIdentities)
		}
		if _, err := tx.Exec(ctx, `SELECT pg_notify($1, $2)`, identityChannel, string(payload)); err != nil {
			return err
		}
	}
	return nil
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
