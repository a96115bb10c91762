using CloudPortal.Contracts.Compute;

namespace CloudPortal.Contracts.Images;

/// <summary>
/// Request (Compute → Images): may <paramref name="ProjectId"/> launch this image, and where does a compute node fetch it?
/// Answered with <see cref="LaunchImage"/> or <see cref="ImageNotLaunchable"/>. Nothing changes in Images.
/// </summary>
/// <param name="DownloadValidFor">How long the download URL in the answer must stay valid (the build's timeout, with a margin).</param>
public sealed record GetLaunchImage(Guid ImageId, Guid ProjectId, TimeSpan DownloadValidFor);

/// <summary>The project may launch the image; <paramref name="Source"/> is what the node downloads.</summary>
/// <param name="VirtualSizeBytes">The disk's virtual size: the root disk must be at least this large.</param>
/// <param name="Properties">The image's properties (the Scheduler reads <c>hw_architecture</c>, <c>img_hv_type</c>, <c>hw_vm_mode</c>).</param>
/// <param name="Source">
/// The copy in the compute backend's format. Its URL is signed by Images for this one image and expires at
/// <paramref name="DownloadExpiresAt"/>: a node needs no credential of its own to fetch it, and the URL opens nothing else.
/// </param>
public sealed record LaunchImage(
    Guid ImageId,
    string Name,
    int MinRamMb,
    int MinDiskGb,
    long? VirtualSizeBytes,
    IReadOnlyDictionary<string, string> Properties,
    ImageSource Source,
    DateTimeOffset DownloadExpiresAt);

/// <summary>The project may not launch the image, and why.</summary>
/// <param name="Code">One of <see cref="ImageLaunchCodes"/>.</param>
/// <param name="Reason">One sentence for the tenant; it never says whether another project's private image exists.</param>
public sealed record ImageNotLaunchable(Guid ImageId, string Code, string Reason);

/// <summary>The stable codes of <see cref="ImageNotLaunchable"/>.</summary>
public static class ImageLaunchCodes
{
    /// <summary>No such image, or one the project cannot see (another project's private image).</summary>
    public const string NotFound = "image_not_found";

    /// <summary>The image has no usable data yet (queued, saving, converting) or was refused (killed).</summary>
    public const string NotActive = "image_not_active";

    /// <summary>Its owner or an admin deactivated it: it cannot back new instances.</summary>
    public const string Deactivated = "image_deactivated";

    /// <summary>A shared image whose membership the project has not accepted.</summary>
    public const string MembershipNotAccepted = "image_membership_not_accepted";

    /// <summary>The image's data is not a disk the compute nodes boot (an ISO): see <see cref="DiskFormats"/>.</summary>
    public const string FormatNotBootable = "image_format_not_bootable";
}
