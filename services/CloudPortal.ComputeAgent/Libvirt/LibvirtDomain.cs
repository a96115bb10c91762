using System.Runtime.InteropServices;

namespace CloudPortal.ComputeAgent.Libvirt;

/// <summary>
/// A libvirt domain (virDomainPtr). Safe to share between threads; every member throws
/// <see cref="LibvirtException"/> on a libvirt failure and <see cref="ObjectDisposedException"/> after
/// <see cref="Dispose"/>. Disposing frees the reference only; the domain itself lives on in libvirt.
/// </summary>
public sealed unsafe class LibvirtDomain : IDisposable
{
    private readonly DomainHandle _handle;

    internal LibvirtDomain(DomainHandle handle) => _handle = handle;

    /// <summary>The name (local: no round trip to libvirtd).</summary>
    public string Name
    {
        get
        {
            using var lease = _handle.Acquire(this);
            var name = Native.virDomainGetName(lease.Pointer);
            // The string belongs to the domain object, so it is copied while the lease keeps that alive.
            return name == IntPtr.Zero ? throw LibvirtErrors.Take("virDomainGetName failed") : Marshal.PtrToStringUTF8(name)!;
        }
    }

    /// <summary>The UUID, as in <c>&lt;uuid&gt;</c> of the domain XML (local: no round trip to libvirtd).</summary>
    public Guid Uuid => ReadUuid();

    /// <summary>The hypervisor's id while the domain runs, null while it is shut off.</summary>
    public int? Id
    {
        get
        {
            using var lease = _handle.Acquire(this);
            var id = Native.virDomainGetID(lease.Pointer);
            return id == uint.MaxValue ? null : (int)id;
        }
    }

    /// <summary>Starts (boots, or restores from a managed save image) a defined domain.</summary>
    public void Start(DomainStartFlags flags = DomainStartFlags.None) =>
        Run("virDomainCreateWithFlags", d => Native.virDomainCreateWithFlags(d, (uint)flags));

    /// <summary>
    /// Asks the guest to shut down and returns at once. With no flags the hypervisor picks the method (QEMU: the ACPI
    /// power button, or the guest agent when one is configured); the guest may ignore it.
    /// </summary>
    public void Shutdown(DomainShutdownFlags flags = DomainShutdownFlags.Default) =>
        Run("virDomainShutdownFlags", d => Native.virDomainShutdownFlags(d, (uint)flags));

    /// <summary>Stops the domain immediately, like pulling the plug.</summary>
    public void Destroy(DomainDestroyFlags flags = DomainDestroyFlags.Default) =>
        Run("virDomainDestroyFlags", d => Native.virDomainDestroyFlags(d, (uint)flags));

    /// <summary>Asks the guest to reboot (same methods as <see cref="Shutdown"/>).</summary>
    public void Reboot(DomainRebootFlags flags = DomainRebootFlags.Default) =>
        Run("virDomainReboot", d => Native.virDomainReboot(d, (uint)flags));

    /// <summary>Resets the virtual hardware at once, without telling the guest.</summary>
    public void Reset() => Run("virDomainReset", static d => Native.virDomainReset(d, 0));

    /// <summary>Pauses the vCPUs; memory stays allocated.</summary>
    public void Suspend() => Run("virDomainSuspend", static d => Native.virDomainSuspend(d));

    public void Resume() => Run("virDomainResume", static d => Native.virDomainResume(d));

    /// <summary>Saves memory to a libvirt-managed image and stops the domain; the next <see cref="Start"/> restores it.</summary>
    public void ManagedSave(DomainSaveFlags flags = DomainSaveFlags.None) =>
        Run("virDomainManagedSave", d => Native.virDomainManagedSave(d, (uint)flags));

    public bool HasManagedSaveImage() => Ask("virDomainHasManagedSaveImage", static d => Native.virDomainHasManagedSaveImage(d, 0));

    /// <summary>Discards the managed save image: the next start boots afresh.</summary>
    public void ManagedSaveRemove() => Run("virDomainManagedSaveRemove", static d => Native.virDomainManagedSaveRemove(d, 0));

    /// <summary>
    /// Removes the persistent definition; a running domain keeps running as a transient one. Fails while a managed
    /// save image or NVRAM file exists unless the matching flag asks to remove it too.
    /// </summary>
    public void Undefine(DomainUndefineFlags flags = DomainUndefineFlags.None) =>
        Run("virDomainUndefineFlags", d => Native.virDomainUndefineFlags(d, (uint)flags));

    public DomainInfo GetInfo()
    {
        using var lease = _handle.Acquire(this);
        if (Native.virDomainGetInfo(lease.Pointer, out var info) < 0)
            throw Fail("virDomainGetInfo", lease.Pointer);
        return new DomainInfo((DomainState)info.State, info.MaxMemKiB, info.MemoryKiB, info.NrVirtCpu, info.CpuTimeNs);
    }

    public DomainStateInfo GetState()
    {
        using var lease = _handle.Acquire(this);
        if (Native.virDomainGetState(lease.Pointer, out var state, out var reason, 0) < 0)
            throw Fail("virDomainGetState", lease.Pointer);
        return new DomainStateInfo((DomainState)state, reason);
    }

    public string GetXmlDesc(DomainXmlFlags flags = DomainXmlFlags.None)
    {
        using var lease = _handle.Acquire(this);
        var xml = Native.virDomainGetXMLDesc(lease.Pointer, (uint)flags);
        return xml == IntPtr.Zero ? throw Fail("virDomainGetXMLDesc", lease.Pointer) : LibvirtErrors.TakeString(xml);
    }

    public bool IsActive() => Ask("virDomainIsActive", static d => Native.virDomainIsActive(d));

    /// <summary>False for a transient domain (created without a definition, or undefined while running).</summary>
    public bool IsPersistent() => Ask("virDomainIsPersistent", static d => Native.virDomainIsPersistent(d));

    /// <summary>Whether libvirtd starts the domain when it starts itself.</summary>
    public bool GetAutostart()
    {
        using var lease = _handle.Acquire(this);
        if (Native.virDomainGetAutostart(lease.Pointer, out var autostart) < 0)
            throw Fail("virDomainGetAutostart", lease.Pointer);
        return autostart != 0;
    }

    public void SetAutostart(bool autostart) =>
        Run("virDomainSetAutostart", d => Native.virDomainSetAutostart(d, autostart ? 1 : 0));

    public void Dispose() => _handle.Dispose();

    public override string ToString()
    {
        try
        {
            return $"domain {Name}";
        }
        catch (ObjectDisposedException)
        {
            return "domain (disposed)";
        }
    }

    private Guid ReadUuid()
    {
        var bytes = stackalloc byte[16];
        using var lease = _handle.Acquire(this);
        if (Native.virDomainGetUUID(lease.Pointer, bytes) < 0)
            throw LibvirtErrors.Take("virDomainGetUUID failed");
        return new Guid(new ReadOnlySpan<byte>(bytes, 16), bigEndian: true);
    }

    private void Run(string function, Func<IntPtr, int> call)
    {
        using var lease = _handle.Acquire(this);
        if (call(lease.Pointer) < 0)
            throw Fail(function, lease.Pointer);
    }

    private bool Ask(string function, Func<IntPtr, int> call)
    {
        using var lease = _handle.Acquire(this);
        var result = call(lease.Pointer);
        return result < 0 ? throw Fail(function, lease.Pointer) : result == 1;
    }

    /// <summary>Captures the error first: reading the name is a libvirt call, and would reset it.</summary>
    private static LibvirtException Fail(string function, IntPtr domain)
    {
        var error = LibvirtErrors.Capture();
        var name = Marshal.PtrToStringUTF8(Native.virDomainGetName(domain));
        return error.ToException($"{function}({name}) failed");
    }
}
