#!/usr/bin/env python3
"""The EC2 load driver of bench/CloudPortal.Bench.Ec2: the same boto3 code against any EC2 Query endpoint.

Three phases, one per invocation (the C# bench runs them in order against each target, and reads the server's
request log between them):
  run       DescribeImages (to pick an ami-), then --instances RunInstances calls (MinCount=MaxCount=1), the first
            --warmup of them not measured, the rest from --concurrency threads
  wait      DescribeInstances every second until --instances instances are running (or none is pending any more)
  describe  DescribeInstances from --concurrency threads spread over --processes processes (each thread its own boto3
            client, after --warmup calls of its own), for --duration seconds or --requests calls, whichever is first

Credentials come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY. Progress goes to stderr; the result is one JSON
object on stdout: per call its latency in ms as boto3 returned it (signing, HTTP, parsing: "call") and from just
before the request was sent to its body read, before parsing ("http"; null where botocore has no before-parse event).
"""
import argparse
import json
import multiprocessing
import os
import resource
import sys
import threading
import time

# stderr lines marking the measured window: the C# side samples the server's CPU when it reads them.
MEASURING, MEASURED = "@measuring", "@measured"


def new_client(args):
    import boto3
    from botocore.config import Config

    config = Config(
        region_name=args.region,
        # One attempt per call: a retried call would be one sample made of several requests.
        retries={"total_max_attempts": 1, "mode": "standard"},
        connect_timeout=10,
        read_timeout=120,
        max_pool_connections=1,
    )
    # A session per client: boto3's default session is not safe to create clients from in several threads.
    client = boto3.session.Session().client("ec2", endpoint_url=args.endpoint, config=config)
    marks = {}

    def sent(**_):
        marks["sent"] = time.perf_counter()

    def read(**_):
        marks["read"] = time.perf_counter()

    client.meta.events.register("before-send.ec2.*", sent)
    client.meta.events.register("before-parse.ec2.*", read)
    return client, marks


def timed(client, marks, call, **kwargs):
    """(call ms, http ms or None, response or None, error code or None)."""
    marks.clear()
    start = time.perf_counter()
    try:
        response = getattr(client, call)(**kwargs)
        error = None
    except Exception as ex:  # noqa: BLE001 - a failed call is counted, whatever failed
        response = None
        error = getattr(ex, "response", {}).get("Error", {}).get("Code") or type(ex).__name__
        marks["error"] = str(ex)[:400]
    end = time.perf_counter()
    http = (marks["read"] - marks["sent"]) * 1000 if "sent" in marks and "read" in marks else None
    return (end - start) * 1000, http, response, error


def cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def versions():
    import boto3
    import botocore

    return {"python": sys.version.split()[0], "executable": sys.executable, "boto3": boto3.__version__, "botocore": botocore.__version__}


def log(message):
    print(message, file=sys.stderr, flush=True)


def pick_image(args, client, marks):
    if args.image_id:
        return args.image_id, 0
    _, _, response, error = timed(client, marks, "describe_images")
    if error:
        raise SystemExit(f"DescribeImages failed: {error}: {marks.get('error')}")
    images = [i for i in response["Images"] if i["ImageId"].startswith("ami-") and (not args.image_name or i.get("Name") == args.image_name)]
    if not images:
        raise SystemExit(f"DescribeImages has no ami- image{' named ' + args.image_name if args.image_name else ''}")
    return images[0]["ImageId"], 1


def run_phase(args):
    client, marks = new_client(args)
    image, setup = pick_image(args, client, marks)
    log(f"run: image {image}, instance type {args.instance_type}, {args.instances} instances ({args.warmup} warm-up), concurrency {args.concurrency}")
    launch = {"ImageId": image, "InstanceType": args.instance_type, "MinCount": 1, "MaxCount": 1}
    ids = []
    for _ in range(min(args.warmup, args.instances)):
        _, _, response, error = timed(client, marks, "run_instances", **launch)
        if error:
            raise SystemExit(f"warm-up RunInstances failed: {error}: {marks.get('error')}")
        ids.extend(i["InstanceId"] for i in response["Instances"])
        setup += 1

    remaining = [max(args.instances - args.warmup, 0)]
    lock = threading.Lock()
    samples, errors = [], {}
    clients = [new_client(args) for _ in range(args.concurrency)]
    log(MEASURING)
    start_cpu, start = cpu_seconds(), time.perf_counter()

    def worker(index):
        own, own_marks = clients[index]
        while True:
            with lock:
                if remaining[0] == 0:
                    return
                remaining[0] -= 1
            call, http, response, error = timed(own, own_marks, "run_instances", **launch)
            with lock:
                if error:
                    errors[error] = errors.get(error, 0) + 1
                else:
                    samples.append([round(call, 3), None if http is None else round(http, 3)])
                    ids.extend(i["InstanceId"] for i in response["Instances"])

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(args.concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - start
    log(MEASURED)
    return {"phase": "run", "image": image, "setupRequests": setup, "samples": samples, "errors": errors,
            "wallSeconds": wall, "clientCpuSeconds": cpu_seconds() - start_cpu, "instances": len(ids), **versions()}


def count_states(response):
    states = {}
    for reservation in response["Reservations"]:
        for instance in reservation["Instances"]:
            name = instance.get("State", {}).get("Name", "?")
            states[name] = states.get(name, 0) + 1
    return states


def wait_phase(args):
    client, marks = new_client(args)
    deadline = time.monotonic() + args.timeout
    states = {}
    while time.monotonic() < deadline:
        _, _, response, error = timed(client, marks, "describe_instances")
        if error:
            log(f"wait: DescribeInstances failed: {error}: {marks.get('error')}")
        else:
            states = count_states(response)
            if states.get("running", 0) >= args.instances or (sum(states.values()) >= args.instances and not states.get("pending")):
                break
        time.sleep(1)
    log(f"wait: instance states {states}")
    return {"phase": "wait", "states": states, **versions()}


def describe_process(args, threads, barrier, start, budget, results):
    """One process of the describe phase: its threads' samples, put on the results queue."""
    clients = [new_client(args) for _ in range(threads)]
    samples, errors, counts = [], {}, set()
    lock = threading.Lock()
    cpu = [cpu_seconds()]
    warmup_errors = []

    def worker(index):
        own, own_marks = clients[index]
        for _ in range(args.warmup):
            _, _, _, error = timed(own, own_marks, "describe_instances")
            if error:
                warmup_errors.append(error)
        barrier.wait()
        if index == 0:
            cpu[0] = cpu_seconds()  # this process's CPU from the barrier on
        deadline = start.value + args.duration
        while time.monotonic() < deadline:
            with budget.get_lock():
                if budget.value == 0:
                    break
                budget.value -= 1
            began = time.monotonic() - start.value
            call, http, response, error = timed(own, own_marks, "describe_instances")
            with lock:
                if error:
                    errors[error] = errors.get(error, 0) + 1
                else:
                    counts.add(sum(len(r["Instances"]) for r in response["Reservations"]))
                    samples.append([round(began, 4), round(call, 3), None if http is None else round(http, 3)])

    workers = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    results.put({"samples": samples, "errors": errors, "counts": sorted(counts), "cpu": cpu_seconds() - cpu[0],
                 "warmupErrors": warmup_errors, "ended": time.monotonic() - start.value})


def describe_phase(args):
    context = multiprocessing.get_context("fork")
    processes = max(1, min(args.processes, args.concurrency))
    threads = [args.concurrency // processes + (1 if i < args.concurrency % processes else 0) for i in range(processes)]
    start = context.Value("d", 0.0)
    budget = context.Value("q", args.requests if args.requests > 0 else -1)
    results = context.Queue()
    def go():
        start.value = time.monotonic()
        log(MEASURING)

    barrier = context.Barrier(args.concurrency, action=go)
    log(f"describe: {args.concurrency} threads in {processes} processes, {args.warmup} warm-up calls each, "
        f"{args.duration} s{' or ' + str(args.requests) + ' calls' if args.requests > 0 else ''}")
    children = [context.Process(target=describe_process, args=(args, n, barrier, start, budget, results)) for n in threads]
    for child in children:
        child.start()
    parts = [results.get() for _ in children]
    log(MEASURED)
    for child in children:
        child.join()
    samples = sorted((s for p in parts for s in p["samples"]), key=lambda s: s[0])
    errors = {}
    for part in parts:
        for code, count in part["errors"].items():
            errors[code] = errors.get(code, 0) + count
    wall = max([p["ended"] for p in parts] + [1e-9])
    return {"phase": "describe", "setupRequests": args.warmup * args.concurrency, "samples": [s[1:] for s in samples], "errors": errors,
            "warmupErrors": [e for p in parts for e in p["warmupErrors"]], "wallSeconds": wall,
            "clientCpuSeconds": sum(p["cpu"] for p in parts), "instancesPerResponse": sorted({c for p in parts for c in p["counts"]}),
            "processes": processes, **versions()}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("phase", choices=["run", "wait", "describe"])
    parser.add_argument("--endpoint", required=True, help="EC2 endpoint URL, e.g. http://127.0.0.1:8080/ec2/")
    parser.add_argument("--region", required=True)
    parser.add_argument("--instance-type", default="t2.micro")
    parser.add_argument("--image-id", help="the ami- to launch (default: the first ami- DescribeImages lists)")
    parser.add_argument("--image-name", help="launch the ami- of this name (default: any)")
    parser.add_argument("--instances", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=2, help="run: unmeasured RunInstances first; describe: unmeasured calls per thread")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--duration", type=float, default=30)
    parser.add_argument("--requests", type=int, default=0, help="describe: stop after this many calls (0: only the duration)")
    parser.add_argument("--timeout", type=float, default=300, help="wait: give up after this many seconds")
    args = parser.parse_args()
    phases = {"run": run_phase, "wait": wait_phase, "describe": describe_phase}
    print(json.dumps(phases[args.phase](args)), flush=True)


if __name__ == "__main__":
    main()
