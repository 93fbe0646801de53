package sesv1

import (
	"bytes"
	"encoding/xml"
	"net/http"
	"strconv"
	"sync"

	"github.com/sesame/sesame/internal/api"
)

const xmlns = "http://ses.amazonaws.com/doc/2010-12-01/"

// result is the body of an <ActionResult> element, written by hand: the
// shapes are small and fixed, and this is the hot path.
type result struct {
	buf bytes.Buffer
	// noResult: the action has no output shape (VerifyEmailAddress,
	// DeleteVerifiedEmailAddress), so no <ActionResult> element is sent.
	noResult bool
}

func (r *result) open(name string)  { r.buf.WriteString("<" + name + ">") }
func (r *result) close(name string) { r.buf.WriteString("</" + name + ">") }

func (r *result) elem(name, value string) {
	r.open(name)
	xml.EscapeText(&r.buf, []byte(value))
	r.close(name)
}

func (r *result) boolean(name string, v bool) { r.elem(name, strconv.FormatBool(v)) }

func (r *result) members(name string, vs []string) {
	r.open(name)
	for _, v := range vs {
		r.elem("member", v)
	}
	r.close(name)
}

// noOutput are the actions the model gives no output shape: SES answers
// them with no <ActionResult> element at all.
var noOutput = map[string]bool{
	"VerifyEmailAddress": true, "DeleteVerifiedEmailAddress": true,
	"CreateCustomVerificationEmailTemplate": true, "UpdateCustomVerificationEmailTemplate": true,
	"DeleteCustomVerificationEmailTemplate": true,
}

var bufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func writeResult(w http.ResponseWriter, action, rid string, r *result) {
	b := bufs.Get().(*bytes.Buffer)
	defer bufs.Put(b)
	b.Reset()
	b.WriteString(`<` + action + `Response xmlns="` + xmlns + `">`)
	if !r.noResult && !noOutput[action] {
		// Always sent, even empty: botocore fails without it.
		b.WriteString("<" + action + "Result>")
		b.Write(r.buf.Bytes())
		b.WriteString("</" + action + "Result>")
	}
	b.WriteString("<ResponseMetadata><RequestId>" + rid + "</RequestId></ResponseMetadata></" + action + "Response>\n")
	h := w.Header()
	h.Set("Content-Type", "text/xml")
	h.Set("x-amzn-RequestId", rid)
	w.WriteHeader(http.StatusOK)
	w.Write(b.Bytes())
}

func writeError(w http.ResponseWriter, rid string, e *api.Error) {
	var b bytes.Buffer
	typ := "Sender"
	if !e.Sender() {
		typ = "Receiver"
	}
	b.WriteString(`<ErrorResponse xmlns="` + xmlns + `"><Error><Type>` + typ + `</Type><Code>`)
	xml.EscapeText(&b, []byte(e.Code))
	b.WriteString("</Code><Message>")
	xml.EscapeText(&b, []byte(e.Message))
	b.WriteString("</Message></Error><RequestId>" + rid + "</RequestId></ErrorResponse>\n")
	h := w.Header()
	h.Set("Content-Type", "text/xml")
	h.Set("x-amzn-RequestId", rid)
	w.WriteHeader(e.Status)
	w.Write(b.Bytes())
}
