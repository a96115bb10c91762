using System.Text;

namespace CloudPortal.Ec2Api.Protocol;

/// <summary>
/// Strict <c>application/x-www-form-urlencoded</c> decoding (the body of a POST, the query of a GET): a malformed
/// %-escape or bytes that are not UTF-8 are refused with InvalidParameterValue instead of becoming replacement
/// characters that would then mean something else.
/// </summary>
public static class Ec2Form
{
    private static readonly UTF8Encoding Strict = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static Dictionary<string, string> Parse(ReadOnlySpan<byte> raw, Dictionary<string, string>? into = null)
    {
        var values = into ?? new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var range in raw.Split((byte)'&'))
        {
            var pair = raw[range];
            if (pair.IsEmpty)
                continue;
            var equals = pair.IndexOf((byte)'=');
            var name = Decode(equals < 0 ? pair : pair[..equals]);
            var value = equals < 0 ? "" : Decode(pair[(equals + 1)..]);
            if (name.Length == 0)
                throw Ec2Exception.Invalid("A parameter without a name is not valid.");
            values[name] = value;
        }
        return values;
    }

    private static string Decode(ReadOnlySpan<byte> encoded)
    {
        var bytes = new byte[encoded.Length];
        var length = 0;
        for (var i = 0; i < encoded.Length; i++)
        {
            var b = encoded[i];
            if (b == '+')
            {
                bytes[length++] = (byte)' ';
            }
            else if (b == '%')
            {
                if (i + 2 >= encoded.Length || Hex(encoded[i + 1]) is not { } high || Hex(encoded[i + 2]) is not { } low)
                    throw Ec2Exception.Invalid("The request is not valid form encoding: '%' must be followed by two hexadecimal digits.");
                bytes[length++] = (byte)((high << 4) | low);
                i += 2;
            }
            else
            {
                bytes[length++] = b;
            }
        }
        try
        {
            return Strict.GetString(bytes, 0, length);
        }
        catch (DecoderFallbackException)
        {
            throw Ec2Exception.Invalid("The request's parameters are not valid UTF-8.");
        }
    }

    private static int? Hex(byte c) => c switch
    {
        >= (byte)'0' and <= (byte)'9' => c - '0',
        >= (byte)'a' and <= (byte)'f' => c - 'a' + 10,
        >= (byte)'A' and <= (byte)'F' => c - 'A' + 10,
        _ => null,
    };
}
