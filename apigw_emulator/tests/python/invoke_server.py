"""A minimal Lambda Invoke API for a Python handler: POST
/2015-03-31/functions/{name}/invocations runs handler.handler(event, context) and answers
its return value as JSON; an exception answers X-Amz-Function-Error: Unhandled, as Lambda
does. Listens on 127.0.0.1 (port from argv[1], 0 for any) and prints the port it got."""

import json
import sys
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import handler


class Context:
    function_name = "python-handler"
    aws_request_id = "local"


class Invoke(BaseHTTPRequestHandler):
    def do_POST(self):
        parts = self.path.strip("/").split("/")
        if len(parts) != 4 or parts[:2] != ["2015-03-31", "functions"] or parts[3] != "invocations":
            self.send_response(404)
            self.end_headers()
            return
        length = int(self.headers.get("Content-Length", "0"))
        event = json.loads(self.rfile.read(length) or b"null")
        try:
            body = json.dumps(handler.handler(event, Context())).encode()
            self.send_response(200)
        except Exception as e:  # the function's failure, reported as Lambda reports it
            body = json.dumps({"errorMessage": str(e), "errorType": type(e).__name__,
                               "stackTrace": traceback.format_exc().splitlines()}).encode()
            self.send_response(200)
            self.send_header("X-Amz-Function-Error", "Unhandled")
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1]) if len(sys.argv) > 1 else 0), Invoke)
    print(server.server_address[1], flush=True)
    server.serve_forever()
