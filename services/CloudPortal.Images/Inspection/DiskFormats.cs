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

    /// <summary>The compute backend's format: everything that is not already qcow2 (or an ISO, attached as a CD-ROM) is converted to it.</summary>
    public const string Compute = Qcow2;

    public static string QemuName(string format) => format switch
    {
        Iso => "raw",
        Vhd => "vpc",
        _ => format,
    };

    public static bool NeedsConversion(string format) => format is Raw or Vmdk or Vhd or Vhdx;

    /// <summary>
    /// Whether data detected as <paramref name="detected"/> may be declared <paramref name="declared"/>. Only one
    /// leniency: an ISO (often a hybrid ISO/MBR disk) may be declared raw, since both are read as raw bytes.
    /// </summary>
    public static bool Matches(string declared, string detected) =>
        declared == detected || (declared == Raw && detected == Iso);
}
