namespace CloudPortal.Contracts.Compute;

/// <summary>The size of an instance, copied from the flavor at launch.</summary>
/// <param name="Name">The flavor's name (kept in the domain's metadata, shown in reports).</param>
/// <param name="RootGb">Size of the root disk in GiB; at least the image's virtual size.</param>
public sealed record FlavorSpec(string Name, int VCpus, int RamMb, int RootGb);

/// <summary>Where the agent gets the image an instance boots from.</summary>
/// <param name="ImageId">The image's id: the node caches one base image per id and checksum.</param>
/// <param name="Url">HTTP(S) address of the image data (normally the Images module's <c>/images/v2/images/{id}/compute-file</c>).</param>
/// <param name="Sha256">SHA-256 of the data, 64 hex digits; the download is used only if it matches.</param>
/// <param name="SizeBytes">Size of the data when known; a download of another size is refused.</param>
/// <param name="DiskFormat">One of <see cref="DiskFormats"/>; checked against the data's own header.</param>
public sealed record ImageSource(Guid ImageId, Uri Url, string Sha256, long? SizeBytes, string DiskFormat);

/// <summary>The disk formats an agent can boot.</summary>
public static class DiskFormats
{
    public const string Raw = "raw";
    public const string Qcow2 = "qcow2";
}
