using System.Globalization;

namespace CloudPortal.Bench.Upload;

/// <summary>The command line: every option has a default, so a bare run is the published benchmark.</summary>
internal sealed record UploadBenchOptions(double Gib, int SmallMib, int Rounds, int InARow, bool Cold, bool Glance, string GlanceApi)
{
    public const string DefaultGlanceApi = "/usr/bin/glance-api";

    public const string Help = """
        CloudPortal image upload benchmark: the same file (random data, uploaded as disk format raw) through
        CloudPortal's PUT /images/v2/images/{id}/file (an all-in-one cloud) and OpenStack Glance's
        PUT /v2/images/{id}/file (Debian's glance-api, standalone: no Keystone, SQLite, the file store, on a loopback
        port), with one and the same HttpClient upload (a FileStream with Content-Length), in alternating rounds:
        CloudPortal, Glance, CloudPortal, Glance... Each round also times openssl dgst -sha512, openssl dgst -sha256,
        cp, and cp + sync of the file. Before every timed step: sync (nobody pays for another's writeback), then the
        file is read once into the page cache (or, with --cold, the page cache is dropped).
        It prints per step MiB/s (min/median/max over the rounds), the servers' time to active (from the start of
        the PUT until GET shows active) and peak RSS per upload (VmHWM after clear_refs), then the ratios against the
        targets: upload >= 2 x Glance, >= 0.7 x openssl sha512 (one core), time to active <= Glance's, and memory
        flat: --in-a-row uploads to CloudPortal in a row, the last's peak within 10% of the first's, and a small
        file's peak against the large one's. It asserts nothing.

        usage: dotnet run -c Release --project bench/CloudPortal.Bench.Upload -- [options]

          --gib N           size of the test file in GiB (default 2; fractions allowed, e.g. 0.5)
          --small-mib N     size of the small file of the memory-in-file-size check, MiB (default 256)
          --rounds N        alternating rounds of every step (default 7)
          --in-a-row N      CloudPortal uploads in a row for the memory check (default 10; 0 skips it)
          --cold            drop the page cache (/proc/sys/vm/drop_caches, needs root) before every timed step
                            instead of reading the file into it: the source then comes from the disk
          --no-glance       CloudPortal, openssl and cp only, even when glance-api is installed
          --glance-api PATH the glance-api program (default /usr/bin/glance-api; not there: no Glance)
          -h, --help        this text

        Needs a built host (this project builds it), openssl, cp and sync; Glance is optional (apt-get install
        glance-api; the bench installs nothing and starts no packaged service: it runs its own glance-api in a
        temporary directory). The files are made under the temporary directory the servers' data directories are
        in, so every step reads and writes the same filesystem. Everything is removed at the end.
        """;

    /// <summary>The options, or null with the reason when the command line is not valid (or asks for help: reason null).</summary>
    public static (UploadBenchOptions? Options, string? Error) Parse(IReadOnlyList<string> args)
    {
        var gib = 2.0;
        var smallMib = 256;
        var rounds = 7;
        var inARow = 10;
        var cold = false;
        var glance = true;
        var glanceApi = DefaultGlanceApi;
        for (var i = 0; i < args.Count; i++)
        {
            var name = args[i];
            switch (name)
            {
                case "-h" or "--help":
                    return (null, null);
                case "--cold":
                    cold = true;
                    continue;
                case "--no-glance":
                    glance = false;
                    continue;
            }
            if (name is not ("--gib" or "--small-mib" or "--rounds" or "--in-a-row" or "--glance-api"))
                return (null, $"unknown option {name}");
            if (i + 1 >= args.Count)
                return (null, $"{name} needs a value");
            var value = args[++i];
            switch (name)
            {
                case "--gib" when double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out gib) && gib is >= 0.01 and <= 64:
                case "--small-mib" when Whole(value, 1, 65536, out smallMib):
                case "--rounds" when Whole(value, 1, 100, out rounds):
                case "--in-a-row" when Whole(value, 0, 100, out inARow):
                    break;
                case "--gib":
                    return (null, "--gib is 0.01-64");
                case "--small-mib":
                    return (null, "--small-mib is 1-65536");
                case "--rounds":
                    return (null, "--rounds is 1-100");
                case "--in-a-row":
                    return (null, "--in-a-row is 0-100");
                default: // --glance-api
                    glanceApi = value;
                    break;
            }
        }
        return (new UploadBenchOptions(gib, smallMib, rounds, inARow, cold, glance, glanceApi), null);
    }

    private static bool Whole(string value, int min, int max, out int result) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out result) && result >= min && result <= max;
}
