#!/usr/bin/python3
"""Signs requests with botocore's own SigV4 signer and prints them as JSON, for the .NET verifier's tests.

  botocore_sign.py describe-instances --endpoint http://127.0.0.1:8788 --access-key K --secret S --region R
      an EC2 Query API POST (Action=DescribeInstances), signed now with SigV4Auth
  botocore_sign.py presign --endpoint ... --access-key K --secret S --region R [--expires N]
      the same call as a presigned GET URL, signed now with SigV4QueryAuth
  botocore_sign.py cases < cases.json
      each case signed at its fixed timestamp; botocore's canonical request and string to sign included

Output: {"method", "url", "headers": [[name, value], ...], "body"} (a list of them for "cases"). Only the
interpreter's standard library and botocore are used; nothing is sent anywhere.
"""
import argparse
import datetime
import json
import logging
import sys
import types
from unittest import mock
from urllib.parse import urlsplit

import botocore
import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

EC2_BODY = "Action=DescribeInstances&Version=2016-11-15"
FORM = "application/x-www-form-urlencoded; charset=utf-8"


class _Capture(logging.Handler):
    """botocore logs its CanonicalRequest and StringToSign at DEBUG (what `aws --debug` shows)."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.values = {}

    def emit(self, record):
        message = record.getMessage()
        for label in ("CanonicalRequest", "StringToSign"):
            if message.startswith(label + ":\n"):
                self.values[label] = message[len(label) + 2:]


def _wire(request, extra=None):
    headers = [[k, v] for k, v in request.headers.items()]
    if not any(k.lower() == "host" for k, _ in headers):
        # An HTTP client adds Host from the URL; botocore signed exactly that value.
        headers.append(["Host", urlsplit(request.url).netloc])
    body = request.body or b""
    if isinstance(body, str):
        body = body.encode("utf-8")
    result = {"method": request.method, "url": request.url, "headers": headers, "body": body.decode("utf-8")}
    result.update(extra or {})
    return result


def _signer(presign, credentials, service, region, expires):
    if presign:
        return botocore.auth.SigV4QueryAuth(credentials, service, region, expires=expires)
    return botocore.auth.SigV4Auth(credentials, service, region)


def _frozen_clock(timestamp):
    fixed = datetime.datetime.strptime(timestamp, "%Y%m%dT%H%M%SZ")

    class Frozen(datetime.datetime):
        @classmethod
        def utcnow(cls):
            return fixed

        @classmethod
        def now(cls, tz=None):
            return fixed.replace(tzinfo=tz) if tz else fixed

    return mock.patch.object(botocore.auth, "datetime", types.SimpleNamespace(datetime=Frozen, timezone=datetime.timezone))


def sign_cases(cases):
    capture = _Capture()
    logger = logging.getLogger("botocore.auth")
    logger.addHandler(capture)
    logger.setLevel(logging.DEBUG)
    results = []
    for case in cases:
        request = AWSRequest(method=case["method"], url=case["url"], data=case.get("body", "").encode("utf-8"))
        for name, value in case.get("headers", []):
            request.headers[name] = value  # HTTPHeaders appends, so a repeated name stays repeated
        credentials = Credentials(case["access_key"], case["secret"], case.get("token"))
        capture.values = {}
        with _frozen_clock(case["timestamp"]):
            _signer(case.get("presign", False), credentials, case["service"], case["region"], case.get("expires", 3600)).add_auth(request)
        results.append(_wire(request, {
            "name": case["name"],
            "canonical_request": capture.values.get("CanonicalRequest"),
            "string_to_sign": capture.values.get("StringToSign"),
        }))
    return results


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["describe-instances", "presign", "cases"])
    parser.add_argument("--endpoint", default="http://127.0.0.1:8788")
    parser.add_argument("--access-key")
    parser.add_argument("--secret")
    parser.add_argument("--region", default="cp-1")
    parser.add_argument("--expires", type=int, default=300)
    args = parser.parse_args()

    if args.mode == "cases":
        output = sign_cases(json.load(sys.stdin))
    else:
        credentials = Credentials(args.access_key, args.secret)
        endpoint = args.endpoint.rstrip("/") + "/"
        if args.mode == "describe-instances":
            request = AWSRequest(method="POST", url=endpoint, data=EC2_BODY.encode("utf-8"))
            request.headers["Content-Type"] = FORM
        else:
            request = AWSRequest(method="GET", url=endpoint + "?" + EC2_BODY)
        _signer(args.mode == "presign", credentials, "ec2", args.region, args.expires).add_auth(request)
        output = _wire(request, {"botocore": botocore.__version__})
    json.dump(output, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main()
