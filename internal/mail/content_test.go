package mail

import (
	"errors"
	"strings"
	"testing"
)

func TestCheckContent(t *testing.T) {
	tests := []struct {
		name    string
		content string
		bad     string // in the error; empty: accepted
	}{
		{name: "SES's sample", content: `<html><head></head><body style="font-family:sans-serif;"><h1 style="text-align:center">Ready?</h1><p>Click below.</p></body></html>`},
		{name: "plain text", content: "Please confirm your address."},
		{name: "table and image", content: `<table width="100%" summary="x"><tr><td colspan="2" abbr="a"><img src="data:image/png;base64,AAAA" alt="logo" width="10"></td></tr></table>`},
		{name: "doctype", content: "<!DOCTYPE html><html><body>Hi</body></html>"},
		{name: "upper case tags", content: `<P CLASS="x">Hi</P>`},
		{name: "comment", content: "<p>Hi</p><!-- tracking -->", bad: "comments are not allowed"},
		{name: "link", content: `<a href="https://evil.example">click</a>`, bad: "<a>"},
		{name: "script", content: `<script>alert(1)</script>`, bad: "<script>"},
		{name: "style element", content: `<style>p{}</style>`, bad: "<style>"},
		{name: "event handler", content: `<p onclick="x()">Hi</p>`, bad: `"onclick"`},
		{name: "src on a paragraph", content: `<p src="x">Hi</p>`, bad: `"src"`},
		{name: "too large", content: strings.Repeat("a", MaxTemplate+1), bad: "10 MB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckContent(tt.content)
			switch {
			case tt.bad == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tt.bad != "" && (!errors.Is(err, ErrContent) || !strings.Contains(err.Error(), tt.bad)):
				t.Errorf("error %v, want ErrContent naming %q", err, tt.bad)
			}
		})
	}
}
