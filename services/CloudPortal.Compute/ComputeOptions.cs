namespace CloudPortal.Compute;

/// <summary>The <c>CloudPortal:Compute</c> configuration section.</summary>
public sealed class ComputeOptions
{
    public const string Section = "CloudPortal:Compute";

    /// <summary>Build attempts per instance: a failed spawn is retried on another host until this many have failed.</summary>
    public int MaxBuildAttempts { get; set; } = 3;

    /// <summary>A build (scheduling and spawning) not done by then goes to ERROR and gives back its claim.</summary>
    public TimeSpan BuildTimeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// Any other operation (stop, start, reboot, pause, suspend, resume, delete) whose node has not answered by then is
    /// given up: the task is cleared and the action log says so. Above the agent's stop timeout (60 s).
    /// </summary>
    public TimeSpan ActionTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How often stuck builds and operations are looked for.</summary>
    public TimeSpan ReaperInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>A <c>cp-</c> domain a node reports without a live instance is deleted once seen for this long.</summary>
    public TimeSpan StrayDomainGrace { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>How long a bus request to Images, the Scheduler or a node may take before the API answers 503/504.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>How long a console ticket (<c>POST .../console</c>) can be redeemed.</summary>
    public TimeSpan ConsoleTokenLifetime { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Instances per launch request at most (maxCount).</summary>
    public int MaxInstancesPerLaunch { get; set; } = 100;

    /// <summary>How often every project's usage is recounted and reported to the quota view, besides after each change.</summary>
    public TimeSpan UsageReconcileInterval { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Whether to create the default flavors (m1.tiny … m1.xlarge) when the flavor table is empty at start.</summary>
    public bool SeedDefaultFlavors { get; set; } = true;
}
