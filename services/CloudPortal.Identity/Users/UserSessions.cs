using CloudPortal.Contracts.Identity;
using CloudPortal.Identity.Data;
using CloudPortal.ServiceDefaults.Outbox;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using OpenIddict.Abstractions;

namespace CloudPortal.Identity.Users;

/// <summary>
/// Ends what a user is signed in with when their credentials or rights shrink: every refresh token of theirs is
/// revoked (the token endpoint answers <c>invalid_grant</c>), and <see cref="UserSessionsRevoked"/> goes out through
/// the outbox so each portal process ends their sessions on its next request. Access tokens already issued are
/// JWTs checked by signature alone: they lapse within their lifetime (15 minutes by default, docs/operations.md).
/// </summary>
public sealed class UserSessions(IOpenIddictTokenManager tokens, IdentityModuleDbContext db, OutboxSignal signal, TimeProvider time)
{
    public const string PasswordChanged = "password_changed";
    public const string PasswordReset = "password_reset";
    public const string UserDisabled = "user_disabled";
    public const string UserDeleted = "user_deleted";
    public const string RoleRemoved = "role_removed";

    /// <summary>
    /// The change and the revocation commit together: a password change that is saved never leaves its old refresh
    /// tokens working, and a revocation is never published for a change that rolled back.
    /// </summary>
    public Task<IDbContextTransaction> BeginAsync(CancellationToken cancellationToken) => db.Database.BeginTransactionAsync(cancellationToken);

    /// <summary>Revokes the user's tokens and adds the event, inside the caller's transaction; the caller saves and commits.</summary>
    public async Task RevokeAsync(Guid userId, string reason, CancellationToken cancellationToken)
    {
        await tokens.RevokeBySubjectAsync(userId.ToString(), cancellationToken);
        db.Outbox.Publish(new UserSessionsRevoked(userId, reason, time.GetUtcNow()));
    }

    /// <summary>After the commit: rows written in an explicit transaction would otherwise wait for the relay's next poll.</summary>
    public void Published() => signal.Pulse();
}
