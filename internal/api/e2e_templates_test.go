package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	"github.com/aws/aws-sdk-go-v2/service/ses/types"
)

// TestEmailTemplatesV1: the email template actions through the SDK, with
// SES's codes for each failure.
func TestEmailTemplatesV1(t *testing.T) {
	_, a := start(t)
	c := a.V1("us-east-1")
	ctx := t.Context()
	tpl := &types.Template{TemplateName: aws.String("welcome"), SubjectPart: aws.String("Hi {{name}}"),
		TextPart: aws.String("Dear {{name}},\n{{#each items}}- {{this}}\n{{/each}}"), HtmlPart: aws.String("<p>{{name}} &amp; co</p>")}
	try(c.CreateTemplate(ctx, &ses.CreateTemplateInput{Template: tpl})).must(t)
	_, err := c.CreateTemplate(ctx, &ses.CreateTemplateInput{Template: tpl})
	wantAPIError(t, err, "AlreadyExists", http.StatusBadRequest)

	got := try(c.GetTemplate(ctx, &ses.GetTemplateInput{TemplateName: aws.String("welcome")})).must(t).Template
	if aws.ToString(got.SubjectPart) != "Hi {{name}}" || aws.ToString(got.HtmlPart) != "<p>{{name}} &amp; co</p>" || !strings.Contains(aws.ToString(got.TextPart), "{{#each items}}") {
		t.Errorf("GetTemplate = %+v", got)
	}
	_, err = c.GetTemplate(ctx, &ses.GetTemplateInput{TemplateName: aws.String("nope")})
	if msg := wantAPIError(t, err, "TemplateDoesNotExist", http.StatusBadRequest); msg != "Template nope does not exist." {
		t.Errorf("message %q", msg)
	}
	// Templates are per region.
	_, err = a.V1("eu-west-1").GetTemplate(ctx, &ses.GetTemplateInput{TemplateName: aws.String("welcome")})
	wantAPIError(t, err, "TemplateDoesNotExist", http.StatusBadRequest)

	r := try(c.TestRenderTemplate(ctx, &ses.TestRenderTemplateInput{TemplateName: aws.String("welcome"),
		TemplateData: aws.String(`{"name":"Ana <a@x>","items":["one","two"]}`)})).must(t)
	rt := aws.ToString(r.RenderedTemplate)
	for _, want := range []string{"Subject: Hi Ana <a@x>\r\n", "Dear Ana <a@x>,\r\n- one\r\n- two\r\n", "<p>Ana <a@x> &amp; co</p>", "multipart/alternative"} {
		if !strings.Contains(rt, want) {
			t.Errorf("RenderedTemplate lacks %q:\n%s", want, rt)
		}
	}
	for _, c2 := range []struct{ data, code string }{
		{`{"items":[]}`, "MissingRenderingAttribute"},
		{`not json`, "InvalidRenderingParameter"},
	} {
		_, err := c.TestRenderTemplate(ctx, &ses.TestRenderTemplateInput{TemplateName: aws.String("welcome"), TemplateData: aws.String(c2.data)})
		wantAPIError(t, err, c2.code, http.StatusBadRequest)
	}
	_, err = c.TestRenderTemplate(ctx, &ses.TestRenderTemplateInput{TemplateName: aws.String("nope"), TemplateData: aws.String(`{}`)})
	wantAPIError(t, err, "TemplateDoesNotExist", http.StatusBadRequest)

	// A part that is not Handlebars is refused when stored.
	_, err = c.CreateTemplate(ctx, &ses.CreateTemplateInput{Template: &types.Template{TemplateName: aws.String("bad"), SubjectPart: aws.String("{{#if x}}open")}})
	wantAPIError(t, err, "InvalidTemplate", http.StatusBadRequest)
	_, err = c.CreateTemplate(ctx, &ses.CreateTemplateInput{Template: &types.Template{TemplateName: aws.String("big"), TextPart: aws.String(strings.Repeat("x", 500*1024+1))}})
	wantAPIError(t, err, "InvalidTemplate", http.StatusBadRequest)
	_, err = c.CreateTemplate(ctx, &ses.CreateTemplateInput{Template: &types.Template{TemplateName: aws.String("bad name!")}})
	wantAPIError(t, err, "InvalidParameterValue", http.StatusBadRequest)

	// Update replaces the whole template.
	try(c.UpdateTemplate(ctx, &ses.UpdateTemplateInput{Template: &types.Template{TemplateName: aws.String("welcome"), SubjectPart: aws.String("New")}})).must(t)
	got = try(c.GetTemplate(ctx, &ses.GetTemplateInput{TemplateName: aws.String("welcome")})).must(t).Template
	if aws.ToString(got.SubjectPart) != "New" || got.TextPart != nil || got.HtmlPart != nil {
		t.Errorf("after UpdateTemplate: %+v", got)
	}
	_, err = c.UpdateTemplate(ctx, &ses.UpdateTemplateInput{Template: &types.Template{TemplateName: aws.String("nope"), SubjectPart: aws.String("x")}})
	wantAPIError(t, err, "TemplateDoesNotExist", http.StatusBadRequest)

	for i := range 3 {
		try(c.CreateTemplate(ctx, &ses.CreateTemplateInput{Template: &types.Template{TemplateName: aws.String(fmt.Sprintf("t%d", i)), SubjectPart: aws.String("s")}})).must(t)
	}
	var names []string
	var next *string
	for {
		out := try(c.ListTemplates(ctx, &ses.ListTemplatesInput{MaxItems: aws.Int32(3), NextToken: next})).must(t)
		for _, m := range out.TemplatesMetadata {
			if m.CreatedTimestamp == nil || m.CreatedTimestamp.IsZero() {
				t.Errorf("template %s has no CreatedTimestamp", aws.ToString(m.Name))
			}
			names = append(names, aws.ToString(m.Name))
		}
		if next = out.NextToken; next == nil {
			break
		}
	}
	if want := "t0 t1 t2 welcome"; strings.Join(names, " ") != want {
		t.Errorf("ListTemplates = %v, want %s", names, want)
	}
	try(c.DeleteTemplate(ctx, &ses.DeleteTemplateInput{TemplateName: aws.String("welcome")})).must(t)
	try(c.DeleteTemplate(ctx, &ses.DeleteTemplateInput{TemplateName: aws.String("welcome")})).must(t)
	_, err = c.GetTemplate(ctx, &ses.GetTemplateInput{TemplateName: aws.String("welcome")})
	wantAPIError(t, err, "TemplateDoesNotExist", http.StatusBadRequest)
}
