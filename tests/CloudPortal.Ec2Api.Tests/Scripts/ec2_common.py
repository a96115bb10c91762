"""Shared by the boto3 scripts: clients for the keys the C# fixture passes in, and error capture.

Environment (set by the test): EC2_ENDPOINT, EC2_REGION, EC2_{MEMBER,READER,OTHER}_{KEY_ID,SECRET}; the hermetic
AWS_* settings of EC2-API.md section 4. Nothing here reaches anything but EC2_ENDPOINT.
"""
import contextlib
import datetime
import importlib
import json
import os
import sys
import time
import types
from unittest import mock

import boto3
import botocore
import botocore.auth
from botocore.config import Config
from botocore.exceptions import ClientError

ENDPOINT = os.environ["EC2_ENDPOINT"]
REGION = os.environ.get("EC2_REGION", "cp-1")


def client(who="MEMBER", region=None, key_id=None, secret=None, **config):
    """A boto3 EC2 client as one of the fixture's keys; no retries, short connect timeout."""
    settings = dict(retries={"mode": "standard", "max_attempts": 1}, connect_timeout=5, read_timeout=120)
    settings.update(config)
    return boto3.client(
        "ec2",
        endpoint_url=ENDPOINT,
        region_name=region or REGION,
        aws_access_key_id=key_id or os.environ["EC2_%s_KEY_ID" % who],
        aws_secret_access_key=secret or os.environ["EC2_%s_SECRET" % who],
        config=Config(**settings),
    )


def error_of(call, *args, **kwargs):
    """Runs a call expected to fail: {code, status, message} of its ClientError, or {ok: true, result} if it succeeded."""
    try:
        result = call(*args, **kwargs)
    except ClientError as e:
        return {
            "code": e.response.get("Error", {}).get("Code"),
            "message": e.response.get("Error", {}).get("Message"),
            "status": e.response.get("ResponseMetadata", {}).get("HTTPStatusCode"),
        }
    result = dict(result or {})
    result.pop("ResponseMetadata", None)
    return {"ok": True, "result": json.loads(json.dumps(result, default=str))}


@contextlib.contextmanager
def signing_clock(shift):
    """botocore signs with datetime.utcnow(): shift it (e.g. 20 minutes into the past) for the calls inside. With awscrt
    installed (Debian's awscli pulls in python3-awscrt) botocore signs with botocore.crt.auth, so both modules are patched."""
    real = datetime.datetime

    class Shifted(real):
        @classmethod
        def utcnow(cls):
            return real.utcnow() + shift

        @classmethod
        def now(cls, tz=None):
            return real.now(tz) + shift

    fake = types.SimpleNamespace(datetime=Shifted, timezone=datetime.timezone, timedelta=datetime.timedelta)
    with contextlib.ExitStack() as stack:
        stack.enter_context(mock.patch.object(botocore.auth, "datetime", fake))
        try:
            crt_auth = importlib.import_module("botocore.crt.auth")
            stack.enter_context(mock.patch.object(crt_auth, "datetime", fake))
        except ImportError:
            pass
        yield


def with_action(ec2, operation, action):
    """Makes the client send Action=<action> instead of the operation's own name (before signing, so it stays signed)."""

    def rewrite(request, **_):
        if isinstance(request.data, dict):
            request.data["Action"] = action
        else:
            body = request.data.decode() if isinstance(request.data, bytes) else request.data
            request.data = body.replace("Action=" + operation, "Action=" + action)

    ec2.meta.events.register("before-sign.ec2." + operation, rewrite)
    return ec2


def states(ec2, ids):
    """{instance id: state name} from one DescribeInstances."""
    found = {}
    for reservation in ec2.describe_instances(InstanceIds=ids)["Reservations"]:
        for instance in reservation["Instances"]:
            found[instance["InstanceId"]] = instance["State"]["Name"]
    return found


def wait(ec2, waiter, ids, max_attempts=180):
    ec2.get_waiter(waiter).wait(InstanceIds=ids, WaiterConfig={"Delay": 1, "MaxAttempts": max_attempts})


def emit(document):
    json.dump(document, sys.stdout, default=str)
    sys.stdout.write("\n")


def until(ec2, ids, wanted, timeout=120):
    """Polls DescribeInstances every second until every instance is in one of `wanted`; the last {id: state} seen."""
    deadline = time.monotonic() + timeout
    seen = {}
    while time.monotonic() < deadline:
        seen = states(ec2, ids)
        if len(seen) == len(ids) and all(s in wanted for s in seen.values()):
            return seen
        time.sleep(1)
    return seen


def instance(ec2, instance_id):
    """The Instance of one DescribeInstances by id, as JSON-able data."""
    reservations = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"]
    return json.loads(json.dumps(reservations[0]["Instances"][0], default=str)) if reservations else None
