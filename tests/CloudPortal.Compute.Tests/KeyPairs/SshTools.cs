using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using CloudPortal.Testing;

namespace CloudPortal.Compute.Tests.KeyPairs;

/// <summary>
/// The reference tools: ssh-keygen makes the keys and prints OpenSSH's fingerprints; openssl runs the commands the
/// EC2 User Guide gives for checking EC2's RSA fingerprints. Keys are made once per test run in a temporary
/// directory (removed on dispose) and shared by the tests of a class.
/// </summary>
public sealed class SshTools : IDisposable
{
    public const string SshKeygen = "/usr/bin/ssh-keygen";
    public const string OpenSsl = "/usr/bin/openssl";

    private readonly ConcurrentDictionary<string, Lazy<Task<string>>> _keys = new();

    public string Directory { get; } = System.IO.Directory.CreateTempSubdirectory("cloudportal-keypairs-").FullName;

    /// <summary>Fails under CI, skips with the reason elsewhere, when a tool is not installed.</summary>
    public static void Require()
    {
        if (!File.Exists(SshKeygen))
            TestEnvironment.Unavailable("ssh-keygen", "not installed; apt-get install openssh-client");
        if (!File.Exists(OpenSsl))
            TestEnvironment.Unavailable("openssl", "not installed; apt-get install openssl");
    }

    /// <summary>The path of a private key made by <c>ssh-keygen -t type -b bits</c> (its public key is path + ".pub").</summary>
    public Task<string> KeyAsync(string type, int bits)
    {
        Require();
        var name = $"{type}{bits}";
        return _keys.GetOrAdd(name, _ => new Lazy<Task<string>>(async () =>
        {
            var path = Path.Combine(Directory, name);
            var args = new List<string> { "-q", "-t", type, "-N", "", "-C", $"{name}@example.com", "-f", path };
            if (type != "ed25519")
                args.InsertRange(3, ["-b", bits.ToString()]);
            await RunAsync(SshKeygen, args);
            return path;
        })).Value;
    }

    public async Task<string> PublicLineAsync(string type, int bits) => (await File.ReadAllTextAsync(await KeyAsync(type, bits) + ".pub")).Trim();

    /// <summary><c>ssh-keygen -l -E hash -f path</c>: (bits, fingerprint without its "SHA256:"/"MD5:" prefix).</summary>
    public static async Task<(int Bits, string Fingerprint)> FingerprintAsync(string path, string hash)
    {
        var fields = Text(await RunAsync(SshKeygen, ["-l", "-E", hash, "-f", path])).Split(' ');
        return (int.Parse(fields[0]), fields[1][(fields[1].IndexOf(':') + 1)..]);
    }

    /// <summary>Writes text to a new file in the directory, readable by its owner only (ssh-keygen insists for private keys).</summary>
    public string Write(string name, string content)
    {
        var path = Path.Combine(Directory, name);
        File.WriteAllText(path, content);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        return path;
    }

    /// <summary>The colon-separated hex that <c>openssl md5 -c</c> / <c>openssl sha1 -c</c> print for their stdin.</summary>
    public static async Task<string> OpenSslDigestAsync(string digest, byte[] input)
    {
        var output = Text(await RunAsync(OpenSsl, [digest, "-c"], input));
        return output[(output.IndexOf("= ", StringComparison.Ordinal) + 2)..];
    }

    public static string Text(byte[] output) => Encoding.UTF8.GetString(output).Trim();

    public static async Task<byte[]> RunAsync(string file, IEnumerable<string> args, byte[]? stdin = null)
    {
        var info = new ProcessStartInfo(file);
        foreach (var arg in args)
            info.ArgumentList.Add(arg);
        var (exitCode, stdout, stderr) = await ChildProcess.RunBytesAsync(info, TimeSpan.FromSeconds(60), stdin);
        if (exitCode != 0)
            throw new InvalidOperationException($"{file} {string.Join(' ', info.ArgumentList)} exited {exitCode}: {stderr}");
        return stdout;
    }

    public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);
}
