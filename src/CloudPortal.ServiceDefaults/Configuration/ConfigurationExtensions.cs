using Microsoft.Extensions.Configuration;

namespace CloudPortal.ServiceDefaults.Configuration;

public static class ConfigurationExtensions
{
    /// <summary>Binds the <c>CloudPortal</c> section; modules read it while registering services.</summary>
    public static CloudPortalOptions GetCloudPortalOptions(this IConfiguration configuration)
    {
        var options = new CloudPortalOptions();
        try
        {
            configuration.GetSection(CloudPortalOptions.Section).Bind(options);
        }
        catch (InvalidOperationException ex)
        {
            throw new StartupException($"invalid configuration in section '{CloudPortalOptions.Section}': {ex.Message}", ex);
        }
        return options;
    }
}
