package sigv4

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"testing"
	"time"
)

func FuzzVerify(f *testing.F) {
	good := sdkSign(f, "POST", sesHost+"/", http.Header{"Content-Type": {formType}}, v1Body, signOpts{})
	f.Add(good.req.Header.Get("Authorization"), []byte(v1Body), "/")
	get := sdkSign(f, "POST", sesHost+"/v2/email/identities/user%2Btag%40example.com?a=1&a=2&b=%7e", http.Header{"Content-Type": {formType}}, v1Body, signOpts{})
	f.Add(get.req.Header.Get("Authorization"), []byte(v1Body), get.req.RequestURI)
	pre := sdkPresign(f, "POST", sesHost+"/v2/email/identities?X-Amz-Expires=300&x=%2F", signOpts{})
	f.Add("", []byte(nil), pre.req.RequestURI)
	f.Add("AWS4-HMAC-SHA256", []byte(""), "/")
	f.Add("AWS4-HMAC-SHA256 Credential=a/b/c/d/e,SignedHeaders=host,Signature=00", []byte("x"), "//./../a/%/?&&=&b=%zz;c")
	f.Add("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261122/us-east-1/ses/aws4_request, SignedHeaders=;;host;, Signature=", []byte{}, "http://h")
	f.Add("garbage", []byte{0xff}, "*")

	v := &Verifier{Lookup: testLookup, Services: []string{"ses", "email"}, Now: func() time.Time { return testTime }}
	f.Fuzz(func(t *testing.T, authz string, body []byte, path string) {
		u, err := url.ParseRequestURI(path)
		if err != nil {
			u = &url.URL{Path: path}
		}
		r := &http.Request{
			Method:        "POST",
			URL:           u,
			RequestURI:    path,
			Host:          "email.us-east-1.amazonaws.com",
			ContentLength: int64(len(body)),
			Header: http.Header{
				"Authorization": {authz},
				"Content-Type":  {formType},
				"X-Amz-Date":    {testTime.Format(timeFormat)},
			},
		}
		for _, uri := range []string{path, ""} {
			r.RequestURI = uri
			res, err := v.Verify(context.Background(), r, body)
			var e *Error
			switch {
			case err == nil:
				if res == nil || res.AccessKeyID != testAKID {
					t.Fatalf("accepted with result %+v", res)
				}
			case !errors.As(err, &e):
				t.Fatalf("error %v is not an *Error", err)
			case e.Kind < Missing || e.Kind > Expired || e.Message == "":
				t.Fatalf("bad error %+v", e)
			}
		}
	})
}
