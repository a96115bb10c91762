using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using CloudPortal.Bench.Common;
using CloudPortal.ComputeAgent.Instances;
using CloudPortal.ComputeAgent.Libvirt;
using CloudPortal.Contracts.Compute;
using CloudPortal.Testing;

namespace CloudPortal.Bench.Launch;

/// <summary>One launch through the API, each time from just before the POST: the 202, the first poll that saw a host chosen (building/spawning), ACTIVE, the guest's console line.</summary>
internal sealed record ApiSample(Guid Id, double Accepted, double HostChosen, double Active, double ConsoleLine);

/// <summary>One raw launch, each time from just before <c>virsh define</c>.</summary>
internal sealed record RawSample(double Defined, double Started, double FirstLine);

/// <summary>
/// The user's path against the operator's, in one run and at each concurrency level: N launches through
/// <c>POST /compute/v1/instances</c> of a real all-in-one cloud (polling the instance until ACTIVE, then its console log
/// until the guest's line) against N times <c>virsh define</c> + <c>virsh start</c> of the same disk (a qcow2 overlay over
/// the cloud's cached base image, made beforehand) and size (watching the serial log file for the same line). A round
/// starts its launches together; the two paths alternate round by round, so a change in the machine's load hits both;
/// each round's guests are deleted (untimed) and gone before the next round starts.
/// </summary>
internal static class ApiComparison
{
    private static readonly TimeSpan LaunchTimeout = TimeSpan.FromMinutes(2);

    /// <summary>The serial log file is a local file: read it often enough that polling adds nothing that matters.</summary>
    private static readonly TimeSpan SerialPoll = TimeSpan.FromMilliseconds(5);

    public static async Task<string> RunAsync(BenchOptions options, LibvirtConnection libvirt, string domainType, string root, LibvirtLeftovers created, CancellationToken cancellationToken)
    {
        var rawHost = $"bench-raw-{Guid.NewGuid().ToString("N")[..8]}";
        created.Hosts.Add(rawHost);
        var load = ProcessStats.LoadAverage();
        Console.WriteLine("2. API vs raw: starting an all-in-one cloud");
        await using var bench = await BenchCloud.StartAsync(options, created, cancellationToken);
        try
        {
            var api = bench.Member;
            var sha256 = Convert.ToHexStringLower(SHA256.HashData(GuestImage.Qcow2()));
            var flavor = new FlavorSpec(BenchCloud.Flavor, 1, 64, 1);

            // Warm-up, not measured: the agent downloads the image into its cache, and every path is JIT-compiled once.
            var warm = await LaunchAsync(api, bench.ImageId, "warm-up", options.Poll, cancellationToken);
            await DeleteAsync(api, [warm.Id], cancellationToken);
            string basePath;
            using (var pool = libvirt.LookupStoragePoolByName($"cloudportal-images-{bench.Node}")
                ?? throw new InvalidOperationException($"the cloud's image cache pool cloudportal-images-{bench.Node} is not in {options.Libvirt}"))
            {
                pool.Refresh();
                using var volume = pool.ListAllVolumes().Single();
                basePath = volume.GetPath();
            }
            await RawRoundAsync(1);
            Console.WriteLine($"   cloud node {bench.Node}; base image (the cloud's cache) {basePath}; {options.Runs} launches per path and level " +
                $"at concurrency {string.Join(", ", options.Concurrency)}; instance and console-log polls every {options.Poll.TotalMilliseconds:0} ms");

            var apiResults = new Dictionary<int, List<ApiSample>>();
            var rawResults = new Dictionary<int, List<RawSample>>();
            foreach (var level in options.Concurrency)
            {
                apiResults[level] = [];
                rawResults[level] = [];
                for (var done = 0; done < options.Runs;)
                {
                    var count = Math.Min(level, options.Runs - done);
                    var launches = await Task.WhenAll(Enumerable.Range(0, count).Select(i =>
                        LaunchAsync(api, bench.ImageId, $"bench-c{level}-{done + i + 1}", options.Poll, cancellationToken)));
                    apiResults[level].AddRange(launches);
                    await DeleteAsync(api, launches.Select(l => l.Id).ToList(), cancellationToken);
                    rawResults[level].AddRange(await RawRoundAsync(count));
                    done += count;
                    Console.Write($"\r   concurrency {level}: {done}/{options.Runs}");
                }
                Console.WriteLine();
            }
            return Report(options, apiResults, rawResults, bench.AgentSpawnMilliseconds(), load, ProcessStats.LoadAverage());

            async Task<RawSample[]> RawRoundAsync(int count)
            {
                var domains = await Task.WhenAll(Enumerable.Range(0, count).Select(_ => PrepareRawAsync(rawHost, flavor, bench.ImageId, sha256, basePath, domainType, root)));
                try
                {
                    return await Task.WhenAll(domains.Select(d => RawLaunchAsync(d, options.Libvirt, cancellationToken)));
                }
                finally
                {
                    foreach (var domain in domains)
                        await RemoveRawAsync(domain, options.Libvirt);
                }
            }
        }
        finally
        {
            if (options.CloudLog is { } file)
            {
                await File.WriteAllTextAsync(file, bench.Cloud.ComputeProcess.Output, CancellationToken.None);
                Console.WriteLine($"   the cloudportal process's output is in {file}");
            }
        }
    }

    private static async Task<ApiSample> LaunchAsync(HttpClient api, Guid image, string name, TimeSpan poll, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        Guid id;
        using (var response = await api.PostAsJsonAsync("compute/v1/instances", new { name, flavorId = BenchCloud.Flavor, imageId = image }, cancellationToken))
        {
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            if (response.StatusCode != HttpStatusCode.Accepted)
                throw new HttpRequestException($"launch {name}: {(int)response.StatusCode} {body}", null, response.StatusCode);
            id = JsonDocument.Parse(body).RootElement.GetProperty("instances")[0].GetProperty("id").GetGuid();
        }
        var accepted = clock.Elapsed.TotalMilliseconds;

        double? hostChosen = null;
        double active;
        while (true)
        {
            var instance = JsonDocument.Parse(await BenchCloud.OkAsync(await api.GetAsync($"compute/v1/instances/{id}", cancellationToken), $"show {id}")).RootElement;
            var now = clock.Elapsed.TotalMilliseconds;
            var status = instance.GetProperty("status").GetString();
            var task = instance.GetProperty("task") is { ValueKind: JsonValueKind.String } t ? t.GetString() : null;
            if (task != "scheduling")
                hostChosen ??= now;
            if (status == "active" && task is null)
            {
                active = now;
                break;
            }
            if (status == "error")
                throw new InvalidOperationException($"instance {id} ({name}) went to error: {instance.GetProperty("fault")}");
            Deadline(clock, $"instance {id} ({name}) ACTIVE; last seen {status}/{task}");
            await Task.Delay(poll, cancellationToken);
        }

        while (true)
        {
            using (var response = await api.GetAsync($"compute/v1/instances/{id}/console-log?lines=20", cancellationToken))
            {
                if (response.IsSuccessStatusCode
                    && (await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken)).GetProperty("output").GetString() is { } output
                    && output.Contains(GuestImage.Message, StringComparison.Ordinal))
                    return new ApiSample(id, accepted, hostChosen ?? active, active, clock.Elapsed.TotalMilliseconds);
            }
            Deadline(clock, $"'{GuestImage.Message}' in the console log of {id} ({name})");
            await Task.Delay(poll, cancellationToken);
        }
    }

    /// <summary>Deletes the instances and waits until each is <c>deleted</c> (not timed): the next round starts on an empty node.</summary>
    private static async Task DeleteAsync(HttpClient api, IReadOnlyList<Guid> ids, CancellationToken cancellationToken)
    {
        foreach (var id in ids)
        {
            using var response = await api.DeleteAsync($"compute/v1/instances/{id}", cancellationToken);
            if (response.StatusCode != HttpStatusCode.Accepted)
                throw new HttpRequestException($"delete {id}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(cancellationToken)}", null, response.StatusCode);
        }
        var clock = Stopwatch.StartNew();
        foreach (var id in ids)
        {
            while (true)
            {
                using var response = await api.GetAsync($"compute/v1/instances/{id}", cancellationToken);
                if (response.StatusCode == HttpStatusCode.NotFound
                    || (response.IsSuccessStatusCode && (await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken)).GetProperty("status").GetString() == "deleted"))
                    break;
                Deadline(clock, $"instance {id} deleted");
                await Task.Delay(100, cancellationToken);
            }
        }
    }

    private sealed record RawDomain(string Name, string XmlFile, string Overlay, string SerialLog);

    /// <summary>What an operator prepares before launching (not timed): the overlay over the base image, the domain XML.</summary>
    private static async Task<RawDomain> PrepareRawAsync(string host, FlavorSpec flavor, Guid imageId, string sha256, string basePath, string domainType, string root)
    {
        var id = Guid.NewGuid();
        var domain = new RawDomain(DomainXml.DomainName(id), Path.Combine(root, $"raw-{id}.xml"), Path.Combine(root, $"raw-{id}.qcow2"), Path.Combine(root, $"raw-{id}.log"));
        await Tools.RunAsync("qemu-img", "create", "-q", "-f", "qcow2", "-b", basePath, "-F", "qcow2", domain.Overlay, $"{flavor.RootGb}G");
        var metadata = new InstanceMetadata(id, Guid.NewGuid(), host, flavor, imageId, sha256, DateTimeOffset.UtcNow);
        await File.WriteAllTextAsync(domain.XmlFile, DomainXml.Build(new DomainDefinition(domainType, metadata, domain.Overlay, domain.SerialLog, "127.0.0.1", null)));
        return domain;
    }

    private static async Task<RawSample> RawLaunchAsync(RawDomain domain, string uri, CancellationToken cancellationToken)
    {
        using var watching = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var clock = Stopwatch.StartNew();
        var firstLine = FirstSerialLineAsync(domain.SerialLog, clock, watching.Token);
        try
        {
            await Tools.RunAsync("virsh", "-q", "-c", uri, "define", domain.XmlFile);
            var defined = clock.Elapsed.TotalMilliseconds;
            await Tools.RunAsync("virsh", "-q", "-c", uri, "start", domain.Name);
            var started = clock.Elapsed.TotalMilliseconds;
            return new RawSample(defined, started, await firstLine);
        }
        catch
        {
            await watching.CancelAsync();
            try
            {
                await firstLine;
            }
            catch (OperationCanceledException)
            {
            }
            throw;
        }
    }

    private static async Task<double> FirstSerialLineAsync(string path, Stopwatch clock, CancellationToken cancellationToken)
    {
        while (true)
        {
            if (File.Exists(path))
            {
                await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                using var reader = new StreamReader(file, Encoding.ASCII);
                if ((await reader.ReadToEndAsync(cancellationToken)).Contains(GuestImage.Message, StringComparison.Ordinal))
                    return clock.Elapsed.TotalMilliseconds;
            }
            Deadline(clock, $"'{GuestImage.Message}' in {path}");
            await Task.Delay(SerialPoll, cancellationToken);
        }
    }

    /// <summary>Removes a raw domain and its files; one that is already gone (or never defined) is fine.</summary>
    private static async Task RemoveRawAsync(RawDomain domain, string uri)
    {
        foreach (var command in new[] { "destroy", "undefine" })
        {
            try
            {
                await Tools.RunAsync("virsh", command == "destroy" ? ["-q", "-c", uri, "destroy", domain.Name] : ["-q", "-c", uri, "undefine", domain.Name, "--managed-save"]);
            }
            catch (InvalidOperationException)
            {
                // Not running, or not defined: what is left is removed by the run's final cleanup if anything is.
            }
        }
        foreach (var file in new[] { domain.Overlay, domain.XmlFile, domain.SerialLog })
            File.Delete(file);
    }

    private static void Deadline(Stopwatch clock, string what)
    {
        if (clock.Elapsed > LaunchTimeout)
            throw new TimeoutException($"timed out after {LaunchTimeout.TotalSeconds:0} s waiting for {what}");
    }

    private static string Report(BenchOptions options, Dictionary<int, List<ApiSample>> api, Dictionary<int, List<RawSample>> raw, Dictionary<Guid, double> agentSpawns,
        string loadBefore, string loadAfter)
    {
        var text = new StringBuilder();
        string[] headers = ["path", "concurrency", "runs", "p50 ms", "p95 ms", "min ms", "max ms", "p50 / raw", "p95 / raw"];
        var rows = new List<string[]>();
        foreach (var level in options.Concurrency)
        {
            var start = raw[level].Select(r => r.Started).ToList();
            var line = raw[level].Select(r => r.FirstLine).ToList();
            rows.Add(Row("API: POST -> ACTIVE (instance GET)", level, api[level].Select(a => a.Active).ToList(), start));
            rows.Add(Row("raw: virsh define + start returned", level, start, start));
            rows.Add(Row("API: POST -> guest's line (console-log GET)", level, api[level].Select(a => a.ConsoleLine).ToList(), line));
            rows.Add(Row("raw: define -> guest's line in the serial log", level, line, line));
        }
        text.Append(Stats.Table(headers, rows));
        text.AppendLine($"polls: the instance every {options.Poll.TotalMilliseconds:0} ms from the 202, its console-log every {options.Poll.TotalMilliseconds:0} ms once ACTIVE " +
            $"(a time is when a poll saw it: up to one interval plus one request late); the raw serial log file every {SerialPoll.TotalMilliseconds:0} ms.");
        text.AppendLine($"load average (1, 5, 15 min) before the cloud started: {loadBefore}; after the last round: {loadAfter}.");

        var ratios = options.Concurrency.Select(level =>
        {
            var apiP50 = Stats.Median(api[level].Select(a => a.Active).ToList());
            var rawP50 = Stats.Median(raw[level].Select(r => r.Started).ToList());
            return (Level: level, Api: apiP50, Raw: rawP50, Ratio: apiP50 / rawP50);
        }).ToList();
        text.AppendLine($"target: API -> ACTIVE p50 <= 2 x raw p50 at {(ratios.Count > 1 ? "every concurrency level" : "its concurrency level")}: {(ratios.All(r => r.Ratio <= 2) ? "met" : "NOT met")} — " +
            string.Join("; ", ratios.Select(r => $"concurrency {r.Level}: {Stats.Ms(r.Api)} ms vs 2 x {Stats.Ms(r.Raw)} = {Stats.Ms(2 * r.Raw)} ms ({Stats.Ratio(r.Ratio)} x{(r.Ratio <= 2 ? "" : ", NOT met")})")));

        // Where the API path's time goes, phase by phase (each phase's own percentiles: they need not add up to the total's).
        text.AppendLine();
        text.AppendLine("where the time goes (ms; a phase ends when a poll saw it):");
        var phaseHeaders = new List<string> { "phase" };
        foreach (var level in options.Concurrency)
            phaseHeaders.AddRange([$"c={level} p50", $"c={level} p95"]);
        var phases = new List<(string Name, Func<int, List<double>> Values)>
        {
            ("API: POST -> 202 (validate, ask Images, insert + outbox, commit)", l => api[l].Select(a => a.Accepted).ToList()),
            ("API: 202 -> host chosen (relay SelectHosts, Scheduler claims, HostsSelected)", l => api[l].Select(a => a.HostChosen - a.Accepted).ToList()),
            ("API: host chosen -> ACTIVE (SpawnInstance, agent, InstanceSpawned)", l => api[l].Select(a => a.Active - a.HostChosen).ToList()),
            ("  of which the agent's spawn (its log: checks, overlay, define, start)", l => api[l].Where(a => agentSpawns.ContainsKey(a.Id)).Select(a => agentSpawns[a.Id]).ToList()),
            ("  the rest (messages to and from the agent, polling)", l => api[l].Where(a => agentSpawns.ContainsKey(a.Id)).Select(a => a.Active - a.HostChosen - agentSpawns[a.Id]).ToList()),
            ("API: ACTIVE -> guest's line (console-log GETs via the agent)", l => api[l].Select(a => a.ConsoleLine - a.Active).ToList()),
            ("raw: virsh define", l => raw[l].Select(r => r.Defined).ToList()),
            ("raw: virsh start", l => raw[l].Select(r => r.Started - r.Defined).ToList()),
            ("raw: start returned -> guest's line in the serial log", l => raw[l].Select(r => r.FirstLine - r.Started).ToList()),
        };
        var phaseRows = phases.Select(p =>
        {
            var cells = new List<string> { p.Name };
            foreach (var level in options.Concurrency)
            {
                var values = p.Values(level);
                cells.AddRange(values.Count == 0 ? ["-", "-"] : [Stats.Ms(Stats.Median(values)), Stats.Ms(Stats.Percentile(values, 95))]);
            }
            return cells.ToArray();
        }).ToList();
        text.Append(Stats.Table(phaseHeaders, phaseRows));
        return text.ToString();

        static string[] Row(string path, int level, List<double> values, List<double> baseline) =>
        [
            path, level.ToString(CultureInfo.InvariantCulture), values.Count.ToString(CultureInfo.InvariantCulture),
            Stats.Ms(Stats.Median(values)), Stats.Ms(Stats.Percentile(values, 95)), Stats.Ms(values.Min()), Stats.Ms(values.Max()),
            Stats.Ratio(Stats.Median(values) / Stats.Median(baseline)), Stats.Ratio(Stats.Percentile(values, 95) / Stats.Percentile(baseline, 95)),
        ];
    }
}
