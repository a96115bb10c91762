namespace CloudPortal.Images;

/// <summary>The <c>CloudPortal:Images</c> configuration section.</summary>
public sealed class ImagesOptions
{
    public const string Section = "CloudPortal:Images";

    /// <summary>Largest image accepted by upload or import, in bytes (default 1 TiB).</summary>
    public long MaxImageBytes { get; set; } = 1L << 40;

    /// <summary>Where image files live; default <c>&lt;data-dir&gt;/images</c>. Share it between replicas of the module.</summary>
    public string? StoragePath { get; set; }

    /// <summary>
    /// The base URL compute nodes reach this module at (e.g. <c>http://images.internal:8080</c>); the signed download URLs
    /// Compute hands to nodes start with it. Default: the first listen address (<c>urls</c>), a wildcard read as 127.0.0.1.
    /// </summary>
    public string? PublicUrl { get; set; }

    /// <summary>
    /// The checksums computed as data arrives, comma-separated: <c>sha256</c> (required: agents verify it) and
    /// <c>sha512</c> (default on). <c>sha256</c> alone turns SHA-512 off; the image's <c>hashAlgorithms</c> says which ran.
    /// </summary>
    public string HashAlgorithms { get; set; } = Intake.HashAlgorithms.Default;

    /// <summary>Whether SHA-512 is computed (read from <see cref="HashAlgorithms"/>, checked at start-up).</summary>
    public bool Sha512 => Intake.HashAlgorithms.Sha512Enabled(HashAlgorithms) ?? true;

    /// <summary>Hosts (names, addresses or CIDR ranges) URL imports may reach although they are internal.</summary>
    public List<string> ImportAllowedHosts { get; set; } = [];

    /// <summary>Redirects an import follows before giving up.</summary>
    public int ImportMaxRedirects { get; set; } = 5;

    /// <summary>Attempts of an import or conversion job before the image is killed.</summary>
    public int JobAttempts { get; set; } = 3;

    /// <summary>How long an import may go without receiving a byte.</summary>
    public TimeSpan ImportIdleTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>The qemu-img executable.</summary>
    public string QemuImg { get; set; } = "qemu-img";

    /// <summary>util-linux prlimit, which every qemu-img call runs under.</summary>
    public string Prlimit { get; set; } = "prlimit";

    /// <summary>How long one <c>qemu-img info</c> may run (it reads untrusted headers).</summary>
    public TimeSpan InspectTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Address space (bytes) one <c>qemu-img info</c> may map: 1 GiB, as OpenStack allows (a normal image needs under 64 MiB).</summary>
    public long QemuImgInfoAddressSpace { get; set; } = 1L << 30;

    /// <summary>CPU seconds one <c>qemu-img info</c> may use: 30, as OpenStack allows.</summary>
    public int QemuImgInfoCpuSeconds { get; set; } = 30;

    /// <summary>
    /// Address space (bytes) one <c>qemu-img convert</c> may map: 2 GiB. More than <c>info</c> needs: its thread pool
    /// reserves a stack per worker and its coroutines buffer several MiB each (a plain conversion fails under 256 MiB).
    /// </summary>
    public long ConvertAddressSpace { get; set; } = 2L << 30;

    /// <summary>CPU seconds one <c>qemu-img convert</c> may use: 2 hours, enough for an image of <see cref="MaxImageBytes"/>.</summary>
    public int ConvertCpuSeconds { get; set; } = 7200;

    /// <summary>How long one <c>qemu-img convert</c> may run (a large image on slow storage takes hours).</summary>
    public TimeSpan ConvertTimeout { get; set; } = TimeSpan.FromHours(6);

    /// <summary>
    /// How often a running conversion writes its progress (<c>conversionPercent</c>) to the image at most; each write is
    /// also logged. Default 5 s: a few writes a minute however long the conversion.
    /// </summary>
    public TimeSpan ConversionProgressInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How often the Hangfire server polls its queue.</summary>
    public TimeSpan JobPollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Upload heartbeat; an upload silent for 10 heartbeats is considered dead and its image re-queued.</summary>
    public TimeSpan UploadHeartbeat { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long an import or conversion job holds its image without renewing (it renews every <see cref="UploadHeartbeat"/>):
    /// work silent for longer is taken as lost and enqueued again.
    /// </summary>
    public TimeSpan JobLease => 10 * UploadHeartbeat;

    /// <summary>How often every project's image usage is recounted and reported to the quota view, besides after each change.</summary>
    public TimeSpan UsageReconcileInterval { get; set; } = TimeSpan.FromMinutes(10);
}
