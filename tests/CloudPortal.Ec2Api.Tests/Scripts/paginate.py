#!/usr/bin/python3
"""Launches COUNT instances, one RunInstances each (so COUNT reservations), tagged with one batch tag, then pages
DescribeInstances with botocore's paginator (PageSize = MaxResults) with and without a tag filter. Prints the pages
(instance ids, reservation ids, whether a NextToken came back) and terminates the instances again.

Environment: IMAGE_ID, NANO, COUNT, PAGE_SIZE.
"""
import os
import uuid

from ec2_common import client, emit, until

IMAGE, NANO = os.environ["IMAGE_ID"], os.environ["NANO"]
COUNT, PAGE = int(os.environ["COUNT"]), int(os.environ["PAGE_SIZE"])

ec2 = client()
batch = uuid.uuid4().hex
launched = []
for index in range(COUNT):
    answer = ec2.run_instances(ImageId=IMAGE, InstanceType=NANO, MinCount=1, MaxCount=1, TagSpecifications=[
        {"ResourceType": "instance", "Tags": [{"Key": "batch", "Value": batch}, {"Key": "index", "Value": str(index)}]}])
    launched.append({"instance": answer["Instances"][0]["InstanceId"], "reservation": answer["ReservationId"]})


def pages(**kwargs):
    result = []
    paginator = ec2.get_paginator("describe_instances")
    for page in paginator.paginate(PaginationConfig={"PageSize": PAGE}, **kwargs):
        result.append({
            "instances": [i["InstanceId"] for r in page["Reservations"] for i in r["Instances"]],
            "reservations": [r["ReservationId"] for r in page["Reservations"]],
            "nextToken": "NextToken" in page,
        })
    return result


filtered = pages(Filters=[{"Name": "tag:batch", "Values": [batch]}])
unfiltered = pages()
ids = [l["instance"] for l in launched]
ec2.terminate_instances(InstanceIds=ids)
terminated = until(ec2, ids, {"terminated"})
emit({"launched": launched, "filtered": filtered, "unfiltered": unfiltered, "terminated": terminated})
