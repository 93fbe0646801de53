package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/pflag"
)

// Machine output, the same for every command (README, "Machine output"):
// -o json (--output json) writes JSON Lines, one compact JSON object per
// line and nothing else on standard output. A command about one thing
// writes one line; a list writes one line per item and no enclosing array,
// so that the output streams and an empty list is empty.

// outputFlag adds -o/--output, whose first format is the default.
func outputFlag(fl *pflag.FlagSet, output *string, formats ...string) {
	fl.StringVarP(output, "output", "o", formats[0], "output format: "+orList(formats))
}

// checkOutput is the usage error of an unknown format.
func checkOutput(output string, formats ...string) error {
	if !slices.Contains(formats, output) {
		return usageError{fmt.Errorf("--output %q: use %s", output, orList(formats))}
	}
	return nil
}

func orList(s []string) string {
	if len(s) == 1 {
		return s[0]
	}
	return strings.Join(s[:len(s)-1], ", ") + " or " + s[len(s)-1]
}

// writeJSON writes v as one line.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false) // links keep their & as it is
	return enc.Encode(v)
}

// writeJSONLines writes each item as one line.
func writeJSONLines[T any](w io.Writer, items []T) error {
	for _, it := range items {
		if err := writeJSON(w, it); err != nil {
			return err
		}
	}
	return nil
}

// compactJSON is a writer that writes the one JSON document written to it
// as one line, for a writer of indented JSON (plan's), when closed.
type compactJSON struct {
	w   io.Writer
	buf bytes.Buffer
}

func (c *compactJSON) Write(p []byte) (int, error) { return c.buf.Write(p) }

func (c *compactJSON) Close() error {
	var out bytes.Buffer
	if err := json.Compact(&out, c.buf.Bytes()); err != nil {
		return err
	}
	out.WriteByte('\n')
	_, err := c.w.Write(out.Bytes())
	return err
}
