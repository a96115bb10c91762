namespace CloudPortal.Testing;

/// <summary>The operator's own tool, run against the system libvirt: how tests look at, and act on, what agents made.</summary>
public static class Virsh
{
    public const string SystemUri = "qemu:///system";

    public static bool Installed => File.Exists("/usr/bin/virsh");

    public static Task<CommandResult> RunAsync(params string[] args) =>
        ChildProcess.RunAsync("virsh", ["-c", SystemUri, .. args], TimeSpan.FromSeconds(60));

    /// <summary>Runs a command that must succeed.</summary>
    public static async Task<string> OkAsync(params string[] args)
    {
        var result = await RunAsync(args);
        if (result.ExitCode != 0)
            throw new InvalidOperationException($"virsh {string.Join(' ', args)} failed ({result.ExitCode}): {result.Output}");
        return result.StandardOutput;
    }

    /// <summary>Every domain name libvirt has (running or not).</summary>
    public static async Task<IReadOnlyList<string>> DomainsAsync() =>
        (await OkAsync("list", "--all", "--name")).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>libvirt's state of a domain (<c>running</c>, <c>shut off</c>, <c>paused</c>), or null when it has none by that name.</summary>
    public static async Task<string?> StateAsync(string domain)
    {
        var result = await RunAsync("domstate", domain);
        return result.ExitCode == 0 ? result.StandardOutput.Trim() : null;
    }
}

/// <summary>Removes what a test cloud's agents left in the system libvirt: their domains and their storage pools.</summary>
public static class LibvirtCleanup
{
    public static async Task RemoveAsync(IReadOnlyCollection<string> nodes)
    {
        if (!Virsh.Installed || (await Virsh.RunAsync("version")).ExitCode != 0)
            return;   // no libvirt here: nothing can have been made in it
        foreach (var domain in (await Virsh.DomainsAsync()).Where(d => d.StartsWith("cp-", StringComparison.Ordinal)))
        {
            var xml = await Virsh.RunAsync("dumpxml", domain);
            if (xml.ExitCode != 0 || !nodes.Any(n => xml.StandardOutput.Contains($">{n}</cloudportal:host>", StringComparison.Ordinal)))
                continue;
            await Virsh.RunAsync("destroy", domain);
            await Virsh.RunAsync("undefine", domain, "--managed-save");
        }
        foreach (var node in nodes)
        {
            foreach (var pool in new[] { $"cloudportal-images-{node}", $"cloudportal-instances-{node}" })
            {
                await Virsh.RunAsync("pool-destroy", pool);
                await Virsh.RunAsync("pool-undefine", pool);
            }
        }
    }
}
