package sigv4

import "testing"

// TestSMTPPassword holds the derivation to the vectors of Terraform's AWS
// provider (internal/service/iam/access_key_test.go,
// TestSESSMTPPasswordFromSecretKeySigV4), whose passwords authenticate
// against SES: vectors computed by this code would prove nothing.
func TestSMTPPassword(t *testing.T) {
	for _, c := range []struct{ region, secret, want string }{
		{"eu-central-1", "some+secret+key", "BMXhUYlu5Z3gSXVQORxlVa7XPaz91aGWdfHxvkOZdWZ2"},
		{"eu-central-1", "another+secret+key", "BBbphbrQmrKMx42d1N6+C7VINYEBGI5v9VsZeTxwskfh"},
		{"us-west-1", "some+secret+key", "BH+jbMzper5WwlwUar9E1ySBqHa9whi0GPo+sJ0mVYJj"},
		{"us-west-1", "another+secret+key", "BKVmjjMDFk/qqw8EROW99bjCS65PF8WKvK5bSr4Y6EqF"},
	} {
		if got := SMTPPassword(c.secret, c.region); got != c.want {
			t.Errorf("SMTPPassword(%q, %q) = %q, want %q", c.secret, c.region, got, c.want)
		}
	}
}
