package server

import (
	"log/slog"
	"strconv"

	"github.com/sesame/sesame/internal/fileperm"
)

// warnDataDir warns when users other than the owner and group may list the
// data directory. Its files are 0600 whatever its mode (fileperm), so this
// is a warning, not a refusal: systemd units and container volumes often
// make it 0755 beforehand.
func warnDataDir(dir string, log *slog.Logger) {
	if mode, open := fileperm.OpenToOthers(dir); open {
		log.Warn("the data directory is open to other users; its files are kept 0600, but chmod 700 it to hide their names and sizes too",
			"data", dir, "mode", "0"+strconv.FormatUint(uint64(mode), 8))
	}
}
