namespace CloudPortal.ComputeAgent.Libvirt;

/// <summary>An error reported by libvirt (virGetLastError), or the library itself missing.</summary>
public sealed class LibvirtException : Exception
{
    public LibvirtException(string message, int code = 0, int domain = 0, Exception? inner = null) : base(message, inner)
    {
        Code = code;
        Domain = domain;
    }

    internal LibvirtException(string message, int code, int domain, string? libvirtMessage) : this(message, code, domain)
    {
        LibvirtMessage = libvirtMessage;
    }

    /// <summary>virErrorNumber (e.g. 38 = VIR_ERR_SYSTEM_ERROR, 42 = VIR_ERR_NO_DOMAIN).</summary>
    public int Code { get; }

    /// <summary><see cref="Code"/> as an enum; values libvirt adds later stay numeric.</summary>
    public LibvirtErrorCode ErrorCode => (LibvirtErrorCode)Code;

    /// <summary>virErrorDomain: which part of libvirt raised it (10 = QEMU, 12 = TEST, 18 = STORAGE, ...).</summary>
    public int Domain { get; }

    /// <summary>libvirt's own message, without the operation this binding prefixes.</summary>
    public string? LibvirtMessage { get; }
}

/// <summary>The virErrorNumber values callers are likely to switch on (virterror.h).</summary>
public enum LibvirtErrorCode
{
    Ok = 0,
    InternalError = 1,
    NoMemory = 2,
    NoSupport = 3,
    NoConnect = 5,
    InvalidConnection = 6,
    InvalidDomain = 7,
    InvalidArgument = 8,
    OperationFailed = 9,
    XmlError = 27,
    DomainExists = 28,
    OperationDenied = 29,
    OpenFailed = 30,
    XmlDetail = 35,
    SystemError = 38,
    Rpc = 39,
    NoDomain = 42,
    AuthFailed = 45,
    InvalidStoragePool = 46,
    InvalidStorageVolume = 47,
    NoStoragePool = 49,
    NoStorageVolume = 50,
    OperationInvalid = 55,
    ConfigUnsupported = 67,
    OperationTimeout = 68,
    ArgumentUnsupported = 74,
    StoragePoolBuilt = 76,
    OperationUnsupported = 84,
    StorageVolumeExists = 90,
}
