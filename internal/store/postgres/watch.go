package postgres

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
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
	payloads, err := identityPayloads(keys)
	if err != nil {
		return err
	}
	for _, p := range payloads {
		if _, err := tx.Exec(ctx, notifySQL, identityChannel, p); err != nil {
			return err
		}
	}
	return nil
}

const notifySQL = `SELECT pg_notify($1, $2)`

// identityPayloads are the notifications of notifyIdentities.
func identityPayloads(keys []identity.Key) ([]string, error) {
	var out []string
	for len(keys) > 0 {
		var payload []byte
		n := 0
		for ; n < len(keys); n++ {
			k := keys[n]
			b, err := json.Marshal([3]string{k.Account, k.Region, k.Name})
			if err != nil {
				return nil, err
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
		out = append(out, string(payload))
	}
	return out, nil
}

// Heartbeats: the listener sends itself a notification through the pool
// every heartbeatEvery, and only while they come back is the cache used. A
// listening connection that hears nothing (a peer stopped without the
// connection closing, a pooler in transaction mode that dropped the
// LISTEN) would otherwise leave the cache serving what other replicas
// changed; with them, such a replica stops using its cache after
// heartbeatLimit and listens again on a new connection.
const (
	heartbeatEvery = time.Second
	heartbeatLimit = 3 * time.Second
	pingPrefix     = "ping:"
)

// Watch implements store.Watcher on a connection of its own that LISTENs
// to identityChannel. The cache is paused until that connection hears its
// own first heartbeat, and again from the moment it fails or misses
// heartbeats for heartbeatLimit until a new connection hears one; while
// paused, every read goes to the database. So a replica may serve an
// identity another one changed for at most about heartbeatLimit.
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
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	conn, err := pgx.ConnectConfig(ctx, s.listenConfig.Copy())
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN "+identityChannel); err != nil {
		return err
	}
	me := fmt.Sprintf("%s%d", pingPrefix, conn.PgConn().PID())
	var heard atomic.Int64 // when our last heartbeat came back, unix ns; 0 before the first
	started := time.Now()
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }() // the heartbeats stop with the connection
	wg.Go(func() {
		t := time.NewTicker(heartbeatEvery)
		defer t.Stop()
		for {
			s.pool.Exec(ctx, `SELECT pg_notify($1, $2)`, identityChannel, me)
			last := time.Unix(0, heard.Load())
			if heard.Load() == 0 {
				last = started
			}
			if time.Since(last) > heartbeatLimit {
				c.Pause() // at once, not when the connection is closed
				cancel()
				return
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	})
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		if strings.HasPrefix(n.Payload, pingPrefix) {
			s.heardPeer(n.Payload)
			if n.Payload == me && heard.Swap(time.Now().UnixNano()) == 0 {
				c.Resume() // the path works: every write from now on is heard
			}
			continue
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

// heardPeer notes a heartbeat of a replica (this one's included).
func (s *Store) heardPeer(ping string) {
	s.peersMu.Lock()
	defer s.peersMu.Unlock()
	if s.peers == nil {
		s.peers = make(map[string]time.Time)
	}
	now := time.Now()
	s.peers[ping] = now
	for p, at := range s.peers {
		if now.Sub(at) > heartbeatLimit {
			delete(s.peers, p)
		}
	}
}

// Replicas implements store.Watcher: the replicas whose heartbeats were
// heard within heartbeatLimit, at least this one.
func (s *Store) Replicas() int {
	s.peersMu.Lock()
	defer s.peersMu.Unlock()
	n := 0
	for _, at := range s.peers {
		if time.Since(at) <= heartbeatLimit {
			n++
		}
	}
	return max(n, 1)
}

// keepAliveDialer is the listening connection's: TCP keepalive probes
// after a second of silence, every second, so that a connection to a
// machine that went away ends within seconds rather than hours (the
// heartbeats pause the cache sooner; this frees the connection).
var keepAliveDialer = &net.Dialer{
	Timeout:         30 * time.Second,
	KeepAliveConfig: net.KeepAliveConfig{Enable: true, Idle: time.Second, Interval: time.Second, Count: 3},
}
