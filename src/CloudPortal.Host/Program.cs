using CloudPortal.Host.Commands;
using CloudPortal.ServiceDefaults;
using CloudPortal.ServiceDefaults.Configuration;

// cloudportal: one executable for every role (see docs/architecture.md).
// Before anything touches the data directory: every file this process creates is its owner's only.
DataDirectory.RestrictUmask();
return await CloudPortalCommandLine.Create(RunAsync).Parse(args).InvokeAsync();

// Operator mistakes end with one line and exit code 2; anything else with one line and exit code 1.
static async Task<int> RunAsync(Func<CancellationToken, Task> command, CancellationToken cancellationToken)
{
    try
    {
        await command(cancellationToken);
        return 0;
    }
    catch (StartupException ex)
    {
        await Console.Error.WriteLineAsync($"cloudportal: error: {ex.Message}");
        return 2;
    }
    catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
    {
        return 0;
    }
    catch (Exception ex)
    {
        await Console.Error.WriteLineAsync($"cloudportal: failed: {ex.GetType().Name}: {ex.Message}");
        return 1;
    }
}
