using CloudPortal.ServiceDefaults.Configuration;
using Xunit;

namespace CloudPortal.ServiceDefaults.Tests;

public sealed class DataDirectoryTests : IDisposable
{
    private const UnixFileMode Wide = (UnixFileMode)0b111_101_101;   // 0755
    private const UnixFileMode WideFile = (UnixFileMode)0b110_100_100; // 0644
    private readonly string _root = Directory.CreateTempSubdirectory("cp-datadir-").FullName;
    private readonly string _outside = Path.GetTempFileName();

    [Fact]
    public void Tightening_leaves_the_owner_alone_with_everything_but_qemus_way_to_the_agents_directories()
    {
        var keys = Path.Combine(_root, "identity-keys");
        var instances = Path.Combine(_root, "instances");
        Directory.CreateDirectory(keys);
        Directory.CreateDirectory(instances);
        File.WriteAllText(Path.Combine(_root, "identity.db"), "x");
        File.WriteAllText(Path.Combine(keys, "signing.pem"), "x");
        File.WriteAllText(Path.Combine(instances, "disk.qcow2"), "x");
        File.SetUnixFileMode(_outside, WideFile);
        File.CreateSymbolicLink(Path.Combine(_root, "link"), _outside);
        foreach (var directory in new[] { _root, keys, instances })
            File.SetUnixFileMode(directory, Wide);
        foreach (var file in new[] { "identity.db", "identity-keys/signing.pem", "instances/disk.qcow2" })
            File.SetUnixFileMode(Path.Combine(_root, file), WideFile);

        var changed = DataDirectory.Tighten(_root, [instances, Path.Combine(_root, "consoles")]);

        Assert.Equal(6, changed);
        Assert.Equal(DataDirectory.QemuDirectory, File.GetUnixFileMode(_root));
        Assert.Equal(DataDirectory.QemuDirectory, File.GetUnixFileMode(instances));
        Assert.Equal(DataDirectory.OwnerOnlyDirectory, File.GetUnixFileMode(keys));
        foreach (var file in new[] { "identity.db", "identity-keys/signing.pem", "instances/disk.qcow2" })
            Assert.Equal(DataDirectory.OwnerOnlyFile, File.GetUnixFileMode(Path.Combine(_root, file)));
        Assert.Equal(WideFile, File.GetUnixFileMode(_outside));   // a link is not followed out of the data directory
        Assert.Equal(0, DataDirectory.Tighten(_root, [instances]));
    }

    [Fact]
    public void Without_the_agent_the_data_directory_is_owner_only()
    {
        File.SetUnixFileMode(_root, Wide);

        Assert.Equal(1, DataDirectory.Tighten(_root, []));
        Assert.Equal(DataDirectory.OwnerOnlyDirectory, File.GetUnixFileMode(_root));
    }

    [Fact]
    public void Opening_the_way_for_qemu_on_a_new_data_directory_is_not_counted_as_tightening()
    {
        File.SetUnixFileMode(_root, DataDirectory.OwnerOnlyDirectory);

        Assert.Equal(0, DataDirectory.Tighten(_root, [Path.Combine(_root, "instances")]));
        Assert.Equal(DataDirectory.QemuDirectory, File.GetUnixFileMode(_root));
    }

    [Fact]
    public void Directories_for_qemu_are_passable_whatever_the_umask()
    {
        var path = Path.Combine(_root, "elsewhere", "consoles");
        DataDirectory.RestrictUmask();   // as the host does first thing: mkdir alone would give 0700

        DataDirectory.CreateForQemu(path);

        Assert.Equal(DataDirectory.QemuDirectory, File.GetUnixFileMode(path));
        Assert.Equal(DataDirectory.QemuDirectory, File.GetUnixFileMode(Path.GetDirectoryName(path)!));
    }

    public void Dispose()
    {
        Directory.Delete(_root, recursive: true);
        File.Delete(_outside);
    }
}
