using CloudPortal.Host.Commands;
using CloudPortal.ServiceDefaults;

// cloudportal: one executable for every role (see docs/architecture.md).
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
