"""A stand-in for STS GetCallerIdentity, which the AWS provider asks for
the account ID it writes into ARNs; Sesame serves SES only. Usage:
sts.py ACCOUNT PORTFILE: listens on a free loopback port, written to PORTFILE."""
import http.server
import sys

ACCOUNT = sys.argv[1]
BODY = (
    '<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>'
    f"<Arn>arn:aws:iam::{ACCOUNT}:root</Arn><UserId>{ACCOUNT}</UserId><Account>{ACCOUNT}</Account>"
    "</GetCallerIdentityResult><ResponseMetadata><RequestId>sts-stand-in</RequestId></ResponseMetadata></GetCallerIdentityResponse>"
).encode()


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200)
        self.send_header("Content-Type", "text/xml")
        self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY)

    def log_message(self, *args):
        pass


srv = http.server.HTTPServer(("127.0.0.1", 0), Handler)
with open(sys.argv[2], "w") as f:
    f.write(str(srv.server_port))
srv.serve_forever()
