using CloudPortal.Contracts.Identity;
using CloudPortal.Identity.Data;
using CloudPortal.ServiceDefaults.Security.SigV4;
using MassTransit;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;

namespace CloudPortal.Identity.AccessKeys;

/// <summary>
/// Keystone's ec2tokens: checks a SigV4 signature against the stored secret (constant-time), within AWS's
/// 15-minute window of the date inside the signed string, and names the principal and project the key acts for. Every refusal of a
/// key, secret, user or membership looks the same to the caller (AuthFailure), as in AWS.
/// </summary>
public sealed class Ec2SignatureCheck(IdentityModuleDbContext db, IDataProtectionProvider protection, TimeProvider time)
{
    /// <summary>Recording every use would write on every EC2 call; once a minute is enough to show a key is alive.</summary>
    private static readonly TimeSpan LastUsedResolution = TimeSpan.FromMinutes(1);

    /// <summary>Answers <see cref="Ec2SignatureVerified"/> or <see cref="Ec2SignatureRejected"/>.</summary>
    public async Task<object> CheckAsync(VerifyEc2Signature request, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        // The window is checked against the X-Amz-Date the signature covers: a captured signature sent again later
        // carries its old date, whatever else the message says.
        if (!SigV4Signer.TryReadStringToSign(request.StringToSign, out var signedAt, out var scope) || scope!.ToString() != request.Scope
            || request.ExpiresIn is { TotalSeconds: < 1 or > SigV4Request.MaxExpiresSeconds })
            return Refused(request);
        if (SigV4TimeWindow.Check(signedAt, request.ExpiresIn, now) is { } expired)
            return new Ec2SignatureRejected(request.AccessKeyId, expired.Code, expired.Message);

        var key = await db.AccessKeys.SingleOrDefaultAsync(k => k.AccessKeyId == request.AccessKeyId, cancellationToken);
        var verified = key is not null && SigV4Signer.Verify(Unprotect(key.ProtectedSecret), request.StringToSign, scope, request.Signature);
        var user = verified ? await db.Users.AsNoTracking().SingleOrDefaultAsync(u => u.Id == key!.UserId, cancellationToken) : null;
        // The key acts with the role its owner holds now, in a project that is still enabled.
        var membership = user is null || user.LockoutEnd > now ? null : await db.RoleAssignments.AsNoTracking()
            .Where(a => a.UserId == key!.UserId && a.ProjectId == key.ProjectId)
            .Join(db.Projects.Where(p => p.Enabled), a => a.ProjectId, p => p.Id, (a, p) => new { a.Role, ProjectName = p.Name })
            .SingleOrDefaultAsync(cancellationToken);
        if (membership is null)
            return Refused(request);

        if (key!.LastUsedAt is null || now.UtcDateTime - key.LastUsedAt > LastUsedResolution)
        {
            key.LastUsedAt = now.UtcDateTime;
            await db.SaveChangesAsync(cancellationToken);
        }
        return new Ec2SignatureVerified(key.AccessKeyId, key.UserId, user!.UserName!, key.ProjectId, membership.ProjectName,
            membership.Role.ToString().ToLowerInvariant(), user.IsCloudAdmin);
    }

    private static Ec2SignatureRejected Refused(VerifyEc2Signature request) =>
        new(request.AccessKeyId, SigV4ErrorCodes.AuthFailure, SigV4Error.AuthFailureMessage);

    private string Unprotect(string protectedSecret)
    {
        try
        {
            return AccessKeysApi.Protector(protection).Unprotect(protectedSecret);
        }
        catch (System.Security.Cryptography.CryptographicException)
        {
            // Keys rotated away or data tampered with: the signature cannot match.
            return "";
        }
    }
}

/// <summary>The EC2 API's signature check over the bus, on every EC2 request.</summary>
public sealed class VerifyEc2SignatureConsumer(Ec2SignatureCheck check) : IConsumer<VerifyEc2Signature>
{
    public async Task Consume(ConsumeContext<VerifyEc2Signature> context)
    {
        switch (await check.CheckAsync(context.Message, context.CancellationToken))
        {
            case Ec2SignatureVerified verified:
                await context.RespondAsync(verified);
                break;
            case Ec2SignatureRejected rejected:
                await context.RespondAsync(rejected);
                break;
        }
    }
}
