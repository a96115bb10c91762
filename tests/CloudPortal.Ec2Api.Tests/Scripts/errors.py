#!/usr/bin/python3
"""Provokes every EC2 error code of the module's contract once, through boto3. Prints {"cases": {name: outcome}} where
an outcome is {code, status, message} of the ClientError (or {ok: true, result} when the call unexpectedly succeeded),
plus "capacity": how InsufficientInstanceCapacity surfaced (in RunInstances, or as the instance's StateReason).

Environment: IMAGE_ID (launchable ami of project A), NANO, WIDE, TOOBIG (flavor names).
"""
import datetime
import os
import time
import uuid

from ec2_common import client, emit, error_of, instance, signing_clock, until, with_action

IMAGE = os.environ["IMAGE_ID"]
NANO, WIDE, TOOBIG = os.environ["NANO"], os.environ["WIDE"], os.environ["TOOBIG"]
UNKNOWN_INSTANCE = "i-0123456789abcdef0"
UNKNOWN_IMAGE = "ami-0123456789abcdef0"

member = client()
reader = client("READER")
unvalidated = client(parameter_validation=False)
cases = {}
cleanup = []


def run(ec2=member, **extra):
    args = dict(ImageId=IMAGE, InstanceType=NANO, MinCount=1, MaxCount=1)
    args.update(extra)
    return ec2.run_instances(**args)


# Ids: unknown and malformed.
cases["InvalidInstanceID.NotFound"] = error_of(member.describe_instances, InstanceIds=[UNKNOWN_INSTANCE])
cases["InvalidInstanceID.Malformed"] = error_of(member.describe_instances, InstanceIds=["not-an-instance-id"])
cases["InvalidAMIID.NotFound"] = error_of(member.describe_images, ImageIds=[UNKNOWN_IMAGE])
cases["InvalidAMIID.Malformed"] = error_of(member.describe_images, ImageIds=["ami-not-hex"])
cases["InvalidAMIID.NotFound (RunInstances)"] = error_of(run, ImageId=UNKNOWN_IMAGE)

# Key pairs.
key_name = "dup-" + uuid.uuid4().hex[:8]
cases["InvalidKeyPair.NotFound"] = error_of(member.describe_key_pairs, KeyNames=["no-such-key-" + uuid.uuid4().hex[:8]])
cases["InvalidKeyPair.NotFound (RunInstances)"] = error_of(run, KeyName="no-such-key-" + uuid.uuid4().hex[:8])
first = error_of(member.create_key_pair, KeyName=key_name)
cases["InvalidKeyPair.Duplicate"] = error_of(member.create_key_pair, KeyName=key_name) if first.get("ok") else {"setup": first}
member.delete_key_pair(KeyName=key_name)

# Quotas: 100 instances against a limit of 40 (cores suffice); one instance of 512 vCPUs against 200 cores.
cases["InstanceLimitExceeded"] = error_of(run, MinCount=100, MaxCount=100)
cases["VcpuLimitExceeded"] = error_of(run, InstanceType=WIDE)

# Parameters.
cases["InvalidParameterValue (instance type)"] = error_of(run, InstanceType="no.such.type")
cases["InvalidParameterValue (filter)"] = error_of(member.describe_instances, Filters=[{"Name": "no-such-filter", "Values": ["x"]}])
cases["InvalidParameterValue (MaxResults 4)"] = error_of(member.describe_instances, MaxResults=4)
cases["InvalidPaginationToken"] = error_of(member.describe_instances, MaxResults=5, NextToken="garbled-" + uuid.uuid4().hex)
cases["MissingParameter"] = error_of(unvalidated.get_console_output)
cases["InvalidAction"] = error_of(with_action(client(), "DescribeRegions", "NoSuchAction").describe_regions)
for name, call in [
    ("describe_volumes", lambda: member.describe_volumes()),
    ("create_security_group", lambda: member.create_security_group(GroupName="g-" + uuid.uuid4().hex[:6], Description="d")),
    ("describe_vpcs", lambda: member.describe_vpcs()),
    ("describe_subnets", lambda: member.describe_subnets()),
    ("allocate_address", lambda: member.allocate_address(Domain="vpc")),
]:
    cases["UnsupportedOperation (%s)" % name] = error_of(call)

# Authorization and authentication.
cases["UnauthorizedOperation"] = error_of(run, ec2=reader)
cases["UnauthorizedOperation (DryRun)"] = error_of(run, ec2=reader, DryRun=True)
cases["DryRunOperation"] = error_of(run, DryRun=True)
cases["AuthFailure (unknown key)"] = error_of(client(key_id="AKIAUNKNOWNUNKNOWN00", secret="x" * 40).describe_regions)
cases["AuthFailure (bad signature)"] = error_of(client(secret="y" * 40).describe_regions)
cases["AuthFailure (other region)"] = error_of(client(region="us-east-1").describe_regions)
with signing_clock(datetime.timedelta(minutes=-20)):
    cases["RequestExpired"] = error_of(client().describe_regions)

# Idempotency: the same token with other parameters.
token = "tok-" + uuid.uuid4().hex
original = error_of(run, ClientToken=token)
if original.get("ok"):
    cleanup.append(original["result"]["Instances"][0]["InstanceId"])
    cases["IdempotentParameterMismatch"] = error_of(run, ClientToken=token, InstanceType="m1.tiny")
else:
    cases["IdempotentParameterMismatch"] = {"setup": original}

# A terminated instance cannot be started.
launched = error_of(run)
if launched.get("ok"):
    victim = launched["result"]["Instances"][0]["InstanceId"]
    # MaxResults cannot be combined with InstanceId (an existing one, so only the combination is wrong).
    cases["InvalidParameterCombination"] = error_of(member.describe_instances, InstanceIds=[victim], MaxResults=5)
    member.terminate_instances(InstanceIds=[victim])
    reached = until(member, [victim], {"terminated"})
    cases["IncorrectInstanceState"] = error_of(member.start_instances, InstanceIds=[victim])
    cases["IncorrectInstanceState"]["before"] = reached
else:
    cases["IncorrectInstanceState"] = {"setup": launched}

# No host can take a 1 PiB root disk: either RunInstances says so, or the instance ends with that reason.
capacity = {"run": error_of(run, InstanceType=TOOBIG)}
if capacity["run"].get("ok"):
    capacity["form"] = "stateReason"
    doomed = capacity["run"]["result"]["Instances"][0]["InstanceId"]
    capacity["states"] = until(member, [doomed], {"terminated", "stopped", "running"}, timeout=90)
    capacity["instance"] = instance(member, doomed)
    cleanup.append(doomed)
else:
    capacity["form"] = "error"

if cleanup:
    member.terminate_instances(InstanceIds=cleanup)
emit({"cases": cases, "capacity": capacity})
