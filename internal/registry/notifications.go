package registry

import (
	"context"
	"regexp"

	"github.com/sesame/sesame/internal/identity"
	"github.com/sesame/sesame/internal/store"
)

// NotificationType is v1's NotificationType: Bounce, Complaint or Delivery.
type NotificationType string

const (
	Bounce    NotificationType = "Bounce"
	Complaint NotificationType = "Complaint"
	Delivery  NotificationType = "Delivery"
)

func parseNotificationType(s string) (NotificationType, error) {
	switch t := NotificationType(s); t {
	case Bounce, Complaint, Delivery:
		return t, nil
	}
	return "", errorf(Invalid, "Invalid NotificationType %q: use Bounce, Complaint or Delivery.", s)
}

// topicARN is the shape of an SNS topic ARN: partition, region, account,
// name of 1-256 letters, digits, '-' and '_' (".fifo" for FIFO topics,
// which SES does not accept as notification targets).
var topicARN = regexp.MustCompile(`^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}$`)

// editIdentity runs fn on an existing identity: an unknown one is
// NotFound (v1 InvalidParameterValue, v2 NotFoundException).
func (r *Registry) editIdentity(ctx context.Context, sc Scope, name string, fn func(cur *identity.Identity) error) (*identity.Identity, error) {
	_, n, err := parseIdentity(name)
	if err != nil {
		return nil, err
	}
	return r.update(ctx, sc.key(n), func(cur *identity.Identity) (*identity.Identity, error) {
		if cur == nil {
			return nil, wrapf(NotFound, store.ErrNotFound, "Identity %s does not exist in region %s: create it first.", n, sc.Region)
		}
		if err := fn(cur); err != nil {
			return nil, err
		}
		return cur, nil
	})
}

// SetNotificationTopic is v1 SetIdentityNotificationTopic: topic is the
// SNS topic ARN, empty to stop publishing. SES refuses to stop bounce or
// complaint notifications while feedback forwarding is off, since the
// sender would then hear of neither.
func (r *Registry) SetNotificationTopic(ctx context.Context, sc Scope, name, typ, topic string) (*identity.Identity, error) {
	t, err := parseNotificationType(typ)
	if err != nil {
		return nil, err
	}
	if name, err = nameOrARN(sc, name); err != nil {
		return nil, err
	}
	if topic != "" && !topicARN.MatchString(topic) {
		return nil, errorf(Invalid, "Invalid SnsTopic %q: give the ARN of an SNS topic, such as arn:aws:sns:%s:123456789012:my-topic, or leave it out to stop publishing %s notifications.", topic, sc.Region, t)
	}
	return r.editIdentity(ctx, sc, name, func(cur *identity.Identity) error {
		n := &cur.Notifications
		if topic == "" && t != Delivery && !cur.FeedbackForwardingStatus {
			return errorf(Invalid, "Feedback forwarding is disabled for identity %s, so its %s notifications need an SNS topic: enable feedback forwarding (SetIdentityFeedbackForwardingEnabled) before removing the topic.", cur.Name, t)
		}
		switch t {
		case Bounce:
			n.BounceTopic = topic
		case Complaint:
			n.ComplaintTopic = topic
		case Delivery:
			n.DeliveryTopic = topic
		}
		return nil
	})
}

// SetFeedbackForwarding is v1 SetIdentityFeedbackForwardingEnabled and v2
// PutEmailIdentityFeedbackAttributes. With needTopics (v1), forwarding may
// be turned off only while both bounce and complaint notifications go to
// SNS topics; v2 turns it off regardless, since there SES mails the
// feedback anyway when no other mechanism (topic, event destination)
// receives it (PutEmailIdentityFeedbackAttributes' documentation).
func (r *Registry) SetFeedbackForwarding(ctx context.Context, sc Scope, name string, enabled, needTopics bool) (*identity.Identity, error) {
	return r.editIdentity(ctx, sc, name, func(cur *identity.Identity) error {
		if !enabled && needTopics && (cur.Notifications.BounceTopic == "" || cur.Notifications.ComplaintTopic == "") {
			return errorf(Invalid, "Feedback forwarding cannot be disabled for identity %s: set SNS topics for both its Bounce and Complaint notifications first (SetIdentityNotificationTopic), or bounces and complaints would reach no one.", cur.Name)
		}
		cur.FeedbackForwardingStatus = enabled
		return nil
	})
}

// SetHeadersInNotifications is v1 SetIdentityHeadersInNotificationsEnabled.
func (r *Registry) SetHeadersInNotifications(ctx context.Context, sc Scope, name, typ string, enabled bool) (*identity.Identity, error) {
	t, err := parseNotificationType(typ)
	if err != nil {
		return nil, err
	}
	return r.editIdentity(ctx, sc, name, func(cur *identity.Identity) error {
		n := &cur.Notifications
		switch t {
		case Bounce:
			n.HeadersInBounce = enabled
		case Complaint:
			n.HeadersInComplaint = enabled
		case Delivery:
			n.HeadersInDelivery = enabled
		}
		return nil
	})
}
