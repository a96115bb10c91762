using System.Globalization;
using System.Text;
using CloudPortal.Ec2Api.Tests.Infrastructure;
using CloudPortal.ServiceDefaults.Security.SigV4;

namespace CloudPortal.Ec2Api.Tests.Fuzz;

/// <summary>One fuzz request and what kind of malformation it carries.</summary>
public sealed record FuzzCase(int Index, string Category, WireRequest Request);

/// <summary>
/// Randomized malformed EC2 requests from a seeded <see cref="Random"/>. Every request is wrong by construction — an
/// unknown or missing action, a value no parser may accept, an id that cannot exist, an unsupported action, a broken
/// or foreign signature — so any answer but a 4xx AWS error is the server's fault. Most are signed correctly, so they
/// get past the signature check to the parser, and on top of the base error many carry noise: bad %-escapes, invalid
/// UTF-8 (escaped, and raw in POST bodies), NULs, very long names and values, thousands of parameters.
/// </summary>
public sealed class MalformedRequests(Ec2Signer signer, AccessKey key, string image, Random random)
{
    /// <summary>The module's request body limit (<c>CloudPortal:Ec2Api:MaxBodyBytes</c>, 1 MiB): bodies stay below it, except a few that go past it on purpose.</summary>
    public const int MaxBody = 1 << 20;

    /// <summary>GET queries stay below Kestrel's request-line limit (8 KiB), which answers before any application code.</summary>
    private const int MaxQuery = 6000;

    private static readonly string[] BadEscapes = ["%", "%4", "%zz", "%%", "%G0", "%-1", "%%41", "%x%y", "%2"];

    private static readonly string[] BadUtf8Escapes = ["%FF", "%C3%28", "%ED%A0%80", "%C0%AF", "%F8%88%80%80%80", "%E2%82", "%80", "%FE%FF", "%00", "%01%7F"];

    private static readonly byte[][] BadUtf8Bytes = [[0xFF], [0xC3, 0x28], [0xED, 0xA0, 0x80], [0xC0, 0xAF], [0x80, 0x80], [0xFE, 0xFF, 0x00], [0x00], [0xF4, 0x90, 0x80, 0x80]];

    private static readonly string[] Unsupported =
        ["DescribeVolumes", "CreateVolume", "AttachVolume", "DescribeSecurityGroups", "CreateSecurityGroup", "AuthorizeSecurityGroupIngress",
         "DescribeVpcs", "CreateVpc", "DescribeSubnets", "CreateSubnet", "AllocateAddress", "DescribeAddresses", "AssociateAddress", "CreateSnapshot"];

    private static readonly string[] IdActions = ["DescribeInstances", "StartInstances", "StopInstances", "RebootInstances", "TerminateInstances", "DescribeInstanceStatus"];

    private int _names;

    public FuzzCase Next(int index)
    {
        var roll = random.Next(100);
        return roll switch
        {
            < 50 => Parser(index),          // signed correctly: the parser's turn
            < 52 => OverLimit(index),       // signed correctly, a body past the module's limit
            < 60 => Garbage(index),         // signed correctly, body that is no form at all
            < 68 => Huge(index),            // signed correctly, very long or very many parameters
            < 78 => AuthorizationBroken(index),
            < 88 => SignatureBroken(index),
            _ => ScopeOrDateWrong(index),
        };
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Correctly signed, wrong for the parser.

    private FuzzCase Parser(int index)
    {
        var (category, pairs) = BaseError();
        if (random.Next(3) == 0)
            pairs.AddRange(Noise(random.Next(1, 6)));
        Shuffle(pairs);
        return Signed(index, category, pairs);
    }

    /// <summary>A request that must fail: (category, raw "name=value" pairs, already encoded).</summary>
    private (string, List<string>) BaseError()
    {
        var version = $"Version={Ec2Signer.Version}";
        switch (random.Next(17))
        {
            case 0:
                return ("unknown-action", [$"Action={UnknownAction()}", version]);
            case 1:
                return ("missing-action", [version, .. Maybe(() => $"Action=", 2)]);
            case 2:
            {
                var bad = Pick("abc", "-1", "1.5", "99999999999999999999", "0x10", "1e3", "one", "NaN", "%EF%BC%92", "0", "2147483648", "-0.5");
                var max = random.Next(2) == 0;
                return ("bad-type", [
                    "Action=RunInstances", version, $"ImageId={image}", $"InstanceType={Ec2Cloud.Nano}",
                    max ? "MinCount=1" : $"MinCount={bad}", max ? $"MaxCount={bad}" : "MaxCount=1"]);
            }
            case 3:
                return ("bad-type", ["Action=DescribeInstances", version, $"MaxResults={Pick("abc", "-5", "1.5", "99999999999", "0x10", "1e3", "%FF", "five")}"]);
            case 4:
                return ("bad-type", [$"Action={Pick("DescribeRegions", "DescribeInstances", "DescribeImages", "DescribeKeyPairs")}", version,
                    $"DryRun={Pick("maybe", "yes%20please", "tru", "2", "%00", "nope")}"]);
            case 5:
            {
                var action = Pick(IdActions);
                return ("bad-id", [$"Action={action}", version, $"InstanceId.1={BadInstanceId()}", .. Maybe(() => $"InstanceId.2={BadInstanceId()}", 2)]);
            }
            case 6:
                return ("bad-id", [Pick("Action=GetConsoleOutput", "Action=DescribeInstanceAttribute&Attribute=userData"), version, $"InstanceId={BadInstanceId()}"]);
            case 7:
                return ("bad-id", ["Action=RunInstances", version, $"ImageId={Pick("ami-zzz", "ami-", "", "ami-" + Hex(17), "AMI-" + Hex(17), "i-" + Hex(17), "ami-" + Hex(8) + "%00")}",
                    $"InstanceType={Ec2Cloud.Nano}", "MinCount=1", "MaxCount=1"]);
            case 8:
                return ("bad-id", ["Action=DescribeImages", version, $"ImageId.1={Pick("ami-zzz", "ami-", "ami-" + Hex(17), "vol-" + Hex(17), "ami-" + Hex(5) + BadEscape())}"]);
            case 9:
                return ("bad-value", ["Action=RunInstances", version, $"ImageId={image}", "MinCount=1", "MaxCount=1",
                    $"InstanceType={Pick("fz." + Word(6), "", "m1.%00tiny", "m1.tiny" + BadEscape(), Word(40))}"]);
            case 10:
                return ("bad-value", ["Action=DescribeInstances", version, $"Filter.1.Name=fuzz-{Word(6)}", $"Filter.1.Value.1={Word(4)}"]);
            case 11:
                return ("missing-parameter", [Pick("Action=GetConsoleOutput", "Action=CreateKeyPair", "Action=ImportKeyPair", "Action=DeleteKeyPair",
                    "Action=StartInstances", "Action=StopInstances", "Action=TerminateInstances", "Action=CreateTags", "Action=DescribeInstanceAttribute",
                    "Action=DeregisterImage", "Action=RunInstances&MinCount=1&MaxCount=1&InstanceType=" + Ec2Cloud.Nano), version]);
            case 12:
                return ("bad-value", ["Action=CreateKeyPair", version, $"KeyName={UniqueName()}", $"KeyType={Pick("dsa", "ecdsa", "RSA4096", "ed448", "%FF", "rsa%00")}"]);
            case 13:
                return ("bad-value", ["Action=ImportKeyPair", version, $"KeyName={UniqueName()}",
                    $"PublicKeyMaterial={Pick("not-base64!!", Uri.EscapeDataString(Convert.ToBase64String(Encoding.ASCII.GetBytes("ssh-rsa AAAAgarbage x"))), "%FF%FE", "", Uri.EscapeDataString(Convert.ToBase64String(Bytes(64))))}"]);
            case 14:
                return ("bad-value", ["Action=RunInstances", version, $"ImageId={image}", $"InstanceType={Ec2Cloud.Nano}",
                    .. Pick<string[]>(["MinCount=3", "MaxCount=2"], ["MinCount=1", "MaxCount=1", "UserData=!!!not*base64"],
                        ["MinCount=1", "MaxCount=1", "UserData=" + Uri.EscapeDataString(Convert.ToBase64String(Bytes(70 * 1024)))],
                        ["MinCount=1", "MaxCount=1", "TagSpecification.1.ResourceType=fuzz-type", "TagSpecification.1.Tag.1.Key=k"])]);
            case 15:
                return ("unsupported", [$"Action={Pick(Unsupported)}", version, .. Maybe(() => $"VolumeId.1=vol-{Hex(17)}", 3)]);
            default:
                return ("bad-id", ["Action=CreateTags", version, $"ResourceId.1={Pick("zzz", "i-" + Hex(17), "", "i-" + Word(5), "ami-" + Hex(17))}", "Tag.1.Key=k", "Tag.1.Value=v"]);
        }
    }

    /// <summary>Extra parameters that must not break the parser: bad escapes, invalid UTF-8, NULs, odd shapes.</summary>
    private IEnumerable<string> Noise(int count)
    {
        for (var i = 0; i < count; i++)
        {
            yield return random.Next(8) switch
            {
                0 => $"{Word(5)}={BadEscape()}",
                1 => $"{BadEscape()}{Word(3)}={Word(3)}",
                2 => $"Fuzz{Word(3)}={BadUtf8()}",
                3 => $"{BadUtf8()}={BadUtf8()}",
                4 => Pick("=", "==", "&", "a", "=a", "Filter.=x", "Filter.1.Value.99999999999=x", "Tag..Key=x", "InstanceId.-1=i-x", "InstanceId.0=i-x"),
                5 => $"{Word(4)}={Uri.EscapeDataString(Unicode(6))}",
                6 => $"Filter.{random.Next(1, 3)}.Name={BadEscape()}",
                _ => $"{Word(4)}+{Word(2)}={Word(3)}+%20+",
            };
        }
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Correctly signed bodies that are not forms, or carry raw invalid bytes.

    private FuzzCase Garbage(int index)
    {
        switch (random.Next(5))
        {
            case 0:
                return SignedBytes(index, "garbage-binary", Bytes(random.Next(1, 4096)));
            case 1:
            {
                // A form whose action is broken by raw invalid UTF-8 bytes (not escaped).
                using var body = new MemoryStream();
                body.Write(Encoding.ASCII.GetBytes($"Version={Ec2Signer.Version}&Action=Describe"));
                body.Write(Pick(BadUtf8Bytes));
                body.Write(Encoding.ASCII.GetBytes("Instances&"));
                body.Write(Pick(BadUtf8Bytes));
                body.Write(Encoding.ASCII.GetBytes("="));
                body.Write(Pick(BadUtf8Bytes));
                return SignedBytes(index, "invalid-utf8-raw", body.ToArray());
            }
            case 2:
            {
                using var body = new MemoryStream();
                var (category, pairs) = BaseError();
                body.Write(Encoding.ASCII.GetBytes(string.Join('&', pairs)));
                body.Write("&x="u8);
                body.Write(Pick(BadUtf8Bytes));
                body.Write(Pick(BadUtf8Bytes));
                return SignedBytes(index, category + "+invalid-utf8-raw", body.ToArray());
            }
            case 3:
                return SignedBytes(index, "not-a-form", Encoding.UTF8.GetBytes(Pick(
                    "{\"Action\":\"DescribeRegions\",\"Version\":\"2016-11-15\"}", "<Action>DescribeRegions</Action>", "&&&&==&=", "Action", "%%%%",
                    "\0\0\0\0", "Action=Describe%Regions&Version=2016-11-15", "Action=%44escribeRegions%zz&Version=2016-11-15")),
                    contentType: Pick("application/json", "application/xml", Ec2Signer.FormContentType, "multipart/form-data; boundary=zz"));
            default:
                return SignedBytes(index, "empty-body", []);
        }
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Correctly signed, very long values or very many parameters, up to MaxBody.

    private FuzzCase Huge(int index)
    {
        var size = Pick(1024, 16 * 1024, 256 * 1024, MaxBody - 4096);
        var version = $"Version={Ec2Signer.Version}";
        string body;
        string category;
        switch (random.Next(6))
        {
            case 0:
                category = "huge-action";
                body = $"Action=Fuzz{Word(size)}&{version}";
                break;
            case 1:
                category = "huge-id";
                body = $"Action={Pick(IdActions)}&{version}&InstanceId.1=i-{Hex(size)}";
                break;
            case 2:
            {
                category = "many-ids";
                var builder = new StringBuilder($"Action={Pick(IdActions)}&{version}");
                for (var n = 1; builder.Length < size; n++)
                    builder.Append(CultureInfo.InvariantCulture, $"&InstanceId.{n}=i-{(n % 7 == 0 ? "zz" : "")}{Hex(17)}");
                body = builder.ToString();
                break;
            }
            case 3:
            {
                category = "many-filter-values";
                var builder = new StringBuilder($"Action=DescribeInstances&{version}&Filter.1.Name=fuzz-{Word(5)}");
                for (var n = 1; builder.Length < size; n++)
                    builder.Append(CultureInfo.InvariantCulture, $"&Filter.1.Value.{n}={Word(8)}");
                body = builder.ToString();
                break;
            }
            case 4:
                category = "huge-name";
                body = $"Action=FuzzAction&{version}&{Word(size)}=1";
                break;
            default:
                category = "huge-key-name";
                body = $"Action=DescribeKeyPairs&{version}&KeyName.1={Word(size)}";
                break;
        }
        return Signed(index, category, [body], allowGet: body.Length <= MaxQuery);
    }

    /// <summary>A correctly signed body (an unknown action) past the body limit, by a little or by up to another MiB.</summary>
    private FuzzCase OverLimit(int index)
    {
        var size = MaxBody + Pick(1, 100, 64 * 1024, MaxBody);
        return SignedBytes(index, "over-body-limit", Encoding.ASCII.GetBytes($"Action=Fuzz{Word(size)}&Version={Ec2Signer.Version}"));
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Authorization missing or garbled (unsigned), signatures broken, scopes and dates wrong.

    private FuzzCase AuthorizationBroken(int index)
    {
        var body = Encoding.UTF8.GetBytes(Ec2Signer.Form(Pick("DescribeRegions", "DescribeInstances", "DescribeImages"), []));
        var signed = signer.Post(key, body);
        var headers = signed.Headers.Where(h => h.Key != "Authorization").ToList();
        var amzDate = signed.Headers.Single(h => h.Key == "X-Amz-Date").Value;
        var scope = $"{amzDate[..8]}/{Ec2Cloud.Region}/ec2/aws4_request";
        var signature = Hex(64);
        string? authorization = random.Next(17) switch
        {
            0 => null,
            1 => "",
            2 => Printable(random.Next(1, 300)),
            3 => "AWS4-HMAC-SHA256",
            4 => $"AWS4-HMAC-SHA256 Credential={key.Id}/{scope}",
            5 => $"AWS4-HMAC-SHA256 Credential={key.Id}/{scope}, SignedHeaders=content-type;host;x-amz-date",
            6 => $"AWS4-HMAC-SHA256 Credential={key.Id}/{scope}, SignedHeaders=content-type;host;x-amz-date, Signature={Pick("zz", Hex(63), Hex(65), "", new string('g', 64))}",
            7 => $"AWS4-HMAC-SHA256 Credential={key.Id}/{amzDate[..8]}/{Ec2Cloud.Region}/ec2, SignedHeaders=host;x-amz-date, Signature={signature}",
            8 => $"AWS4-HMAC-SHA256 Credential={key.Id}/2026-13-45/{Ec2Cloud.Region}/ec2/aws4_request, SignedHeaders=host;x-amz-date, Signature={signature}",
            9 => $"AWS4-HMAC-SHA512 Credential={key.Id}/{scope}, SignedHeaders=host;x-amz-date, Signature={signature}",
            10 => Pick("Bearer eyJhbGciOiJub25lIn0.e30.", "Basic dXNlcjpwYXNz", $"AWS {key.Id}:{Convert.ToBase64String(Bytes(20))}", "Negotiate abc"),
            11 => $"AWS4-HMAC-SHA256 Credential={key.Id}/{scope}, SignedHeaders=content-type;x-amz-date, Signature={signature}",
            12 => $"AWS4-HMAC-SHA256 Credential={key.Id}/{scope}, SignedHeaders=X-Amz-Date;Host, Signature={signature}",
            13 => $"AWS4-HMAC-SHA256 Credential={key.Id}/{scope}, Credential={key.Id}/{scope}, SignedHeaders=host;x-amz-date, Signature={signature}",
            14 => $"AWS4-HMAC-SHA256 Credential=/{scope}, SignedHeaders=host;x-amz-date, Signature={signature}",
            15 => $"AWS4-HMAC-SHA256 Credential={Printable(20)}/{scope}, SignedHeaders=host;x-amz-date, Signature={signature}",
            _ => $"AWS4-HMAC-SHA256    Credential={key.Id}/{scope},SignedHeaders=host;;x-amz-date,Signature={signature},",
        };
        if (authorization is not null)
            headers.Add(new("Authorization", authorization));
        switch (random.Next(6))
        {
            case 0:
                headers.RemoveAll(h => h.Key == "X-Amz-Date");
                break;
            case 1:
                headers.RemoveAll(h => h.Key == "X-Amz-Date");
                headers.Add(new("X-Amz-Date", Pick("yesterday", "20261301T000000Z", "", "2026-12-01T00:00:00Z", amzDate + "0")));
                break;
            case 2 when authorization is not null:
                // A second, correctly signed Authorization header beside the garbled one.
                headers.Add(signed.Headers.Single(h => h.Key == "Authorization"));
                break;
        }
        return new FuzzCase(index, "authorization-garbled", signed with { Headers = headers });
    }

    private FuzzCase SignatureBroken(int index)
    {
        var body = Ec2Signer.Form(Pick("DescribeRegions", "DescribeInstances", "DescribeKeyPairs"), []);
        var signed = signer.Post(key, Encoding.UTF8.GetBytes(body));
        var headers = signed.Headers.ToList();
        var authorization = headers.Single(h => h.Key == "Authorization").Value;
        var at = authorization.LastIndexOf('=') + 1;
        var category = "signature-broken";
        switch (random.Next(8))
        {
            case 0:
            {
                var chars = authorization.ToCharArray();
                var i = at + random.Next(64);
                chars[i] = chars[i] == '0' ? '1' : '0';
                authorization = new string(chars);
                break;
            }
            case 1:
                authorization = authorization[..^random.Next(1, 64)];
                break;
            case 2:
                authorization += Pick("0", "a", "ff", "0123");
                break;
            case 3:
                category = "signed-header-changed";
                Replace(headers, "Host", Pick("127.0.0.2:1", "localhost", "127.0.0.1"));
                break;
            case 4:
                category = "signed-header-changed";
                Replace(headers, "Content-Type", Pick("application/x-www-form-urlencoded", "text/plain; charset=utf-8", "application/x-www-form-urlencoded; charset=latin1"));
                break;
            case 5:
                category = "body-changed";
                return new FuzzCase(index, category, signed with { Body = Encoding.UTF8.GetBytes(body.Replace("Version=", "Version=1", StringComparison.Ordinal)) });
            case 6:
                category = "content-sha256-mismatch";
                headers.Add(new("X-Amz-Content-SHA256", Pick(SigV4Signer.EmptyPayloadHash, Hex(64), "UNSIGNED-PAYLOAD", "zz")));
                break;
            default:
                category = "unknown-key";
                authorization = authorization.Replace(key.Id, "AKIA" + Word(16).ToUpperInvariant(), StringComparison.Ordinal);
                break;
        }
        Replace(headers, "Authorization", authorization);
        return new FuzzCase(index, category, signed with { Headers = headers });
    }

    private FuzzCase ScopeOrDateWrong(int index)
    {
        var body = Ec2Signer.Form(Pick("DescribeRegions", "DescribeInstances"), []);
        var now = DateTimeOffset.UtcNow;
        switch (random.Next(4))
        {
            case 0:
                return new FuzzCase(index, "scope-region", Sign(body, region: Pick("us-east-1", "cp-2", "CP-1", "cp-1 ", "eu-west-1", "cp")));
            case 1:
                return new FuzzCase(index, "scope-service", Sign(body, service: Pick("s3", "iam", "EC2", "ec2x", "sts", "execute-api")));
            case 2:
                return new FuzzCase(index, "date-out-of-window", Sign(body, at: Pick(now.AddMinutes(-16), now.AddMinutes(-90), now.AddDays(-1), now.AddMinutes(16),
                    now.AddDays(3), new DateTimeOffset(1999, 12, 31, 23, 59, 59, TimeSpan.Zero), new DateTimeOffset(2099, 1, 1, 0, 0, 0, TimeSpan.Zero))));
            default:
            {
                // Signed consistently, but the scope's date is not the X-Amz-Date's day.
                var signed = Sign(body, at: now.AddDays(-1));
                var headers = signed.Headers.ToList();
                Replace(headers, "X-Amz-Date", now.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture));
                return new FuzzCase(index, "scope-date-mismatch", signed with { Headers = headers });
            }
        }
    }

    // ---------------------------------------------------------------------------------------------------------------

    private WireRequest Sign(string body, DateTimeOffset? at = null, string region = Ec2Cloud.Region, string service = "ec2") =>
        random.Next(4) == 0
            ? signer.Get(key, body, at, region, service)
            : signer.Post(key, Encoding.UTF8.GetBytes(body), at, region, service);

    /// <summary>Signed correctly: POST, or (a quarter of the time, when short enough) GET with the pairs as the query.</summary>
    private FuzzCase Signed(int index, string category, List<string> pairs, bool allowGet = true)
    {
        var form = string.Join('&', pairs);
        if (allowGet && form.Length <= MaxQuery && random.Next(4) == 0)
            return new FuzzCase(index, "GET " + category, signer.Get(key, form));
        return new FuzzCase(index, "POST " + category, signer.Post(key, Encoding.Latin1.GetBytes(form)));
    }

    private FuzzCase SignedBytes(int index, string category, byte[] body, string contentType = Ec2Signer.FormContentType) =>
        new(index, "POST " + category, signer.Post(key, body, contentType: contentType));

    private static void Replace(List<KeyValuePair<string, string>> headers, string name, string value)
    {
        var at = headers.FindIndex(h => h.Key == name);
        headers[at] = new(name, value);
    }

    private string UnknownAction() => random.Next(6) switch
    {
        0 => "Fuzz" + Word(random.Next(1, 20)),
        1 => Pick("DescribeInstance", "describeinstances", "DESCRIBEREGIONS", "Describe Instances", "RunInstance", "CreateImage", "ImportImage", "AssumeRole", "ListBuckets"),
        2 => "Describe" + BadEscape() + "Regions",
        3 => "Describe" + BadUtf8() + "Instances",
        4 => Uri.EscapeDataString(Unicode(random.Next(1, 10))),
        _ => Pick("%00", "%20", "+", "Describe%00Regions", "DescribeRegions%00", "DescribeRegions%20", "%0ADescribeRegions"),
    };

    private string BadInstanceId() =>
        Pick("i-", "i-xyz", "i-" + Hex(16), "i-" + Hex(17).ToUpperInvariant() + "X", "x-" + Hex(17), "", "i-" + Hex(18), "i-" + Hex(17), "i-" + Hex(8),
            "ami-" + Hex(17), "i-" + Hex(17) + BadEscape(), "i-" + BadUtf8(), "i-%00" + Hex(15), "i-" + Hex(17) + "%20", Uri.EscapeDataString(Unicode(5)));

    private string UniqueName() => $"fuzz-{Interlocked.Increment(ref _names)}-{Word(6)}";

    private string BadEscape() => Pick(BadEscapes);

    private string BadUtf8() => Pick(BadUtf8Escapes);

    private IEnumerable<string> Maybe(Func<string> make, int oneIn) => random.Next(oneIn) == 0 ? [make()] : [];

    private string Word(int length)
    {
        const string letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
        var chars = new char[length];
        for (var i = 0; i < length; i++)
            chars[i] = letters[random.Next(letters.Length)];
        return new string(chars);
    }

    private string Hex(int length)
    {
        var chars = new char[length];
        for (var i = 0; i < length; i++)
            chars[i] = "0123456789abcdef"[random.Next(16)];
        return new string(chars);
    }

    private string Printable(int length)
    {
        var chars = new char[length];
        for (var i = 0; i < length; i++)
            chars[i] = (char)random.Next(0x21, 0x7F);
        return new string(chars);
    }

    private string Unicode(int length)
    {
        var builder = new StringBuilder();
        for (var i = 0; i < length; i++)
            builder.Append(Pick("é", "ß", "漢", "🙂", "\u200B", "\uFEFF", "Ω", "\u0301", "ﬁ"));
        return builder.ToString();
    }

    private byte[] Bytes(int length)
    {
        var bytes = new byte[length];
        random.NextBytes(bytes);
        return bytes;
    }

    private T Pick<T>(params T[] choices) => choices[random.Next(choices.Length)];

    private void Shuffle(List<string> items)
    {
        for (var i = items.Count - 1; i > 0; i--)
        {
            var j = random.Next(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }
}
