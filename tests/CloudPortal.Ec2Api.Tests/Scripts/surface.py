#!/usr/bin/python3
"""Every action of the module's contract that the CLI and .NET tests do not drive, through boto3, with the parsed
answers printed for the C# test to check (a misspelled XML element is invisible to boto3, so the values matter).

Environment: IMAGE_NAME, PUBLIC_IMAGE_NAME, SPARE_IMAGE_NAME, NANO, PUBLIC_KEY (an OpenSSH ssh-rsa line).
"""
import os
import time
import uuid

from ec2_common import client, emit, error_of, instance, until, wait

NANO = os.environ["NANO"]
PUBLIC_KEY = os.environ["PUBLIC_KEY"]
ec2 = client()
out = {}


def strip(answer):
    answer = dict(answer)
    answer.pop("ResponseMetadata", None)
    return answer


def by_name(name, **kwargs):
    return ec2.describe_images(Filters=[{"Name": "name", "Values": [name]}], **kwargs)["Images"]


out["regions"] = ec2.describe_regions()["Regions"]
out["zones"] = ec2.describe_availability_zones()["AvailabilityZones"]
out["account"] = ec2.describe_account_attributes()["AccountAttributes"]
out["nanoType"] = ec2.describe_instance_types(InstanceTypes=[NANO])["InstanceTypes"]
out["allTypes"] = [t["InstanceType"] for page in ec2.get_paginator("describe_instance_types").paginate() for t in page["InstanceTypes"]]

# Images: by owner self, by the caller's account id, launchable by self, public ("amazon"), by id; deregister one.
out["imagesSelf"] = by_name(os.environ["IMAGE_NAME"], Owners=["self"])
out["imagesExecutable"] = by_name(os.environ["IMAGE_NAME"], ExecutableUsers=["self"])
out["imagesDefault"] = [(i["ImageId"], i.get("Name")) for i in ec2.describe_images()["Images"]]
out["imagesAmazon"] = [(i["ImageId"], i.get("Name"), i.get("Public")) for i in ec2.describe_images(Owners=["amazon"])["Images"]]
out["imagesSelfAll"] = [(i["ImageId"], i.get("Name"), i.get("Public")) for i in ec2.describe_images(Owners=["self"])["Images"]]
image = out["imagesSelf"][0] if out["imagesSelf"] else None
if image:
    out["imagesByAccount"] = [i["ImageId"] for i in ec2.describe_images(Owners=[image["OwnerId"]])["Images"]]
    out["imagesById"] = ec2.describe_images(ImageIds=[image["ImageId"]])["Images"]
spare = by_name(os.environ["SPARE_IMAGE_NAME"], Owners=["self"])
if spare:
    out["deregister"] = error_of(ec2.deregister_image, ImageId=spare[0]["ImageId"])
    out["afterDeregister"] = error_of(ec2.describe_images, ImageIds=[spare[0]["ImageId"]])
    out["afterDeregisterByName"] = by_name(os.environ["SPARE_IMAGE_NAME"], Owners=["self"])

# Key pairs: made here (rsa, ed25519), imported, listed by name and id, deleted.
suffix = uuid.uuid4().hex[:8]
rsa = strip(ec2.create_key_pair(KeyName="rsa-" + suffix, KeyType="rsa"))
ed = strip(ec2.create_key_pair(KeyName="ed-" + suffix, KeyType="ed25519"))
imported = strip(ec2.import_key_pair(KeyName="imported-" + suffix, PublicKeyMaterial=PUBLIC_KEY.encode()))
out["keys"] = {
    "rsa": {k: v for k, v in rsa.items() if k != "KeyMaterial"},
    "rsaMaterial": rsa.get("KeyMaterial", "").splitlines()[:1],
    "ed25519": {k: v for k, v in ed.items() if k != "KeyMaterial"},
    "ed25519Material": ed.get("KeyMaterial", "").splitlines()[:1],
    "imported": imported,
}
names = ["rsa-" + suffix, "ed-" + suffix, "imported-" + suffix]
out["keys"]["byName"] = ec2.describe_key_pairs(KeyNames=names)["KeyPairs"]
out["keys"]["byId"] = [k["KeyName"] for k in ec2.describe_key_pairs(KeyPairIds=[rsa["KeyPairId"], imported["KeyPairId"]])["KeyPairs"]]
out["keys"]["withPublicKey"] = ec2.describe_key_pairs(KeyNames=[names[2]], IncludePublicKey=True)["KeyPairs"]
out["keys"]["all"] = [k["KeyName"] for k in ec2.describe_key_pairs()["KeyPairs"]]
out["keys"]["delete"] = error_of(ec2.delete_key_pair, KeyName=names[0])
out["keys"]["deleteById"] = error_of(ec2.delete_key_pair, KeyPairId=ed["KeyPairId"])
out["keys"]["afterDelete"] = error_of(ec2.describe_key_pairs, KeyNames=[names[0]])
out["keys"]["left"] = [k["KeyName"] for k in ec2.describe_key_pairs()["KeyPairs"]]

# One instance: launched with user data, a key, a zone and tags; status, attributes, tags, reboot, stop, terminate.
name = "surface-" + suffix
run = strip(ec2.run_instances(ImageId=out["imagesSelf"][0]["ImageId"], InstanceType=NANO, MinCount=1, MaxCount=1,
                              KeyName=names[2], UserData="hello user data", Placement={"AvailabilityZone": "nova"},
                              TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": name}]}]))
out["run"] = run
iid = run["Instances"][0]["InstanceId"]
wait(ec2, "instance_running", [iid])
out["running"] = instance(ec2, iid)
out["status"] = strip(ec2.describe_instance_status(InstanceIds=[iid]))
out["userData"] = ec2.describe_instance_attribute(InstanceId=iid, Attribute="userData").get("UserData", {})
out["instanceType"] = ec2.describe_instance_attribute(InstanceId=iid, Attribute="instanceType").get("InstanceType", {})
out["createTags"] = error_of(ec2.create_tags, Resources=[iid], Tags=[{"Key": "env", "Value": "test"}, {"Key": "owner", "Value": suffix}])
out["tags"] = ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": [iid]}])["Tags"]
out["byTag"] = [i["InstanceId"] for r in ec2.describe_instances(Filters=[{"Name": "tag:owner", "Values": [suffix]}])["Reservations"] for i in r["Instances"]]
out["byRunning"] = [i["InstanceId"] for r in ec2.describe_instances(Filters=[{"Name": "instance-state-name", "Values": ["running"]}])["Reservations"] for i in r["Instances"]]
out["byStopped"] = [i["InstanceId"] for r in ec2.describe_instances(Filters=[{"Name": "instance-state-name", "Values": ["stopped"]}])["Reservations"] for i in r["Instances"]]
out["deleteTags"] = error_of(ec2.delete_tags, Resources=[iid], Tags=[{"Key": "env"}])
out["tagsAfterDelete"] = ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": [iid]}])["Tags"]
out["reboot"] = error_of(ec2.reboot_instances, InstanceIds=[iid])
wait(ec2, "instance_running", [iid])
out["stateAfterReboot"] = instance(ec2, iid)["State"]
# Whether a stop right after a reboot is taken depends on how long the simulated reboot lasts; the .NET test checks it on
# a real guest. Here the stop is retried until taken.
stop, tries = error_of(ec2.stop_instances, InstanceIds=[iid]), 0
while not stop.get("ok") and tries < 60:
    time.sleep(1)
    stop, tries = error_of(ec2.stop_instances, InstanceIds=[iid]), tries + 1
out["stop"] = stop.get("result", stop)
wait(ec2, "instance_stopped", [iid])
out["statusStoppedDefault"] = [s["InstanceId"] for s in ec2.describe_instance_status(InstanceIds=[iid])["InstanceStatuses"]]
out["statusStoppedAll"] = ec2.describe_instance_status(InstanceIds=[iid], IncludeAllInstances=True)["InstanceStatuses"]
out["terminate"] = strip(ec2.terminate_instances(InstanceIds=[iid]))
wait(ec2, "instance_terminated", [iid])
out["terminated"] = instance(ec2, iid)
out["terminateAgain"] = error_of(ec2.terminate_instances, InstanceIds=[iid])
out["instanceId"] = iid

# MinCount/MaxCount: one reservation holding several instances, each with its launch index.
multi = strip(ec2.run_instances(ImageId=out["imagesSelf"][0]["ImageId"], InstanceType=NANO, MinCount=2, MaxCount=3))
out["multi"] = multi
multi_ids = [i["InstanceId"] for i in multi["Instances"]]
out["multiDescribed"] = [
    {"reservation": r["ReservationId"], "instance": i["InstanceId"], "launchIndex": i.get("AmiLaunchIndex")}
    for r in ec2.describe_instances(InstanceIds=multi_ids)["Reservations"] for i in r["Instances"]]
ec2.terminate_instances(InstanceIds=multi_ids)
emit(out)
