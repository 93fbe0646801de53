package sesv1

import (
	"github.com/sesame/sesame/internal/identity"
	"github.com/sesame/sesame/internal/registry"
)

// The identity settings beyond verification: notification topics,
// feedback forwarding, headers in notifications, sending-authorization
// policies.

func (h *Handler) getIdentityNotificationAttributes(r *request) (*result, error) {
	m, order, err := h.identities(r)
	if err != nil {
		return nil, err
	}
	var out result
	out.open("NotificationAttributes")
	each(m, order, func(n string, id *identity.Identity) {
		nt := id.Notifications
		out.open("entry")
		out.elem("key", n)
		out.open("value")
		// The model requires the three topics: an unset one is empty.
		out.elem("BounceTopic", nt.BounceTopic)
		out.elem("ComplaintTopic", nt.ComplaintTopic)
		out.elem("DeliveryTopic", nt.DeliveryTopic)
		out.boolean("ForwardingEnabled", id.FeedbackForwardingStatus)
		out.boolean("HeadersInBounceNotificationsEnabled", nt.HeadersInBounce)
		out.boolean("HeadersInComplaintNotificationsEnabled", nt.HeadersInComplaint)
		out.boolean("HeadersInDeliveryNotificationsEnabled", nt.HeadersInDelivery)
		out.close("value")
		out.close("entry")
	})
	out.close("NotificationAttributes")
	return &out, nil
}

func (h *Handler) setIdentityNotificationTopic(r *request) (*result, error) {
	n, err := r.params.required("Identity")
	if err != nil {
		return nil, err
	}
	typ, err := r.params.required("NotificationType")
	if err != nil {
		return nil, err
	}
	if _, err := h.Registry.SetNotificationTopic(r.ctx, r.scope, n, typ, r.params.get("SnsTopic")); err != nil {
		return nil, err
	}
	return &result{}, nil
}

func (h *Handler) setIdentityFeedbackForwardingEnabled(r *request) (*result, error) {
	n, err := r.params.required("Identity")
	if err != nil {
		return nil, err
	}
	on, err := r.params.boolean("ForwardingEnabled")
	if err != nil {
		return nil, err
	}
	if _, err := h.Registry.SetFeedbackForwarding(r.ctx, r.scope, n, on, true); err != nil {
		return nil, err
	}
	return &result{}, nil
}

func (h *Handler) setIdentityHeadersInNotificationsEnabled(r *request) (*result, error) {
	n, err := r.params.required("Identity")
	if err != nil {
		return nil, err
	}
	typ, err := r.params.required("NotificationType")
	if err != nil {
		return nil, err
	}
	on, err := r.params.boolean("Enabled")
	if err != nil {
		return nil, err
	}
	if _, err := h.Registry.SetHeadersInNotifications(r.ctx, r.scope, n, typ, on); err != nil {
		return nil, err
	}
	return &result{}, nil
}

func (h *Handler) putIdentityPolicy(r *request) (*result, error) {
	n, err := r.params.required("Identity")
	if err != nil {
		return nil, err
	}
	p, err := r.params.required("PolicyName")
	if err != nil {
		return nil, err
	}
	doc, err := r.params.required("Policy")
	if err != nil {
		return nil, err
	}
	if err := h.Registry.PutPolicy(r.ctx, r.scope, n, p, doc, registry.PolicyUpsert); err != nil {
		return nil, err
	}
	return &result{}, nil
}

func (h *Handler) getIdentityPolicies(r *request) (*result, error) {
	n, err := r.params.required("Identity")
	if err != nil {
		return nil, err
	}
	names, err := r.params.list("PolicyNames")
	if err != nil {
		return nil, err
	}
	if len(names) == 0 && !r.params.has("PolicyNames") {
		if _, err := r.params.required("PolicyNames"); err != nil {
			return nil, err
		}
	}
	if names == nil {
		names = []string{}
	}
	ps, err := h.Registry.IdentityPolicies(r.ctx, r.scope, n, names)
	if err != nil {
		return nil, err
	}
	var out result
	out.open("Policies")
	for _, p := range names {
		if d, ok := ps[p]; ok {
			out.open("entry")
			out.elem("key", p)
			out.elem("value", d)
			out.close("entry")
			delete(ps, p)
		}
	}
	out.close("Policies")
	return &out, nil
}

func (h *Handler) listIdentityPolicies(r *request) (*result, error) {
	n, err := r.params.required("Identity")
	if err != nil {
		return nil, err
	}
	names, err := h.Registry.PolicyNames(r.ctx, r.scope, n)
	if err != nil {
		return nil, err
	}
	var out result
	out.members("PolicyNames", names)
	return &out, nil
}

func (h *Handler) deleteIdentityPolicy(r *request) (*result, error) {
	n, err := r.params.required("Identity")
	if err != nil {
		return nil, err
	}
	p, err := r.params.required("PolicyName")
	if err != nil {
		return nil, err
	}
	if err := h.Registry.DeletePolicy(r.ctx, r.scope, n, p, false); err != nil {
		return nil, err
	}
	return &result{}, nil
}
