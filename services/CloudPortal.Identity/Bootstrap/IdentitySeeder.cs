using System.Security.Cryptography;
using CloudPortal.Contracts.Identity;
using CloudPortal.Identity.Connect;
using CloudPortal.Identity.Data;
using CloudPortal.Identity.Projects;
using CloudPortal.Identity.Quotas;
using CloudPortal.Identity.Users;
using CloudPortal.ServiceDefaults.Configuration;
using CloudPortal.ServiceDefaults.Security;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using OpenIddict.Abstractions;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace CloudPortal.Identity.Bootstrap;

/// <summary>What <c>cloudportal admin bootstrap</c> reports.</summary>
public sealed record BootstrapResult(string AdminUserName, string? Password, string PasswordFile, string ServiceSecretFile);

/// <summary>
/// Idempotent set-up, run on every start: quota defaults, CloudPortal's OIDC clients (redirect URIs kept
/// in step with the configuration) and — on first start of all-in-one, or by <c>admin bootstrap</c> — the
/// cloud admin with a random password.
/// </summary>
public sealed class IdentitySeeder(IServiceProvider services, IConfiguration configuration, IOptions<IdentityModuleOptions> options, TimeProvider time)
{
    public const string AdminUserName = "admin";
    public const string AdminProjectName = "admin";

    private string DataDir => configuration.GetCloudPortalOptions().FullDataDir;

    public string PasswordFile => Path.Combine(DataDir, "admin-password");

    public string ServiceSecretFile => Path.Combine(DataDir, "service-client-secret");

    public string Ec2SecretFile => Path.Combine(DataDir, Ec2Tokens.SecretFileName);

    public async Task SeedAsync(CancellationToken cancellationToken)
    {
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<IdentityModuleDbContext>();
        var existing = await db.QuotaDefaults.Select(d => d.Resource).ToListAsync(cancellationToken);
        foreach (var (resource, limit) in QuotaResources.Defaults.Where(d => !existing.Contains(d.Key)))
            db.QuotaDefaults.Add(new QuotaDefault { Resource = resource, Limit = limit });
        await db.SaveChangesAsync(cancellationToken);

        var applications = scope.ServiceProvider.GetRequiredService<IOpenIddictApplicationManager>();
        await EnsurePortalClientAsync(applications, cancellationToken);
        await EnsureServiceClientAsync(applications, cancellationToken);
        await EnsureEc2ClientAsync(applications, cancellationToken);
    }

    /// <summary>Creates the cloud admin (and the admin project) unless a cloud admin exists. Returns the password only when created.</summary>
    public async Task<BootstrapResult> EnsureCloudAdminAsync(CancellationToken cancellationToken)
    {
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<IdentityModuleDbContext>();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<CloudUser>>();
        if (await db.Users.AnyAsync(u => u.IsCloudAdmin, cancellationToken))
            return new BootstrapResult(AdminUserName, null, PasswordFile, ServiceSecretFile);

        var password = RandomSecret(18);
        var now = time.GetUtcNow().UtcDateTime;
        var admin = new CloudUser { UserName = AdminUserName, DisplayName = "Cloud administrator", IsCloudAdmin = true, CreatedAt = now };
        var created = await users.CreateAsync(admin, password);
        if (!created.Succeeded)
            throw new InvalidOperationException($"cannot create the cloud admin: {string.Join("; ", created.Errors.Select(e => e.Description))}");

        var project = await db.Projects.SingleOrDefaultAsync(p => p.Name == AdminProjectName, cancellationToken);
        if (project is null)
        {
            project = new Project { Id = Guid.NewGuid(), Name = AdminProjectName, Description = "The cloud administrators' project", CreatedAt = now };
            db.Projects.Add(project);
        }
        db.RoleAssignments.Add(new RoleAssignment { ProjectId = project.Id, UserId = admin.Id, Role = ProjectRole.Admin, AssignedAt = now });
        db.AuditEvents.Add(new Audit.AuditEvent { At = now, Action = "bootstrap.admin_created", Success = true, Target = AdminUserName, ActorName = "cloudportal" });
        await db.SaveChangesAsync(cancellationToken);
        WriteOwnerOnly(PasswordFile, password);
        return new BootstrapResult(AdminUserName, password, PasswordFile, ServiceSecretFile);
    }

    private async Task EnsurePortalClientAsync(IOpenIddictApplicationManager applications, CancellationToken cancellationToken)
    {
        var redirects = options.Value.PortalRedirectUris.Count > 0
            ? options.Value.PortalRedirectUris
            : ListenUrls.Callable(configuration["urls"]).Select(u => $"{u}/signin-oidc").ToList();
        var descriptor = new OpenIddictApplicationDescriptor
        {
            ClientId = Clients.Portal,
            ClientType = ClientTypes.Public,
            DisplayName = "CloudPortal web portal",
            ConsentType = ConsentTypes.Implicit,
            Permissions =
            {
                Permissions.Endpoints.Authorization, Permissions.Endpoints.Token, Permissions.Endpoints.EndSession,
                Permissions.GrantTypes.AuthorizationCode, Permissions.GrantTypes.RefreshToken, Permissions.ResponseTypes.Code,
                Permissions.Scopes.Profile, Permissions.Scopes.Email, Permissions.Prefixes.Scope + Clients.ApiScope,
            },
            Requirements = { Requirements.Features.ProofKeyForCodeExchange },
        };
        foreach (var uri in redirects)
        {
            descriptor.RedirectUris.Add(new Uri(uri));
            descriptor.PostLogoutRedirectUris.Add(new Uri(uri.Replace("/signin-oidc", "/signout-callback-oidc", StringComparison.Ordinal)));
        }
        await UpsertAsync(applications, descriptor, cancellationToken);
    }

    private async Task EnsureServiceClientAsync(IOpenIddictApplicationManager applications, CancellationToken cancellationToken)
    {
        var secret = await SecretAsync(options.Value.ServiceClientSecret, ServiceSecretFile, cancellationToken);
        var descriptor = new OpenIddictApplicationDescriptor
        {
            ClientId = Clients.Service,
            ClientSecret = secret,
            ClientType = ClientTypes.Confidential,
            DisplayName = "CloudPortal services and compute agents",
            Permissions = { Permissions.Endpoints.Token, Permissions.GrantTypes.ClientCredentials, Permissions.Prefixes.Scope + Clients.ApiScope },
        };
        await UpsertAsync(applications, descriptor, cancellationToken);
    }

    private async Task EnsureEc2ClientAsync(IOpenIddictApplicationManager applications, CancellationToken cancellationToken)
    {
        var secret = await SecretAsync(options.Value.Ec2ClientSecret, Ec2SecretFile, cancellationToken);
        var descriptor = new OpenIddictApplicationDescriptor
        {
            ClientId = Clients.Ec2,
            ClientSecret = secret,
            ClientType = ClientTypes.Confidential,
            DisplayName = "CloudPortal EC2 Query API",
            // Only the signature grant: this client cannot get a token of its own (no client credentials).
            Permissions = { Permissions.Endpoints.Token, Permissions.Prefixes.GrantType + Ec2Tokens.GrantType, Permissions.Prefixes.Scope + Clients.ApiScope },
        };
        await UpsertAsync(applications, descriptor, cancellationToken);
    }

    /// <summary>A configured secret, else the one generated into the data directory on the first start.</summary>
    private static async Task<string> SecretAsync(string? configured, string file, CancellationToken cancellationToken)
    {
        if (!string.IsNullOrWhiteSpace(configured))
            return configured;
        if (File.Exists(file))
            return (await File.ReadAllTextAsync(file, cancellationToken)).Trim();
        var secret = RandomSecret(32);
        WriteOwnerOnly(file, secret);
        return secret;
    }

    private static async Task UpsertAsync(IOpenIddictApplicationManager applications, OpenIddictApplicationDescriptor descriptor, CancellationToken cancellationToken)
    {
        var existing = await applications.FindByClientIdAsync(descriptor.ClientId!, cancellationToken);
        if (existing is null)
            await applications.CreateAsync(descriptor, cancellationToken);
        else
            await applications.UpdateAsync(existing, descriptor, cancellationToken);
    }

    private static string RandomSecret(int bytes) => Convert.ToBase64String(RandomNumberGenerator.GetBytes(bytes)).Replace('+', '-').Replace('/', '_').TrimEnd('=');

    /// <summary>Secrets on disk are readable by their owner only.</summary>
    private static void WriteOwnerOnly(string path, string content)
    {
        File.Delete(path);
        using var stream = new FileStream(path, OwnerOnlyFile.CreateOptions());
        using var writer = new StreamWriter(stream);
        writer.Write(content + "\n");
    }
}

/// <summary>Runs the seeder on start, and the first-start bootstrap when configured (all-in-one).</summary>
internal sealed class IdentitySeedService(IdentitySeeder seeder, IOptions<IdentityModuleOptions> options) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await seeder.SeedAsync(cancellationToken);
        if (!options.Value.BootstrapOnStart)
            return;
        var result = await seeder.EnsureCloudAdminAsync(cancellationToken);
        if (result.Password is not null)
        {
            // Straight to the operator's terminal, never to the log pipeline.
            Console.Out.WriteLine($"""

                CloudPortal: created the cloud admin '{result.AdminUserName}' with password: {result.Password}
                It is shown once and saved to {result.PasswordFile} (readable only by you). Change it after signing in.

                """);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
