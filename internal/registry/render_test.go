package registry

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sesame/sesame/internal/store"
)

func TestRenderTemplate(t *testing.T) {
	for _, c := range []struct {
		name, text, data string
		want             string
		err              error
	}{
		{name: "variable", text: "Hello {{name}}", data: `{"name":"Ana"}`, want: "Hello Ana"},
		{name: "nested", text: "{{user.first}} of {{user.city}}", data: `{"user":{"first":"Ana","city":"Oslo"}}`, want: "Ana of Oslo"},
		{name: "not escaped", text: "{{v}}", data: `{"v":"<b>&</b>"}`, want: "<b>&</b>"},
		{name: "number as written", text: "{{price}}", data: `{"price":1.50}`, want: "1.50"},
		{name: "each", text: "{{#each items}}[{{this}}]{{/each}}", data: `{"items":["a","b"]}`, want: "[a][b]"},
		{name: "if else", text: "{{#if vip}}VIP{{else}}guest{{/if}}", data: `{"vip":false}`, want: "guest"},
		{name: "missing in a block is empty", text: "{{#each items}}{{nope}}{{/each}}.", data: `{"items":[1]}`, want: "."},
		{name: "missing", text: "Hello {{name}}", data: `{}`, err: ErrMissingAttribute},
		{name: "missing nested", text: "{{user.first}}", data: `{"user":{}}`, err: ErrMissingAttribute},
		{name: "not JSON", text: "x", data: `{"a":`, err: ErrRenderingParameter},
		{name: "not an object", text: "x", data: `[1]`, err: ErrRenderingParameter},
		{name: "missing partial", text: "{{> footer}}", data: `{}`, err: ErrInvalidTemplate},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := RenderTemplate(&store.EmailTemplate{TemplateKey: store.TemplateKey{Name: "t"}, Text: c.text}, c.data)
			if c.err != nil {
				if !errors.Is(err, c.err) || !IsKind(err, Invalid) {
					t.Fatalf("err = %v, want %v", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Text != c.want {
				t.Errorf("text = %q, want %q", got.Text, c.want)
			}
		})
	}
}

func TestRenderMissingMessage(t *testing.T) {
	_, err := RenderTemplate(&store.EmailTemplate{Subject: "Hi {{name}}"}, `{}`)
	// SES's text, as its Rendering Failure events give it.
	if want := "Attribute 'name' is not present in the rendering data."; err == nil || err.Error() != want {
		t.Errorf("err = %v, want %q", err, want)
	}
}

func TestRenderedMIME(t *testing.T) {
	r := &Rendered{Subject: "Hi", Text: "a\nb", HTML: "<p>a</p>"}
	got := r.MIME("B")
	want := "Subject: Hi\r\nMIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=\"B\"\r\n\r\n" +
		"--B\r\nContent-Transfer-Encoding: 7bit\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\na\r\nb\r\n" +
		"--B\r\nContent-Transfer-Encoding: 7bit\r\nContent-Type: text/html; charset=UTF-8\r\n\r\n<p>a</p>\r\n--B--\r\n"
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("MIME (-want +got):\n%s", d)
	}
	one := (&Rendered{Subject: "Hi", HTML: "<p>é</p>"}).MIME("B")
	if !strings.Contains(one, "Content-Type: text/html; charset=UTF-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n<p>é</p>") {
		t.Errorf("one HTML part:\n%s", one)
	}
}
