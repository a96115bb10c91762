using System.Diagnostics.CodeAnalysis;
using CloudPortal.Ec2Api.Protocol;

namespace CloudPortal.Ec2Api.Actions;

/// <summary>Every action the Query API answers, by name; the ones of services still to come answer UnsupportedOperation.</summary>
public sealed class Ec2Actions
{
    private static readonly HashSet<string> Unsupported =
    [
        "CreateVolume", "DeleteVolume", "DescribeVolumes", "AttachVolume", "DetachVolume", "ModifyVolume", "DescribeVolumeStatus",
        "CreateSnapshot", "DeleteSnapshot", "DescribeSnapshots",
        "CreateSecurityGroup", "DeleteSecurityGroup", "DescribeSecurityGroups", "AuthorizeSecurityGroupIngress", "RevokeSecurityGroupIngress",
        "AuthorizeSecurityGroupEgress", "RevokeSecurityGroupEgress", "DescribeSecurityGroupRules",
        "CreateVpc", "DeleteVpc", "DescribeVpcs", "CreateSubnet", "DeleteSubnet", "DescribeSubnets", "DescribeNetworkInterfaces",
        "AllocateAddress", "ReleaseAddress", "AssociateAddress", "DisassociateAddress", "DescribeAddresses",
        "CreateInternetGateway", "DescribeInternetGateways", "CreateRouteTable", "DescribeRouteTables",
        "RegisterImage", "CreateImage", "CopyImage", "ImportImage", "ModifyInstanceAttribute", "ModifyImageAttribute", "DescribeImageAttribute",
    ];

    private readonly Dictionary<string, Ec2Action> _actions = Account.All.Concat(Images.All).Concat(InstanceActions.All).Concat(KeyPairs.All).Concat(Tags.All)
        .ToDictionary(a => a.Name, StringComparer.Ordinal);

    public IEnumerable<string> Names => _actions.Keys;

    public bool TryGet(string name, [NotNullWhen(true)] out Ec2Action? action) => _actions.TryGetValue(name, out action);

    public static bool IsUnsupported(string name) => Unsupported.Contains(name);
}
