using CloudPortal.Contracts.Identity;
using CloudPortal.ServiceDefaults.Security;
using Xunit;

namespace CloudPortal.ServiceDefaults.Tests.Security;

/// <summary>Events and snapshots may arrive in any order: the word stamped last on Identity's clock decides.</summary>
public sealed class DisabledProjectsTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 3, 12, 0, 0, TimeSpan.Zero);
    private readonly Guid _a = Guid.NewGuid();
    private readonly Guid _b = Guid.NewGuid();

    [Fact]
    public void Events_disable_and_enable_and_an_older_one_arriving_late_changes_nothing()
    {
        var projects = new DisabledProjects();
        Assert.False(projects.IsDisabled(_a));
        projects.Apply(new ProjectStatusChanged(_a, Enabled: false, T0));
        Assert.True(projects.IsDisabled(_a));
        Assert.False(projects.IsDisabled(_b));
        projects.Apply(new ProjectStatusChanged(_a, Enabled: true, T0.AddSeconds(2)));
        Assert.False(projects.IsDisabled(_a));
        projects.Apply(new ProjectStatusChanged(_a, Enabled: false, T0.AddSeconds(1)));
        Assert.False(projects.IsDisabled(_a));
    }

    [Fact]
    public void A_snapshot_wins_over_what_was_stamped_before_it_and_loses_to_what_was_stamped_after()
    {
        var projects = new DisabledProjects();
        projects.Apply(new ProjectStatusChanged(_a, Enabled: false, T0));
        projects.Apply(new ProjectStatusChanged(_b, Enabled: false, T0.AddSeconds(10)));

        // Identity read A as enabled again (an event this process missed) and had not yet seen B disabled.
        var changed = projects.Apply(new DisabledProjectsSnapshot([], T0.AddSeconds(5)));
        Assert.Equal(1, changed);
        Assert.False(projects.IsDisabled(_a));
        Assert.True(projects.IsDisabled(_b));

        // A snapshot that lists a project nobody told this process about disables it.
        var c = Guid.NewGuid();
        Assert.Equal(1, projects.Apply(new DisabledProjectsSnapshot([c, _b], T0.AddSeconds(20))));
        Assert.True(projects.IsDisabled(c));
        Assert.Equal(0, projects.Apply(new DisabledProjectsSnapshot([c, _b], T0.AddSeconds(30))));
    }
}
