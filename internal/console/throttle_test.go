package console

import (
	"fmt"
	"testing"
	"time"
)

const ownerKey = "AKIAAAAAAAAAAAAAAAAA"

func (t *throttle) strikesOf(k throttleKey) *strikes {
	if e := t.m[k.name]; e != nil {
		return e.Value.(*strikes)
	}
	return nil
}

func TestThrottleBackoff(t *testing.T) {
	var th throttle
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	ip := addrKey("192.0.2.1:4000")
	id := pairKey(ownerKey, ip)
	for i := 0; i < SignInFreeFailures; i++ {
		if w, _ := th.begin(now, ip, id); w != 0 {
			t.Fatalf("attempt %d waits %v, want none within the free failures", i+1, w)
		}
	}
	// Each further failure doubles the wait, up to the cap.
	want := SignInBackoff
	for i := 0; i < 20; i++ {
		w, _ := th.begin(now, ip, id)
		if w != want {
			t.Fatalf("blocked attempt %d waits %v, want %v", i+1, w, want)
		}
		now = now.Add(w) // the wait over, the next attempt fails again
		if w, _ := th.begin(now, ip, id); w != 0 {
			t.Fatalf("after the wait: %v", w)
		}
		want = min(want*2, SignInMaxBackoff)
	}
	if want != SignInMaxBackoff {
		t.Errorf("backoff reached %v, want the cap %v", want, SignInMaxBackoff)
	}
	// A success forgets the key ID from this address, keeps the address's
	// count.
	now = now.Add(SignInMaxBackoff)
	_, tk := th.begin(now, ip, id)
	th.succeeded(tk)
	if s := th.strikesOf(id); s != nil {
		t.Errorf("key ID still counted from this address after a success: %+v", s)
	}
	if s := th.strikesOf(ip); s == nil || s.fails < SignInFreeFailures {
		t.Errorf("address forgotten after a success: %+v", s)
	}
}

// TestThrottleOwnerNotLockedOut: failures for a key ID from one address
// hold back that key ID from that address only; its owner, elsewhere,
// signs in. The other address is counted per address still.
func TestThrottleOwnerNotLockedOut(t *testing.T) {
	var th throttle
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	attacker, owner := addrKey("198.51.100.7:1234"), addrKey("[2001:db8:1:2::5]:443")
	for i := 0; i < 3*SignInFreeFailures; i++ {
		th.begin(now, attacker, pairKey(ownerKey, attacker))
	}
	if w, _ := th.begin(now, attacker, pairKey(ownerKey, attacker)); w == 0 {
		t.Fatal("the attacker's attempts are not held back")
	}
	w, tk := th.begin(now, owner, pairKey(ownerKey, owner))
	if w != 0 || tk.held != 0 {
		t.Fatalf("the owner, from another address, waits %v (held %v)", w, tk.held)
	}
	th.succeeded(tk)
	if s := th.strikesOf(pairKey(ownerKey, owner)); s != nil {
		t.Errorf("the owner's entry is kept after a success: %+v", s)
	}
	if s := th.strikesOf(ip("198.51.100.7")); s == nil || s.fails != SignInFreeFailures {
		t.Errorf("the attacker's address: %+v, want its %d failures (the rest were held back, uncounted)", s, SignInFreeFailures)
	}
	// An IPv6 neighbour in the owner's /64 shares its address count, not
	// its key ID's entry.
	if k := addrKey("[2001:db8:1:2:ffff::1]:80"); k != owner {
		t.Errorf("%v and %v: want one /64", k, owner)
	}
}

func ip(a string) throttleKey {
	return throttleKey{name: "ip:" + a, free: SignInFreeFailuresPerAddress}
}

func TestThrottleAddresses(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.1:80":               "ip:192.0.2.1",
		"[::ffff:192.0.2.1]:80":      "ip:192.0.2.1",
		"[2001:db8:1:2:3:4:5:6]:80":  "ip:2001:db8:1:2::/64",
		"[2001:db8:1:2:ffff::1]:443": "ip:2001:db8:1:2::/64",
		"not an address":             "ip:not an address",
	} {
		if got := addrKey(in).name; got != want {
			t.Errorf("addrKey(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestThrottleBounded: a flood of distinct keys never grows the table past
// its bound. A full table forgets its least recently used quiet entry to
// make room; entries holding attempts back are kept, and once every entry
// the sweep looks at holds back, attempts share the overflow, which turns
// their failures into refusals but never holds back a right secret.
func TestThrottleBounded(t *testing.T) {
	th := throttle{max: 3 * throttleSweep}
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for i := 0; i < 10*th.max; i++ {
		th.begin(now, ip(fmt.Sprint("quiet-", i)))
		if len(th.m) > th.max || th.lru.Len() != len(th.m) {
			t.Fatalf("%d entries (%d in the list), want at most %d", len(th.m), th.lru.Len(), th.max)
		}
	}
	if th.overflow.fails != 0 {
		t.Fatalf("quiet entries left no room: %d on the overflow", th.overflow.fails)
	}
	// The least recently used go first: a quiet entry used again stays.
	keep := ip(fmt.Sprint("quiet-", 10*th.max-th.max))
	th.begin(now, keep)
	for i := 0; i < th.max-1; i++ {
		th.begin(now, ip(fmt.Sprint("new-", i)))
	}
	if th.strikesOf(keep) == nil {
		t.Error("a recently used entry was forgotten before older ones")
	}

	// Fill the table with entries holding attempts back.
	for i := 0; i < th.max; i++ {
		k := throttleKey{name: fmt.Sprint("ip:held-", i), free: 1}
		th.begin(now, k)
	}
	for i := 0; i < th.max; i++ {
		if s := th.strikesOf(throttleKey{name: fmt.Sprint("ip:held-", i)}); s == nil || s.quiet(now) {
			t.Fatalf("held-%d: %+v, want it in the table, holding back", i, s)
		}
	}
	// Newcomers share the overflow: never refused before the secret is
	// checked; past its free failures, a failure is refused (held).
	for i := 0; i < SignInFreeFailuresPerAddress; i++ {
		w, tk := th.begin(now, ip(fmt.Sprint("flood-", i)))
		if w != 0 || !tk.overflow || tk.held != 0 {
			t.Fatalf("flood attempt %d: wait %v, %+v; want it counted on the overflow, not held", i, w, tk)
		}
	}
	w, tk := th.begin(now, ip("owner"), pairKey(ownerKey, ip("owner")))
	if w != 0 || !tk.overflow || tk.held <= 0 {
		t.Fatalf("on the overflow past its free failures: wait %v, %+v; want no wait and held > 0", w, tk)
	}
	if len(th.m) > th.max {
		t.Errorf("%d entries, want at most %d", len(th.m), th.max)
	}
	// A right secret signs in: its count is undone.
	fails := th.overflow.fails
	th.succeeded(tk)
	if th.overflow.fails != fails-1 {
		t.Errorf("overflow %d failures after a success, want %d", th.overflow.fails, fails-1)
	}

	// The waits over, the sweep forgets the quiet entries again.
	now = now.Add(2 * SignInMaxBackoff)
	if w, tk := th.begin(now, ip("later")); w != 0 || tk.overflow {
		t.Errorf("after the waits: wait %v, %+v; want an entry of its own", w, tk)
	}
	// And the overflow is forgotten like any entry.
	now = now.Add(2 * throttleForget)
	if _, tk := th.begin(now, throttleKey{name: "x", free: 1}); tk.held != 0 || th.overflow.fails != 0 {
		t.Errorf("the overflow is still counted after %v: %+v", 2*throttleForget, th.overflow)
	}
}

// TestThrottleForgets: entries quiet for throttleForget are forgotten
// as new ones come, full table or not.
func TestThrottleForgets(t *testing.T) {
	var th throttle
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for i := 0; i < 10; i++ {
		th.begin(now, ip(fmt.Sprint("a-", i)))
	}
	now = now.Add(throttleForget + time.Minute)
	th.begin(now, ip("b"))
	if len(th.m) != 1 {
		t.Errorf("%d entries, want the new one alone", len(th.m))
	}
}
