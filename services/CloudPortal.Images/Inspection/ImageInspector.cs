using System.Text.Json;

namespace CloudPortal.Images.Inspection;

/// <summary>An image the catalog will not take, with a stable code and a reason for its owner.</summary>
public sealed class IntakeRefusedException(string code, string reason) : Exception(reason)
{
    public string Code { get; } = code;
}

public sealed record InspectionResult(string Format, long? VirtualSize);

/// <summary>
/// The one intake check every image passes, uploaded or imported: detect the format from the bytes,
/// compare with what the owner declared, refuse anything that reaches outside the image, then confirm
/// with <c>qemu-img info</c> given the detected format explicitly.
/// </summary>
public sealed class ImageInspector(QemuImg qemuImg)
{
    /// <summary>The code of an image whose inspection or conversion would need more than qemu-img is allowed (see <see cref="ImagesOptions"/>).</summary>
    public const string TooComplex = "image_too_complex";

    public async Task<InspectionResult> InspectAsync(string path, string? declaredFormat, CancellationToken cancellationToken)
    {
        DetectedFormat detected;
        await using (var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read))
        {
            if (file.Length == 0)
                throw new IntakeRefusedException("image_empty", "The image has no data.");
            detected = FormatDetector.Detect(file);
        }
        if (detected.Refused)
            throw new IntakeRefusedException(detected.RefusalCode!, detected.RefusalReason!);
        if (declaredFormat is not null && !DiskFormats.Matches(declaredFormat, detected.Format))
            throw new IntakeRefusedException("disk_format_mismatch", $"The image was declared {declaredFormat} but its data is {detected.Format}.");

        var qemuFormat = DiskFormats.QemuName(detected.Format);
        ProcessResult result;
        try
        {
            result = await qemuImg.InfoAsync(path, qemuFormat, cancellationToken);
        }
        catch (TimeoutException)
        {
            throw new IntakeRefusedException(TooComplex, "qemu-img did not finish inspecting the image in time.");
        }
        if (result.ExceededLimits)
            throw new IntakeRefusedException(TooComplex, "qemu-img exceeded its memory or CPU limit inspecting the image.");
        if (result.ExitCode != 0)
            throw new IntakeRefusedException("image_invalid", $"qemu-img cannot read the image as {detected.Format}: {QemuImg.Describe(result, path)}");
        return Check(detected, qemuFormat, path, result.StandardOutput);
    }

    /// <summary>Checks qemu-img's JSON: the format it read, and no backing file, data file or foreign extent.</summary>
    internal static InspectionResult Check(DetectedFormat detected, string qemuFormat, string path, string json)
    {
        JsonElement info;
        try
        {
            info = JsonDocument.Parse(json).RootElement;
        }
        catch (JsonException ex)
        {
            throw new IntakeRefusedException("image_invalid", $"qemu-img gave no readable description of the image: {ex.Message}");
        }
        if (!info.TryGetProperty("format", out var format) || format.GetString() != qemuFormat)
            throw new IntakeRefusedException("disk_format_mismatch", $"qemu-img read the image as {format} rather than {qemuFormat}.");
        if (info.TryGetProperty("backing-filename", out _) || info.TryGetProperty("full-backing-filename", out _))
            throw new IntakeRefusedException("qcow2_backing_file", "The image has a backing file: it would read another file on the compute node.");
        if (info.TryGetProperty("encrypted", out var encrypted) && encrypted.ValueKind == JsonValueKind.True)
            throw new IntakeRefusedException("image_encrypted", "The image is encrypted; compute nodes cannot boot it.");
        if (info.TryGetProperty("format-specific", out var specific) && specific.TryGetProperty("data", out var data))
        {
            if (data.TryGetProperty("data-file", out _))
                throw new IntakeRefusedException("qcow2_data_file", "The qcow2 image keeps its data in an external data file: it would read another file on the compute node.");
            if (data.TryGetProperty("extents", out var extents) && extents.ValueKind == JsonValueKind.Array)
            {
                foreach (var extent in extents.EnumerateArray())
                {
                    if (extent.TryGetProperty("filename", out var name) && name.GetString() != path)
                        throw new IntakeRefusedException("vmdk_external_extent", "The VMDK image has an extent in another file.");
                }
            }
        }
        var virtualSize = info.TryGetProperty("virtual-size", out var vs) && vs.TryGetInt64(out var v) ? v : detected.VirtualSize;
        return new InspectionResult(detected.Format, virtualSize);
    }
}
