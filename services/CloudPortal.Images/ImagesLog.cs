using Microsoft.Extensions.Logging;

namespace CloudPortal.Images;

/// <summary>The module's informational log events (source-generated: no boxing when the level is off).</summary>
internal static partial class ImagesLog
{
    [LoggerMessage(Level = LogLevel.Information, Message = "Image {ImageId}: {Size} bytes of {Format} stored{Conversion}")]
    public static partial void Stored(this ILogger logger, Guid imageId, long size, string format, string conversion);

    [LoggerMessage(Level = LogLevel.Information, Message = "Image {ImageId} converted from {Format} to qcow2 ({Size} bytes)")]
    public static partial void Converted(this ILogger logger, Guid imageId, string? format, long size);

    [LoggerMessage(Level = LogLevel.Information, Message = "Conversion of image {ImageId} at {Percent}%")]
    public static partial void ConversionProgress(this ILogger logger, Guid imageId, int percent);

    [LoggerMessage(Level = LogLevel.Information, Message = "Conversion of image {ImageId} failed (attempt {Attempt}): {Reason}; retrying")]
    public static partial void ConversionRetry(this ILogger logger, Guid imageId, int attempt, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Import of image {ImageId} failed ({Reason}); retrying")]
    public static partial void ImportRetry(this ILogger logger, Guid imageId, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Upload of image {ImageId} interrupted: {Reason}")]
    public static partial void UploadInterrupted(this ILogger logger, Guid imageId, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Upload of image {ImageId}: {Size} bytes received in {ReceiveSeconds:0.00} s, inspected and stored in {IntakeSeconds:0.00} s")]
    public static partial void UploadTimings(this ILogger logger, Guid imageId, long size, double receiveSeconds, double intakeSeconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "Re-queued {Uploads} abandoned uploads; resumed {Jobs} lost imports or conversions; removed {Files} stale staging files")]
    public static partial void Reaped(this ILogger logger, int uploads, int jobs, int files);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The {Work} of image {ImageId} had no live job: enqueued it again")]
    public static partial void JobResumed(this ILogger logger, Guid imageId, string work);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not enqueue the {Work} of image {ImageId} ({Reason}); the reaper enqueues it once the job store answers")]
    public static partial void EnqueueFailed(this ILogger logger, Guid imageId, string work, string reason);
}
