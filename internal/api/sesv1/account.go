package sesv1

import (
	"strconv"
)

// The account's sending state: GetSendQuota, GetSendStatistics,
// GetAccountSendingEnabled, UpdateAccountSendingEnabled.

// double writes a quota as SES does: 200.0, -1.0.
func double(v float64) string {
	if v == float64(int64(v)) {
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

func (h *Handler) getSendQuota(r *request) (*result, error) {
	a, err := h.Registry.SendingAccount(r.ctx, r.scope)
	if err != nil {
		return nil, err
	}
	var out result
	out.elem("Max24HourSend", double(a.Quota.Max24HourSend))
	out.elem("MaxSendRate", double(a.Quota.MaxSendRate))
	out.elem("SentLast24Hours", double(a.SentLast24Hours))
	return &out, nil
}

func (h *Handler) getSendStatistics(r *request) (*result, error) {
	ps, err := h.Registry.SendStatistics(r.ctx, r.scope)
	if err != nil {
		return nil, err
	}
	var out result
	out.open("SendDataPoints")
	for _, p := range ps {
		out.open("member")
		out.elem("Timestamp", timestamp(p.Timestamp))
		out.elem("DeliveryAttempts", strconv.FormatInt(p.DeliveryAttempts, 10))
		out.elem("Bounces", strconv.FormatInt(p.Bounces, 10))
		out.elem("Complaints", strconv.FormatInt(p.Complaints, 10))
		out.elem("Rejects", strconv.FormatInt(p.Rejects, 10))
		out.close("member")
	}
	out.close("SendDataPoints")
	return &out, nil
}

func (h *Handler) getAccountSendingEnabled(r *request) (*result, error) {
	a, err := h.Registry.SendingAccount(r.ctx, r.scope)
	if err != nil {
		return nil, err
	}
	var out result
	out.boolean("Enabled", a.Enabled)
	return &out, nil
}

// updateAccountSendingEnabled: an absent Enabled is false, since the SDKs
// leave a false boolean out (aws-sdk-go-v2 sends Enabled only when true).
func (h *Handler) updateAccountSendingEnabled(r *request) (*result, error) {
	on := false
	if r.params.has("Enabled") {
		var err error
		if on, err = r.params.boolean("Enabled"); err != nil {
			return nil, err
		}
	}
	if err := h.Registry.SetSendingEnabled(r.ctx, r.scope, on); err != nil {
		return nil, err
	}
	return &result{noResult: true}, nil
}
