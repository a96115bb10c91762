namespace CloudPortal.ComputeAgent.Libvirt;

/// <summary>virStoragePoolState.</summary>
public enum StoragePoolState
{
    Inactive = 0,
    Building = 1,
    Running = 2,
    Degraded = 3,
    Inaccessible = 4,
}

/// <summary>virStoragePoolInfo, in bytes.</summary>
public sealed record StoragePoolInfo(StoragePoolState State, ulong CapacityBytes, ulong AllocationBytes, ulong AvailableBytes);

/// <summary>virStorageVolType.</summary>
public enum StorageVolumeType
{
    File = 0,
    Block = 1,
    Dir = 2,
    Network = 3,
    NetDir = 4,
    Ploop = 5,
}

/// <summary>virStorageVolInfo, in bytes: capacity is the guest-visible size, allocation what the host spends.</summary>
public sealed record StorageVolumeInfo(StorageVolumeType Type, ulong CapacityBytes, ulong AllocationBytes);

/// <summary>virStoragePoolBuildFlags.</summary>
[Flags]
public enum StoragePoolBuildFlags
{
    New = 0,
    Repair = 1 << 0,
    Resize = 1 << 1,
    NoOverwrite = 1 << 2,
    Overwrite = 1 << 3,
}

/// <summary>virStoragePoolCreateFlags.</summary>
[Flags]
public enum StoragePoolCreateFlags
{
    None = 0,
    /// <summary>Build the pool (e.g. create its directory) before starting it.</summary>
    WithBuild = 1 << 0,
    WithBuildOverwrite = 1 << 1,
    WithBuildNoOverwrite = 1 << 2,
}

/// <summary>virConnectListAllStoragePoolsFlags: filters within a group are OR-ed, groups are AND-ed.</summary>
[Flags]
public enum StoragePoolListFlags
{
    None = 0,
    Inactive = 1 << 0,
    Active = 1 << 1,
    Persistent = 1 << 2,
    Transient = 1 << 3,
    Autostart = 1 << 4,
    NoAutostart = 1 << 5,
    Dir = 1 << 6,
    Fs = 1 << 7,
    NetFs = 1 << 8,
    Logical = 1 << 9,
    Disk = 1 << 10,
    Iscsi = 1 << 11,
    Scsi = 1 << 12,
    Mpath = 1 << 13,
    Rbd = 1 << 14,
    Sheepdog = 1 << 15,
    Gluster = 1 << 16,
    Zfs = 1 << 17,
    Vstorage = 1 << 18,
    IscsiDirect = 1 << 19,
}

/// <summary>virStorageVolCreateFlags.</summary>
[Flags]
public enum StorageVolumeCreateFlags
{
    None = 0,
    PreallocMetadata = 1 << 0,
    /// <summary>Clone with a copy-on-write reflink (btrfs, xfs) when creating from another volume.</summary>
    Reflink = 1 << 1,
    Validate = 1 << 2,
}

/// <summary>virStorageVolResizeFlags.</summary>
[Flags]
public enum StorageVolumeResizeFlags
{
    None = 0,
    /// <summary>Allocate the new space now rather than sparsely.</summary>
    Allocate = 1 << 0,
    /// <summary>The capacity is added to (or, with <see cref="Shrink"/>, taken from) the current one.</summary>
    Delta = 1 << 1,
    /// <summary>Allow making the volume smaller: data beyond the new end is lost.</summary>
    Shrink = 1 << 2,
}

/// <summary>virStorageVolDeleteFlags.</summary>
[Flags]
public enum StorageVolumeDeleteFlags
{
    Normal = 0,
    Zeroed = 1 << 0,
    WithSnapshots = 1 << 1,
}

/// <summary>virStorageVolWipeAlgorithm.</summary>
public enum StorageVolumeWipeAlgorithm
{
    Zero = 0,
    Nnsa = 1,
    Dod = 2,
    Bsi = 3,
    Gutmann = 4,
    Schneier = 5,
    Pfitzner7 = 6,
    Pfitzner33 = 7,
    Random = 8,
    Trim = 9,
}
