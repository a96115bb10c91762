#!/usr/bin/python3
"""wait.py WAITER INSTANCE_ID...: a boto3 waiter (instance_running, instance_stopped, instance_terminated, ...) polling
every second. Prints {"ok": true} or {"ok": false, "error", "last"} (the last DescribeInstances answer the waiter saw)."""
import sys

from botocore.exceptions import WaiterError

from ec2_common import client, emit, wait

waiter, ids = sys.argv[1], sys.argv[2:]
try:
    wait(client(), waiter, ids)
    emit({"ok": True})
except WaiterError as e:
    emit({"ok": False, "error": str(e), "last": e.last_response})
