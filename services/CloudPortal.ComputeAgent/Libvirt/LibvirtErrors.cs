using System.Runtime.InteropServices;

namespace CloudPortal.ComputeAgent.Libvirt;

/// <summary>
/// Turns libvirt's last error into a <see cref="LibvirtException"/>. The error lives in thread-local storage and
/// every libvirt API call resets it on entry (virXxxFree and virDomainGetName included), so it is captured on the
/// failing thread right after the failing call, before any other libvirt call or handle release.
/// </summary>
internal static class LibvirtErrors
{
    internal static LibvirtException Take(string context) => Capture().ToException(context);

    internal static CapturedError Capture()
    {
        var error = Native.virGetLastError();
        if (error == IntPtr.Zero)
            return default;
        var head = Marshal.PtrToStructure<Native.VirErrorHead>(error);
        // Copied out before the reset frees the message.
        var message = head.Message == IntPtr.Zero ? null : Marshal.PtrToStringUTF8(head.Message);
        Native.virResetLastError();
        return new CapturedError(head.Code, head.Domain, message ?? "unknown error");
    }

    /// <summary>For lookups: null when the error is <paramref name="notFound"/>, otherwise the exception to throw.</summary>
    internal static LibvirtException? TakeUnlessNotFound(string context, LibvirtErrorCode notFound)
    {
        var error = Capture();
        return error.Code == (int)notFound ? null : error.ToException(context);
    }

    /// <summary>Reads a string libvirt allocated for the caller, and frees it.</summary>
    internal static string TakeString(IntPtr owned)
    {
        try
        {
            return Marshal.PtrToStringUTF8(owned) ?? "";
        }
        finally
        {
            unsafe
            {
                NativeMemory.Free((void*)owned);
            }
        }
    }

    /// <summary>libvirt's encoding: major * 1,000,000 + minor * 1,000 + release.</summary>
    internal static Version DecodeVersion(ulong version) =>
        new((int)(version / 1_000_000), (int)(version / 1_000 % 1_000), (int)(version % 1_000));

    internal readonly record struct CapturedError(int Code, int Domain, string? Message)
    {
        public LibvirtException ToException(string context) => Message is null
            ? new LibvirtException($"{context}: libvirt reported no error detail")
            : new LibvirtException($"{context}: {Message}", Code, Domain, Message);
    }
}
