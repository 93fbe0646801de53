package throttle

import (
	"fmt"
	"testing"
	"time"
)

const ownerKey = "AKIAAAAAAAAAAAAAAAAA"

func (t *Table) strikesOf(k Key) *strikes {
	if e := t.m[k.name]; e != nil {
		return e.Value.(*strikes)
	}
	return nil
}

func TestThrottleBackoff(t *testing.T) {
	var th Table
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	ip := Addr("192.0.2.1:4000")
	id := PairKey(ownerKey, ip)
	for i := 0; i < FreeFailures; i++ {
		if w, _ := th.Begin(now, ip, id); w != 0 {
			t.Fatalf("attempt %d waits %v, want none within the free failures", i+1, w)
		}
	}
	// Each further failure doubles the wait, up to the cap.
	want := FirstBackoff
	for i := 0; i < 20; i++ {
		w, _ := th.Begin(now, ip, id)
		if w != want {
			t.Fatalf("blocked attempt %d waits %v, want %v", i+1, w, want)
		}
		now = now.Add(w) // the wait over, the next attempt fails again
		if w, _ := th.Begin(now, ip, id); w != 0 {
			t.Fatalf("after the wait: %v", w)
		}
		want = min(want*2, MaxBackoff)
	}
	if want != MaxBackoff {
		t.Errorf("backoff reached %v, want the cap %v", want, MaxBackoff)
	}
	// A success forgets the key ID from this address, keeps the address's
	// count.
	now = now.Add(MaxBackoff)
	_, tk := th.Begin(now, ip, id)
	th.Succeeded(tk)
	if s := th.strikesOf(id); s != nil {
		t.Errorf("key ID still counted from this address after a success: %+v", s)
	}
	if s := th.strikesOf(ip); s == nil || s.fails < FreeFailures {
		t.Errorf("address forgotten after a success: %+v", s)
	}
}

// TestThrottleOwnerNotLockedOut: failures for a key ID from one address
// hold back that key ID from that address only; its owner, elsewhere,
// signs in. The other address is counted per address still.
func TestThrottleOwnerNotLockedOut(t *testing.T) {
	var th Table
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	attacker, owner := Addr("198.51.100.7:1234"), Addr("[2001:db8:1:2::5]:443")
	for i := 0; i < 3*FreeFailures; i++ {
		th.Begin(now, attacker, PairKey(ownerKey, attacker))
	}
	if w, _ := th.Begin(now, attacker, PairKey(ownerKey, attacker)); w == 0 {
		t.Fatal("the attacker's attempts are not held back")
	}
	w, tk := th.Begin(now, owner, PairKey(ownerKey, owner))
	if w != 0 || tk.Held != 0 {
		t.Fatalf("the owner, from another address, waits %v (held %v)", w, tk.Held)
	}
	th.Succeeded(tk)
	if s := th.strikesOf(PairKey(ownerKey, owner)); s != nil {
		t.Errorf("the owner's entry is kept after a success: %+v", s)
	}
	if s := th.strikesOf(ip("198.51.100.7")); s == nil || s.fails != FreeFailures {
		t.Errorf("the attacker's address: %+v, want its %d failures (the rest were held back, uncounted)", s, FreeFailures)
	}
	// An IPv6 neighbour in the owner's /64 shares its address count, not
	// its key ID's entry.
	if k := Addr("[2001:db8:1:2:ffff::1]:80"); k != owner {
		t.Errorf("%v and %v: want one /64", k, owner)
	}
}

func ip(a string) Key {
	return Key{name: "ip:" + a, free: FreeFailuresPerAddress}
}

func TestThrottleAddresses(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.1:80":               "ip:192.0.2.1",
		"[::ffff:192.0.2.1]:80":      "ip:192.0.2.1",
		"[2001:db8:1:2:3:4:5:6]:80":  "ip:2001:db8:1:2::/64",
		"[2001:db8:1:2:ffff::1]:443": "ip:2001:db8:1:2::/64",
		"not an address":             "ip:not an address",
	} {
		if got := Addr(in).name; got != want {
			t.Errorf("Addr(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestThrottleBounded: a flood of distinct keys never grows the table past
// its bound. A full table forgets its least recently used quiet entry to
// make room; entries holding attempts back are kept, and once every entry
// the sweep looks at holds back, attempts share the overflow, which turns
// their failures into refusals but never holds back a right secret.
func TestThrottleBounded(t *testing.T) {
	th := Table{Max: 3 * sweepMax}
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for i := 0; i < 10*th.Max; i++ {
		th.Begin(now, ip(fmt.Sprint("quiet-", i)))
		if len(th.m) > th.Max || th.lru.Len() != len(th.m) {
			t.Fatalf("%d entries (%d in the list), want at most %d", len(th.m), th.lru.Len(), th.Max)
		}
	}
	if th.overflow.fails != 0 {
		t.Fatalf("quiet entries left no room: %d on the overflow", th.overflow.fails)
	}
	// The least recently used go first: a quiet entry used again stays.
	keep := ip(fmt.Sprint("quiet-", 10*th.Max-th.Max))
	th.Begin(now, keep)
	for i := 0; i < th.Max-1; i++ {
		th.Begin(now, ip(fmt.Sprint("new-", i)))
	}
	if th.strikesOf(keep) == nil {
		t.Error("a recently used entry was forgotten before older ones")
	}

	// Fill the table with entries holding attempts back.
	for i := 0; i < th.Max; i++ {
		k := Key{name: fmt.Sprint("ip:held-", i), free: 1}
		th.Begin(now, k)
	}
	for i := 0; i < th.Max; i++ {
		if s := th.strikesOf(Key{name: fmt.Sprint("ip:held-", i)}); s == nil || s.quiet(now) {
			t.Fatalf("held-%d: %+v, want it in the table, holding back", i, s)
		}
	}
	// Newcomers share the overflow: never refused before the secret is
	// checked; past its free failures, a failure is refused (held).
	for i := 0; i < FreeFailuresPerAddress; i++ {
		w, tk := th.Begin(now, ip(fmt.Sprint("flood-", i)))
		if w != 0 || !tk.overflow || tk.Held != 0 {
			t.Fatalf("flood attempt %d: wait %v, %+v; want it counted on the overflow, not held", i, w, tk)
		}
	}
	w, tk := th.Begin(now, ip("owner"), PairKey(ownerKey, ip("owner")))
	if w != 0 || !tk.overflow || tk.Held <= 0 {
		t.Fatalf("on the overflow past its free failures: wait %v, %+v; want no wait and held > 0", w, tk)
	}
	if len(th.m) > th.Max {
		t.Errorf("%d entries, want at most %d", len(th.m), th.Max)
	}
	// A right secret signs in: its count is undone.
	fails := th.overflow.fails
	th.Succeeded(tk)
	if th.overflow.fails != fails-1 {
		t.Errorf("overflow %d failures after a success, want %d", th.overflow.fails, fails-1)
	}

	// The waits over, the sweep forgets the quiet entries again.
	now = now.Add(2 * MaxBackoff)
	if w, tk := th.Begin(now, ip("later")); w != 0 || tk.overflow {
		t.Errorf("after the waits: wait %v, %+v; want an entry of its own", w, tk)
	}
	// And the overflow is forgotten like any entry.
	now = now.Add(2 * forget)
	if _, tk := th.Begin(now, Key{name: "x", free: 1}); tk.Held != 0 || th.overflow.fails != 0 {
		t.Errorf("the overflow is still counted after %v: %+v", 2*forget, th.overflow)
	}
}

// TestThrottleForgets: entries quiet for forget are forgotten
// as new ones come, full table or not.
func TestThrottleForgets(t *testing.T) {
	var th Table
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for i := 0; i < 10; i++ {
		th.Begin(now, ip(fmt.Sprint("a-", i)))
	}
	now = now.Add(forget + time.Minute)
	th.Begin(now, ip("b"))
	if len(th.m) != 1 {
		t.Errorf("%d entries, want the new one alone", len(th.m))
	}
}
