package records

import (
	"fmt"
	"slices"
)

// Severity says how much a finding about records matters, in the doctor's
// reports and plan's problems alike. Reports are sorted by it, most severe
// first, and the commands exit 1 when any finding is an Error.
type Severity int

const (
	SeverityOK      Severity = iota // a check passed
	SeverityInfo                    // worth knowing; nothing to fix
	SeverityWarning                 // works today, or may; fix it to be safe
	SeverityError                   // SES will not verify, or mail will fail
)

var severityNames = [...]string{"ok", "info", "warning", "error"}

func (s Severity) String() string {
	if s >= 0 && int(s) < len(severityNames) {
		return severityNames[s]
	}
	return fmt.Sprintf("Severity(%d)", int(s))
}

// MarshalText writes the lower-case name, as the JSON schemas document.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads what MarshalText wrote.
func (s *Severity) UnmarshalText(b []byte) error {
	i := slices.Index(severityNames[:], string(b))
	if i < 0 {
		return fmt.Errorf("severity %q: want ok, info, warning or error", b)
	}
	*s = Severity(i)
	return nil
}
