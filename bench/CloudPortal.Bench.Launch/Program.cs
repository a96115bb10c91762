using System.Runtime.InteropServices;
using CloudPortal.Bench.Launch;
using CloudPortal.ComputeAgent.Hypervisor;
using CloudPortal.ComputeAgent.Libvirt;

// Launch benchmark (see BenchOptions.Help, or docs/operations.md "Benchmarks"): the agent against virsh, then a real
// all-in-one cloud's API against virsh at each concurrency level, real QEMU/KVM guests throughout.
var (options, error) = BenchOptions.Parse(args);
if (options is null)
{
    (error is null ? Console.Out : Console.Error).WriteLine(error is null ? BenchOptions.Help : $"{error}\n\n{BenchOptions.Help}");
    return error is null ? 0 : 2;
}

// Ctrl+C or SIGTERM stops the run at its next step, and everything it made is still removed.
using var stop = new CancellationTokenSource();
using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);

var root = Directory.CreateTempSubdirectory("cp-bench-launch-").FullName;
using var libvirt = LibvirtConnection.Open(options.Libvirt);
var domainType = libvirt.HypervisorType == "TEST" ? "test" : HypervisorSession.DomainTypeFor(libvirt);
var created = new LibvirtLeftovers();
string? agentTable = null;
string apiTable;
Console.WriteLine($"libvirt {options.Libvirt} ({libvirt.HypervisorType} {libvirt.HypervisorVersion}, domain type {domainType}); work directory {root}");
try
{
    if (!options.SkipAgent)
        agentTable = await AgentComparison.RunAsync(options, libvirt, domainType, root, created, stop.Token);
    apiTable = await ApiComparison.RunAsync(options, libvirt, domainType, root, created, stop.Token);
}
catch (OperationCanceledException) when (stop.IsCancellationRequested)
{
    Console.Error.WriteLine("stopped before the end: no results");
    return 130;
}
finally
{
    created.Remove(libvirt, simulated: domainType == "test");
    Directory.Delete(root, recursive: true);
}

Console.WriteLine();
Console.WriteLine($"CloudPortal launch benchmark — {Environment.ProcessorCount} CPUs, .NET {Environment.Version}, warm image cache, guest: 1 vCPU, 64 MiB, 1 GiB qcow2 overlay");
if (agentTable is not null)
{
    Console.WriteLine();
    Console.WriteLine("agent vs virsh, one at a time: time to a running domain");
    Console.WriteLine(agentTable);
}
Console.WriteLine("API vs raw: time to ACTIVE / to a running domain, and to the guest's first console line");
Console.WriteLine(apiTable);
return 0;

void Stop(PosixSignalContext signal)
{
    signal.Cancel = true;
    Console.Error.WriteLine($"\n{signal.Signal}: stopping; removing what the run made");
    stop.Cancel();
}
