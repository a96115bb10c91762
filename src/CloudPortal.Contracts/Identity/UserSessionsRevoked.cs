namespace CloudPortal.Contracts.Identity;

/// <summary>
/// Identity revoked every refresh token of a user (password changed, user disabled or deleted, a project role
/// removed). Each portal process ends that user's sessions signed in before it heard this; access tokens already
/// issued lapse on their own within their lifetime. <paramref name="Reason"/>: <c>password_changed</c>,
/// <c>password_reset</c>, <c>user_disabled</c>, <c>user_deleted</c> or <c>role_removed</c>.
/// </summary>
public sealed record UserSessionsRevoked(Guid UserId, string Reason, DateTimeOffset RevokedAt);
