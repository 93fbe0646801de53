package throttle

import (
	"fmt"
	"testing"
	"time"
)

func TestThrottleBackoff(t *testing.T) {
	var th Table
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	id, ip := KeyID("AKIAAAAAAAAAAAAAAAAA"), Addr("192.0.2.1:4000")
	for i := 0; i < FreeFailures; i++ {
		if w := th.Wait(now, id, ip); w != 0 {
			t.Fatalf("attempt %d waits %v, want none within the free failures", i+1, w)
		}
	}
	// Each further failure doubles the wait, up to the cap.
	want := FirstBackoff
	for i := 0; i < 20; i++ {
		w := th.Wait(now, id, ip)
		if w != want {
			t.Fatalf("blocked attempt %d waits %v, want %v", i+1, w, want)
		}
		now = now.Add(w) // the wait over, the next attempt fails again
		if w := th.Wait(now, id, ip); w != 0 {
			t.Fatalf("after the wait: %v", w)
		}
		want = min(want*2, MaxBackoff)
	}
	if want != MaxBackoff {
		t.Errorf("backoff reached %v, want the cap %v", want, MaxBackoff)
	}
	// A success forgets the key ID, keeps the address's count.
	now = now.Add(MaxBackoff)
	th.Wait(now, id, ip)
	th.Succeeded(id, ip)
	if s := th.m[id.name]; s != nil {
		t.Errorf("key ID still counted after a success: %+v", s)
	}
	if s := th.m[ip.name]; s == nil || s.fails < FreeFailures {
		t.Errorf("address forgotten after a success: %+v", s)
	}
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

// TestThrottleBounded: a flood of distinct keys never grows the table
// past its bound; those that do not fit share one entry, and so are
// throttled together.
func TestThrottleBounded(t *testing.T) {
	var th Table
	now := time.Now()
	for i := 0; i < tableMax+1000; i++ {
		th.Wait(now, Key{fmt.Sprintf("ip:%d", i), FreeFailuresPerAddress})
	}
	if len(th.m) > tableMax+1 {
		t.Errorf("%d entries, want at most %d", len(th.m), tableMax+1)
	}
	if s := th.m["overflow"]; s == nil || s.fails < FreeFailuresPerAddress || !now.Before(s.until) {
		t.Errorf("overflow entry %+v: want the extra attempts counted and held back", s)
	}
	if w := th.Wait(now, Key{"ip:new", FreeFailuresPerAddress}); w == 0 {
		t.Error("a new address let through while the table is full and the overflow held back")
	}
}
