namespace CloudPortal.Portal.Features.Instances;

/// <summary>One button of an instance: the API's operation, its label, and whether it asks first.</summary>
public sealed record InstanceAction(string Operation, string Label, string? RebootType = null, string? Confirm = null);

/// <summary>
/// The actions the state allows, as Compute's transition table says (docs/api/compute.md): the page offers only
/// these, and Compute refuses the rest anyway with <c>invalid_state</c>.
/// </summary>
public static class InstanceActions
{
    public static IReadOnlyList<InstanceAction> For(string status, string? task)
    {
        if (status == "deleted")
            return [];
        var delete = new InstanceAction("delete", "Delete", Confirm: "Delete this instance? Its disk is destroyed.");
        if (task is not null)
            return task == "deleting" ? [] : [delete];
        var hard = new InstanceAction("reboot", "Hard reboot", "hard", "Power-cycle this instance? Unsaved work in the guest is lost.");
        return status switch
        {
            "active" =>
            [
                new("stop", "Stop"), new("reboot", "Reboot", "soft"), hard, new("pause", "Pause"), new("suspend", "Suspend"), delete,
            ],
            "stopped" => [new("start", "Start"), hard, delete],
            "paused" => [new("unpause", "Unpause"), hard, delete],
            "suspended" => [new("resume", "Resume"), hard, delete],
            "error" => [new("stop", "Stop"), hard, delete],
            "building" => [delete],
            _ => [delete],
        };
    }
}
