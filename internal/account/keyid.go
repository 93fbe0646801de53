package account

// KeyIDLen is the length of the access key IDs Sesame issues: "AKIA" and
// 16 characters of base32, as AWS's.
const KeyIDLen = 20

// WellFormedKeyID says whether id has the shape of an access key ID that
// Sesame issues. Only such IDs are logged: whatever else is typed into a
// key ID field (a secret key pasted in the wrong box, 64 KiB of junk) can
// name no key and must not reach the log.
func WellFormedKeyID(id string) bool {
	if len(id) != KeyIDLen || id[:4] != "AKIA" {
		return false
	}
	for i := 4; i < len(id); i++ {
		if c := id[i]; !('A' <= c && c <= 'Z' || '2' <= c && c <= '7') {
			return false
		}
	}
	return true
}

// LoggedKeyID is what a log line says of a submitted key ID: the ID when
// it has the shape of one, else "malformed" (see WellFormedKeyID).
func LoggedKeyID(id string) string {
	if WellFormedKeyID(id) {
		return id
	}
	return "malformed"
}
