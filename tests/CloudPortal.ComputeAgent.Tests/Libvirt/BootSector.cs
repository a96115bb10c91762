namespace CloudPortal.ComputeAgent.Tests.Libvirt;

/// <summary>
/// A 1 MiB raw disk whose boot sector prints one line to COM1 and halts (docs: TESTING.md, "A real guest without
/// downloading anything"). It boots under KVM and TCG from a virtio disk in a few seconds.
/// </summary>
internal static class BootSector
{
    public const string Message = "CLOUDPORTAL-GUEST-OK";
    public const int ImageBytes = 1024 * 1024;

    // xor ax,ax; mov ds,ax; mov dx,0x3f8; mov si,0x7c15; lodsb; test al,al; jz +3; out dx,al; jmp -8; hlt; jmp -3
    private static readonly byte[] Program =
        [0x31, 0xC0, 0x8E, 0xD8, 0xBA, 0xF8, 0x03, 0xBE, 0x15, 0x7C, 0xAC, 0x84, 0xC0, 0x74, 0x03, 0xEE, 0xEB, 0xF8, 0xF4, 0xEB, 0xFD];

    public static byte[] Image()
    {
        var image = new byte[ImageBytes];
        Program.CopyTo(image, 0);
        System.Text.Encoding.ASCII.GetBytes(Message + "\r\n\0").CopyTo(image, 0x15);
        image[0x1FE] = 0x55;
        image[0x1FF] = 0xAA;
        return image;
    }
}
