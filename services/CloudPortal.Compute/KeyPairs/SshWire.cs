using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace CloudPortal.Compute.KeyPairs;

/// <summary>
/// Reads the SSH wire encoding of a public key blob (RFC 4251 section 5: uint32, string, mpint). Every
/// malformation is an <see cref="InvalidPublicKeyException"/> worded for the tenant who pasted the key.
/// </summary>
internal sealed class SshReader(byte[] data)
{
    private int _position;

    public bool AtEnd => _position == data.Length;

    public ReadOnlySpan<byte> ReadString()
    {
        if (data.Length - _position < 4)
            throw Truncated();
        var length = BinaryPrimitives.ReadUInt32BigEndian(data.AsSpan(_position));
        _position += 4;
        if (length > (uint)(data.Length - _position))
            throw Truncated();
        var value = data.AsSpan(_position, (int)length);
        _position += (int)length;
        return value;
    }

    /// <summary>A string that must be printable ASCII (key type and curve names).</summary>
    public string ReadName()
    {
        var bytes = ReadString();
        foreach (var b in bytes)
        {
            if (b is < 0x21 or > 0x7e)
                throw new InvalidPublicKeyException("Not an OpenSSH public key: the key data does not start with a key type name.");
        }
        return Encoding.ASCII.GetString(bytes);
    }

    /// <summary>
    /// A non-negative mpint as unsigned big-endian magnitude without leading zeros. RFC 4251 makes the
    /// encoding unique (no unnecessary leading zero byte), and we hold keys to it: the stored line is
    /// re-encoded from what we decoded, so an alternative spelling would change its fingerprint.
    /// </summary>
    public byte[] ReadPositiveMpint(string what)
    {
        var bytes = ReadString();
        if (bytes.Length == 0)
            throw new InvalidPublicKeyException($"The RSA {what} is zero.");
        if ((bytes[0] & 0x80) != 0)
            throw new InvalidPublicKeyException($"The RSA {what} is negative.");
        if (bytes[0] == 0 && (bytes.Length == 1 || (bytes[1] & 0x80) == 0))
            throw new InvalidPublicKeyException($"Not an OpenSSH public key: the RSA {what} has superfluous leading zero bytes.");
        return (bytes[0] == 0 ? bytes[1..] : bytes).ToArray();
    }

    public void ExpectEnd()
    {
        if (!AtEnd)
            throw new InvalidPublicKeyException($"Not an OpenSSH public key: the key data has {data.Length - _position} unexpected bytes after the key.");
    }

    private static InvalidPublicKeyException Truncated() =>
        new("Not an OpenSSH public key: the key data is truncated.");
}

/// <summary>Writes the SSH wire encoding (RFC 4251 section 5).</summary>
internal sealed class SshWriter
{
    private readonly ArrayBufferWriter<byte> _buffer = new();

    public int Length => _buffer.WrittenCount;

    public SshWriter WriteUInt32(uint value)
    {
        BinaryPrimitives.WriteUInt32BigEndian(_buffer.GetSpan(4), value);
        _buffer.Advance(4);
        return this;
    }

    public SshWriter WriteString(ReadOnlySpan<byte> value) => WriteUInt32((uint)value.Length).WriteRaw(value);

    public SshWriter WriteString(string value) => WriteString(Encoding.UTF8.GetBytes(value));

    /// <summary>An mpint from an unsigned big-endian magnitude (as .NET's key parameters hold it).</summary>
    public SshWriter WriteMpint(ReadOnlySpan<byte> magnitude)
    {
        var start = 0;
        while (start < magnitude.Length && magnitude[start] == 0)
            start++;
        var trimmed = magnitude[start..];
        if (trimmed.Length > 0 && (trimmed[0] & 0x80) != 0)
            return WriteUInt32((uint)trimmed.Length + 1).WriteRaw([0]).WriteRaw(trimmed);
        return WriteString(trimmed);
    }

    public SshWriter WriteRaw(ReadOnlySpan<byte> bytes)
    {
        _buffer.Write(bytes);
        return this;
    }

    public byte[] ToArray() => _buffer.WrittenSpan.ToArray();
}
