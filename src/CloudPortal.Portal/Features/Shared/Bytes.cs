using System.Globalization;

namespace CloudPortal.Portal.Features.Shared;

public static class Bytes
{
    /// <summary>Binary units, as disk images are measured.</summary>
    public static string Format(long? bytes)
    {
        if (bytes is not { } b)
            return "unknown";
        string[] units = ["B", "KiB", "MiB", "GiB", "TiB"];
        var value = (double)b;
        var unit = 0;
        while (value >= 1024 && unit < units.Length - 1)
        {
            value /= 1024;
            unit++;
        }
        return unit == 0 ? $"{b} B" : value.ToString("0.#", CultureInfo.InvariantCulture) + " " + units[unit];
    }
}
