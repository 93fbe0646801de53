package account

import (
	"testing"

	"github.com/sesame/sesame/internal/store"
)

func TestQuotaOf(t *testing.T) {
	for _, c := range []struct {
		name string
		s    store.SendingState
		want Quota
	}{
		{"new account: the sandbox", store.SendingState{}, Quota{200, 1}},
		{"production", store.SendingState{Production: true}, Quota{50000, 14}},
		{"own numbers", store.SendingState{Production: true, Max24HourSend: 1e6, MaxSendRate: 100}, Quota{1e6, 100}},
		{"unlimited", store.SendingState{Max24HourSend: -5, MaxSendRate: -1}, Quota{-1, -1}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := QuotaOf(&c.s); got != c.want {
				t.Errorf("QuotaOf = %+v, want %+v", got, c.want)
			}
		})
	}
}
