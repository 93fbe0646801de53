package storecopy

// For the tests, of package storecopy_test: they start servers, and the
// server imports this package (CopyDatabase).
var (
	SourceTables = sourceTables
	Tables       = tables
	CheckSource  = checkSource
	DestColumns  = destColumns
	Joined       = joined
)
