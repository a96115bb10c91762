using Microsoft.AspNetCore.Identity;

namespace CloudPortal.Identity.Users;

/// <summary>
/// Length over composition (NIST SP 800-63B): at least 12 characters, at least 5 distinct, and not the
/// user name. Identity's built-in validator enforces the first two (see IdentityModule).
/// </summary>
public sealed class NotUserNamePasswordValidator : IPasswordValidator<CloudUser>
{
    public Task<IdentityResult> ValidateAsync(UserManager<CloudUser> manager, CloudUser user, string? password)
    {
        ArgumentNullException.ThrowIfNull(user);
        return Task.FromResult(!string.IsNullOrEmpty(user.UserName) && password?.Contains(user.UserName, StringComparison.OrdinalIgnoreCase) == true
            ? IdentityResult.Failed(new IdentityError { Code = "PasswordContainsUserName", Description = "Passwords must not contain the user name." })
            : IdentityResult.Success);
    }
}
