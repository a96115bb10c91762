namespace CloudPortal.Images.Inspection;

/// <summary>The disk formats the catalog accepts, and how qemu-img names each.</summary>
public static class DiskFormats
{
    public const string Qcow2 = "qcow2";
    public const string Raw = "raw";
    public const string Iso = "iso";
    public const string Vmdk = "vmdk";
    public const string Vhd = "vhd";
    public const string Vhdx = "vhdx";

    public static IReadOnlyList<string> All { get; } = [Qcow2, Raw, Iso, Vmdk, Vhd, Vhdx];

    /// <summary>What a conversion produces: the one format, besides raw, an instance overlay (qcow2) can have as its backing file.</summary>
    public const string Compute = Qcow2;

    public static string QemuName(string format) => format switch
    {
        Iso => "raw",
        Vhd => "vpc",
        _ => format,
    };

    /// <summary>
    /// Formats the compute backend cannot use as the backing file of an instance's qcow2 overlay. qcow2 and raw back an
    /// overlay as they are (raw needs no conversion: the agent names the backing format explicitly, so QEMU never probes
    /// it); an ISO is not booted as a disk at all.
    /// </summary>
    public static bool NeedsConversion(string format) => format is Vmdk or Vhd or Vhdx;

    /// <summary>
    /// Whether data detected as <paramref name="detected"/> may be declared <paramref name="declared"/>. Only one
    /// leniency: an ISO (often a hybrid ISO/MBR disk) may be declared raw, since both are read as raw bytes.
    /// </summary>
    public static bool Matches(string declared, string detected) =>
        declared == detected || (declared == Raw && detected == Iso);
}
