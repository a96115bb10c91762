using System.Collections.Concurrent;
using CloudPortal.Contracts.Identity;
using MassTransit;

namespace CloudPortal.Portal.Auth;

/// <summary>
/// The users whose sessions Identity revoked (<see cref="UserSessionsRevoked"/>), with the moment this process heard
/// it. A session of theirs that signed in before that moment ends on its next request (<see cref="TokenRefresher"/>);
/// one signed in afterwards holds new tokens and stays. Both times are this process's clock, so no skew between
/// machines matters. The marks live in memory like the sessions themselves: a restart loses both.
/// </summary>
public sealed class SessionRevocations(TimeProvider time)
{
    /// <summary>Longer than any access token lives: past it, the revoked refresh token ends an old session by itself.</summary>
    private static readonly TimeSpan Keep = TimeSpan.FromHours(1);

    /// <summary>The ticket property with the moment (this process's clock) the session signed in.</summary>
    public const string SignedInAt = ".cloudportal.signed_in_at";

    private readonly ConcurrentDictionary<Guid, DateTimeOffset> _revoked = new();

    public void Revoke(Guid userId)
    {
        var now = time.GetUtcNow();
        _revoked[userId] = now;
        foreach (var (user, at) in _revoked)
        {
            if (now - at > Keep)
                _revoked.TryRemove(new KeyValuePair<Guid, DateTimeOffset>(user, at));
        }
    }

    /// <summary>A session without a sign-in time is older than this code; it counts as signed in before any revocation.</summary>
    public bool Ends(Guid userId, DateTimeOffset? signedInAt) =>
        _revoked.TryGetValue(userId, out var revokedAt) && (signedInAt is not { } at || at <= revokedAt);

    public DateTimeOffset Now() => time.GetUtcNow();
}

/// <summary>Each portal process has its own queue for these (a per-process consumer): every replica must end its own sessions.</summary>
public sealed class UserSessionsRevokedConsumer(SessionRevocations revocations) : IConsumer<UserSessionsRevoked>
{
    public Task Consume(ConsumeContext<UserSessionsRevoked> context)
    {
        revocations.Revoke(context.Message.UserId);
        return Task.CompletedTask;
    }
}
