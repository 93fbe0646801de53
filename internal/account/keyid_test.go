package account

import (
	"context"
	"strings"
	"testing"
)

func TestWellFormedKeyID(t *testing.T) {
	m, _ := newManager(t)
	c, err := m.Create(context.Background(), "a")
	if err != nil {
		t.Fatal(err)
	}
	if !WellFormedKeyID(c.AccessKeyId) {
		t.Errorf("an issued key ID %q is not well-formed", c.AccessKeyId)
	}
	for _, id := range []string{"", "AKIA", string(c.SecretAccessKey), strings.ToLower(c.AccessKeyId), c.AccessKeyId + "A",
		"AKIA0000000000000000", "ASIAAAAAAAAAAAAAAAAA", "AKIAAAAAAAAAAAAAAAA=", strings.Repeat("A", 64<<10)} {
		if WellFormedKeyID(id) {
			t.Errorf("WellFormedKeyID(%.40q) = true", id)
		}
	}
}
