using System.Net;
using CloudPortal.Images.Import;
using Xunit;

namespace CloudPortal.Images.Tests;

/// <summary>Which addresses a URL import may reach. Pure: nothing here sends traffic anywhere.</summary>
public sealed class AddressFilterTests
{
    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("127.8.9.10")]
    [InlineData("::1")]
    [InlineData("169.254.169.254")]
    [InlineData("169.254.1.1")]
    [InlineData("fe80::1")]
    [InlineData("10.1.2.3")]
    [InlineData("172.16.0.1")]
    [InlineData("172.31.255.255")]
    [InlineData("192.168.1.1")]
    [InlineData("fc00::1")]
    [InlineData("fd00:ec2::254")]
    [InlineData("100.64.0.1")]
    [InlineData("100.127.255.255")]
    [InlineData("0.0.0.0")]
    [InlineData("::")]
    [InlineData("224.0.0.1")]
    [InlineData("ff02::1")]
    [InlineData("255.255.255.255")]
    [InlineData("::ffff:127.0.0.1")]
    [InlineData("::ffff:169.254.169.254")]
    [InlineData("64:ff9b::a00:1")]
    [InlineData("192.0.2.10")]
    [InlineData("240.0.0.1")]
    public void Internal_and_special_addresses_are_refused(string address) =>
        Assert.NotNull(AddressFilter.RefusalReason(IPAddress.Parse(address)));

    [Theory]
    [InlineData("93.184.215.14")]
    [InlineData("8.8.8.8")]
    [InlineData("172.32.0.1")]
    [InlineData("100.128.0.1")]
    [InlineData("2606:4700::1111")]
    [InlineData("::ffff:8.8.8.8")]
    public void Public_addresses_are_allowed(string address) =>
        Assert.Null(AddressFilter.RefusalReason(IPAddress.Parse(address)));

    [Fact]
    public void An_admin_allow_list_admits_named_hosts_addresses_and_ranges_only()
    {
        var loopback = IPAddress.Parse("127.0.0.1");
        Assert.True(AddressFilter.IsAllowed("127.0.0.1", loopback, ["127.0.0.1"]));
        Assert.True(AddressFilter.IsAllowed("mirror.internal", IPAddress.Parse("10.0.0.5"), ["mirror.internal"]));
        Assert.True(AddressFilter.IsAllowed("x", IPAddress.Parse("10.0.0.5"), ["10.0.0.0/24"]));
        Assert.True(AddressFilter.IsAllowed("x", IPAddress.Parse("::ffff:127.0.0.1"), ["127.0.0.1"]));
        Assert.False(AddressFilter.IsAllowed("127.0.0.2", IPAddress.Parse("127.0.0.2"), ["127.0.0.1"]));
        Assert.False(AddressFilter.IsAllowed("x", IPAddress.Parse("10.0.1.5"), ["10.0.0.0/24", "other.host"]));
        Assert.False(AddressFilter.IsAllowed("x", IPAddress.Parse("::1"), ["127.0.0.0/8"]));
    }

    [Fact]
    public async Task A_refused_host_is_refused_before_any_connection_with_the_reason()
    {
        var refused = await Assert.ThrowsAsync<ImportRefusedException>(() => ImportGuard.ResolveAllowedAsync("169.254.169.254", [], CancellationToken.None));
        Assert.Equal("import_address_refused", refused.Code);
        Assert.Contains("link-local", refused.Message, StringComparison.Ordinal);
        var allowed = await ImportGuard.ResolveAllowedAsync("127.0.0.1", ["127.0.0.1"], CancellationToken.None);
        Assert.Equal([IPAddress.Loopback], allowed);
    }

    [Fact]
    public async Task A_refused_name_tells_the_tenant_neither_its_addresses_nor_whether_it_resolves()
    {
        var inside = await Assert.ThrowsAsync<ImportRefusedException>(() => ImportGuard.ResolveAllowedAsync("localhost", [], CancellationToken.None));
        var nowhere = await Assert.ThrowsAsync<ImportRefusedException>(() => ImportGuard.ResolveAllowedAsync("no-such-host.invalid", [], CancellationToken.None));

        Assert.Equal(("import_address_refused", "import_address_refused"), (inside.Code, nowhere.Code));
        Assert.Equal(inside.Message.Replace("localhost", "", StringComparison.Ordinal), nowhere.Message.Replace("no-such-host.invalid", "", StringComparison.Ordinal));
        foreach (var hidden in new[] { "127.0.0.1", "::1", "loopback", "resolve" })
            Assert.DoesNotContain(hidden, inside.Message, StringComparison.Ordinal);
        // The log gets the facts.
        Assert.Contains("loopback", inside.Detail, StringComparison.Ordinal);
        Assert.Contains("does not resolve", nowhere.Detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("mirror.example.org", true)]
    [InlineData("127.0.0.1", true)]
    [InlineData("10.0.0.0/8", true)]
    [InlineData("::1", true)]
    [InlineData("", false)]
    [InlineData("not a host", false)]
    [InlineData("http://x/", false)]
    public void Allow_list_entries_are_host_names_addresses_or_ranges(string entry, bool valid) =>
        Assert.Equal(valid, AddressFilter.IsValidEntry(entry));

    [Fact]
    public void Urls_must_be_http_or_https_without_credentials()
    {
        Assert.Equal("invalid_import_url", Assert.Throws<ImportRefusedException>(() => ImportGuard.CheckUrl(new Uri("file:///etc/passwd"))).Code);
        Assert.Equal("invalid_import_url", Assert.Throws<ImportRefusedException>(() => ImportGuard.CheckUrl(new Uri("ftp://host/x"))).Code);
        Assert.Equal("invalid_import_url", Assert.Throws<ImportRefusedException>(() => ImportGuard.CheckUrl(new Uri("http://u:p@host/x"))).Code);
        ImportGuard.CheckUrl(new Uri("https://host/x.qcow2"));
    }
}
