#!/usr/bin/env python3
"""A small HTTP(S) client for tests/test_http.sh, stdlib only.

    http_client.py OUT METHOD URL [--token T] [--data TEXT] [--cafile PEM]

Writes the response body to OUT and prints the status code (000 when no
HTTP answer came: refused, reset, a TLS failure)."""
import argparse, ssl, sys, urllib.error, urllib.request

parser = argparse.ArgumentParser ()
parser.add_argument ("out")
parser.add_argument ("method")
parser.add_argument ("url")
parser.add_argument ("--token")
parser.add_argument ("--data")
parser.add_argument ("--cafile")
args = parser.parse_args ()

request = urllib.request.Request (args.url, method=args.method,
                                  data=args.data.encode () if args.data is not None else None)
if args.token:
    request.add_header ("Authorization", "Bearer " + args.token)
if args.data is not None:
    request.add_header ("Content-Type", "application/json")
context = ssl.create_default_context (cafile=args.cafile) if args.cafile else None
try:
    with urllib.request.urlopen (request, timeout=60, context=context) as response:
        status, body = response.status, response.read ()
except urllib.error.HTTPError as error:
    status, body = error.code, error.read ()
except (urllib.error.URLError, ConnectionError, OSError) as error:
    status, body = 0, str (error).encode ()
open (args.out, "wb").write (body)
print ("%03d" % status)
