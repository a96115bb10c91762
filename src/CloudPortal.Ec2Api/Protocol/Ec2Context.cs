using CloudPortal.Ec2Api.Cloud;

namespace CloudPortal.Ec2Api.Protocol;

/// <summary>One verified EC2 request as an action sees it.</summary>
public sealed class Ec2Context(Ec2Parameters parameters, Ec2Caller caller, CloudApi api, IServiceProvider services, Ec2ApiOptions options,
    DateTimeOffset now, string endpoint, CancellationToken cancellationToken)
{
    public Ec2Parameters Parameters { get; } = parameters;

    public Ec2Caller Caller { get; } = caller;

    public CloudApi Api { get; } = api;

    public IServiceProvider Services { get; } = services;

    public Ec2ApiOptions Options { get; } = options;

    public DateTimeOffset Now { get; } = now;

    /// <summary>The URL the client called, e.g. <c>http://127.0.0.1:8080/ec2/</c> (DescribeRegions' endpoint).</summary>
    public string Endpoint { get; } = endpoint;

    public CancellationToken CancellationToken { get; } = cancellationToken;

    public bool DryRun => Parameters.Bool("DryRun");

    /// <summary>Called by a changing action once everything is validated: a dry run stops here (412, as AWS).</summary>
    public void ThrowIfDryRun()
    {
        if (DryRun)
            throw Ec2Exception.DryRun();
    }
}

public delegate Task<IEnumerable<object?>> Ec2Handler(Ec2Context context);

/// <param name="Changes">Needs a member's or admin's role; a reader's key gets UnauthorizedOperation, dry run or not.</param>
public sealed record Ec2Action(string Name, bool Changes, Ec2Handler Handler);
