using Microsoft.AspNetCore.Builder;

namespace CloudPortal.ServiceDefaults.Modules;

/// <summary>
/// A deployable unit of CloudPortal: one class library with one <c>AddXxxModule</c> and one
/// <c>MapXxxModule</c>. The same module runs inside <c>all-in-one</c> or alone under <c>serve</c>.
/// </summary>
/// <param name="Name">The name used on the command line (<c>cloudportal serve scheduler</c>).</param>
/// <param name="Purpose">One line for <c>--help</c>.</param>
public sealed record CloudModule(
    string Name,
    string Purpose,
    Action<WebApplicationBuilder> Add,
    Action<WebApplication> Map);
