using System.Text.Json;
using CloudPortal.Contracts.Compute;

namespace CloudPortal.Compute.Instances;

public sealed record InstanceFlavorView(Guid Id, string Name, int VCpus, int RamMb, int DiskGb, int EphemeralGb);

public sealed record InstanceImageView(Guid Id, string Name);

/// <param name="Details">Cloud admins only: the Scheduler's per-filter table, the failed attempts.</param>
public sealed record FaultView(string Code, string Message, DateTime? At, JsonElement? Details);

public sealed record InstanceView(
    Guid Id,
    string Name,
    Guid ProjectId,
    Guid? UserId,
    string Status,
    string? Task,
    string PowerState,
    InstanceFlavorView Flavor,
    InstanceImageView Image,
    string? KeyName,
    IReadOnlyDictionary<string, IReadOnlyList<string>> Addresses,
    IReadOnlyDictionary<string, string> Metadata,
    IReadOnlyDictionary<string, string> Tags,
    Guid? ServerGroupId,
    string? AvailabilityZone,
    Guid ReservationId,
    int LaunchIndex,
    FaultView? Fault,
    string? Host,
    DateTime CreatedAt,
    DateTime UpdatedAt,
    DateTime? LaunchedAt,
    DateTime? DeletedAt,
    string Self)
{
    private static readonly IReadOnlyDictionary<string, IReadOnlyList<string>> NoAddresses = new Dictionary<string, IReadOnlyList<string>>();

    /// <summary>The API's view; <paramref name="admin"/> adds the host and the fault's details.</summary>
    public static InstanceView Of(Instance i, IReadOnlyDictionary<string, string> tags, bool admin) => new(
        i.Id,
        i.Name,
        i.ProjectId,
        i.UserId,
        InstanceTransitions.Lower(i.Status),
        i.Task is { } task ? InstanceTransitions.Wire(task) : null,
        Power(i.PowerState),
        new InstanceFlavorView(i.FlavorId, i.FlavorName, i.VCpus, i.RamMb, i.DiskGb, i.EphemeralGb),
        new InstanceImageView(i.ImageId, i.ImageName),
        i.KeyName,
        NoAddresses,   // networking (ports and their addresses) arrives with the Network module
        i.Metadata,
        tags,
        i.ServerGroupId,
        i.RequestedZone,
        i.ReservationId,
        i.LaunchIndex,
        i.FaultCode is { } code
            ? new FaultView(code, i.FaultMessage ?? "", i.FaultAt, admin && i.FaultDetails is { } details ? JsonSerializer.Deserialize<JsonElement>(details) : null)
            : null,
        admin ? i.Host : null,
        i.CreatedAt,
        i.UpdatedAt,
        i.LaunchedAt,
        i.DeletedAt,
        $"/compute/v1/instances/{i.Id}");

    public static string Power(Contracts.Compute.PowerState state) => state switch
    {
        Contracts.Compute.PowerState.NoState => "no_state",
        _ => state.ToString().ToLowerInvariant(),
    };
}

public sealed record InstanceUserDataView(Guid InstanceId, string? UserData);

public sealed record InstanceTagsView(IReadOnlyDictionary<string, string> Tags);

public sealed record InstancePage(IReadOnlyList<InstanceView> Instances, string? Next);

public sealed record LaunchResult(Guid ReservationId, IReadOnlyList<InstanceView> Instances);

public sealed record InstanceActionView(
    Guid Id, Guid InstanceId, string Action, string RequestId, Guid? UserId, string UserName, DateTime StartedAt, DateTime? FinishedAt,
    string? Result, FaultView? Fault, string? Detail)
{
    public static InstanceActionView Of(InstanceActionRecord a) => new(
        a.Id, a.InstanceId, Wire(a.Operation), a.RequestId, a.UserId, a.UserName, a.StartedAt, a.FinishedAt, a.Result,
        a.FaultCode is { } code ? new FaultView(code, a.FaultMessage ?? "", a.FinishedAt, null) : null, a.Detail);

    public static string Wire(InstanceOperation operation) => operation switch
    {
        InstanceOperation.RebootHard => "reboot_hard",
        _ => operation.ToString().ToLowerInvariant(),
    };
}

public sealed record InstanceActionPage(IReadOnlyList<InstanceActionView> Actions, string? Next);
