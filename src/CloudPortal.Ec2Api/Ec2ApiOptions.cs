namespace CloudPortal.Ec2Api;

/// <summary>The <c>CloudPortal:Ec2Api</c> section.</summary>
public sealed class Ec2ApiOptions
{
    public const string Section = "CloudPortal:Ec2Api";

    /// <summary>The one region this cloud is (the SigV4 scope's region must be it): what DescribeRegions lists.</summary>
    public string Region { get; set; } = "cp-1";

    /// <summary>
    /// Where each module's REST API is, by module name (<c>identity</c>, <c>compute</c>, <c>images</c>); a module not
    /// named here is called at this process's own first listen address (all-in-one).
    /// </summary>
    public Dictionary<string, string> Apis { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Identity's URL for the token endpoint; default <c>CloudPortal:Identity:Authority</c>, else this process (all-in-one).</summary>
    public string? Authority { get; set; }

    /// <summary>Secret of the <c>cloudportal-ec2</c> client; all-in-one reads the one Identity generated into the data directory.</summary>
    public string? ClientSecret { get; set; }

    /// <summary>Largest request body; AWS's own limit for the Query API is far above what any action here needs.</summary>
    public int MaxBodyBytes { get; set; } = 1024 * 1024;

    /// <summary>How long a terminated instance stays visible to DescribeInstances (AWS: "usually less than one hour").</summary>
    public TimeSpan TerminatedVisibleFor { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// How long RunInstances keeps what it looked up for a launch, per project: the flavor an instance type names and the
    /// image an AMI id names. Compute looks both up again when it creates the instances.
    /// </summary>
    public TimeSpan LaunchLookupsCacheFor { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Upper bound of one call to a module's API.</summary>
    public TimeSpan ApiTimeout { get; set; } = TimeSpan.FromSeconds(30);
}
