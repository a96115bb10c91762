using System.Text;
using System.Xml.Linq;
using CloudPortal.Contracts.Identity;
using CloudPortal.Ec2Api.Actions;
using CloudPortal.Ec2Api.Cloud;
using CloudPortal.ServiceDefaults.Security.SigV4;
using MassTransit;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CloudPortal.Ec2Api.Protocol;

/// <summary>
/// The Query protocol at <c>/ec2/</c>: buffer the body, check the SigV4 signature (Identity holds the secrets: one bus
/// request per call), decode the parameters, run the action, answer EC2 XML. Every failure answers AWS error XML with
/// AWS's code and status; only a bug answers 500 InternalError.
/// </summary>
public sealed partial class Ec2Endpoint(
    Ec2Actions actions, Ec2TokenCache tokens, IRequestClient<VerifyEc2Signature> signatures, IOptions<Ec2ApiOptions> options,
    TimeProvider time, ILogger<Ec2Endpoint> logger)
{
    private static readonly SigV4ParseOptions SigV4Options = new() { ExpectedService = "ec2" };

    public async Task HandleAsync(HttpContext http)
    {
        var requestId = Guid.NewGuid().ToString();
        http.Response.Headers["x-amzn-RequestId"] = requestId;
        string? action = null;
        try
        {
            var body = await ReadBodyAsync(http.Request, options.Value.MaxBodyBytes, http.RequestAborted);
            var rawTarget = http.Features.Get<IHttpRequestFeature>()?.RawTarget ?? http.Request.Path + http.Request.QueryString;
            var q = rawTarget.IndexOf('?', StringComparison.Ordinal);
            var query = q >= 0 ? rawTarget[(q + 1)..] : "";
            var path = q >= 0 ? rawTarget[..q] : rawTarget;

            // Who is asking comes first: an unsigned or badly signed request learns nothing about its parameters.
            var signed = Verify(SigV4Request.Parse(http.Request.Method, path, query, http.Request.Headers, body, SigV4Options));
            var caller = await CheckSignatureAsync(signed, http.RequestAborted);

            var parameters = Ec2Form.Parse(Encoding.UTF8.GetBytes(query));
            if (HttpMethods.IsPost(http.Request.Method))
                Ec2Form.Parse(body, parameters);
            var request = new Ec2Parameters(parameters);
            action = request.Value("Action");
            LogCall(logger, action ?? "-", caller.AccessKeyId, caller.ProjectId);

            if (action is null)
                throw new Ec2Exception("MissingAction", "The request must contain the parameter Action");
            if (!actions.TryGet(action, out var handler))
                throw Ec2Actions.IsUnsupported(action)
                    ? new Ec2Exception("UnsupportedOperation", $"{action} is not supported yet: volumes, security groups, VPCs, subnets and addresses arrive with CloudPortal's block storage and network services.")
                    : new Ec2Exception("InvalidAction", $"The action {Ec2Parameters.Clip(action)} is not valid for this web service.");
            if (handler.Changes && !caller.CanChange)
                throw Ec2Exception.Unauthorized();
            if (!handler.Changes && request.Bool("DryRun"))
                throw Ec2Exception.DryRun();

            var api = http.RequestServices.GetRequiredService<CloudApi>();
            api.Caller = caller;
            api.Token = await tokens.TokenAsync(caller, signed, http.RequestAborted);
            var endpoint = $"{http.Request.Scheme}://{http.Request.Host}{http.Request.PathBase}{path}";
            var context = new Ec2Context(request, caller, api, http.RequestServices, options.Value, time.GetUtcNow(), endpoint, http.RequestAborted);
            var content = await handler.Handler(context);
            await WriteAsync(http, 200, Ec2Xml.Response(handler.Name, requestId, content));
        }
        catch (Ec2Exception error)
        {
            await WriteAsync(http, error.Status, Ec2Xml.Error(error.Code, error.Message, requestId));
        }
        catch (ModuleProblemException problem)
        {
            // A refusal the action did not translate itself.
            var error = Ec2Errors.From(problem);
            await WriteAsync(http, error.Status, Ec2Xml.Error(error.Code, error.Message, requestId));
        }
        catch (RequestTimeoutException)
        {
            await WriteAsync(http, 503, Ec2Xml.Error("Unavailable", "Identity did not answer in time; try again in a moment.", requestId));
        }
        catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
        {
            // The client went away.
        }
        catch (Exception ex)
        {
            LogFailed(logger, ex, action ?? "-", requestId);
            await WriteAsync(http, 500, Ec2Xml.Error("InternalError", "An internal error has occurred.", requestId));
        }
    }

    private SigV4Request Verify(SigV4ParseResult parsed)
    {
        if (!parsed.Succeeded)
            throw new Ec2Exception(parsed.Error!.Code, parsed.Error.Message);
        var signed = parsed.Request!;
        if (signed.Scope.Region != options.Value.Region)
            throw new Ec2Exception(SigV4ErrorCodes.AuthFailure, $"Credential should be scoped to a valid region, not '{Ec2Parameters.Clip(signed.Scope.Region)}'; this cloud is region '{options.Value.Region}'.");
        return signed;
    }

    private async Task<Ec2Caller> CheckSignatureAsync(SigV4Request signed, CancellationToken cancellationToken)
    {
        var response = await signatures.GetResponse<Ec2SignatureVerified, Ec2SignatureRejected>(
            new VerifyEc2Signature(signed.AccessKeyId, signed.StringToSign, signed.Signature, signed.Scope.ToString(), signed.ExpiresIn), cancellationToken);
        if (response.Is(out Response<Ec2SignatureRejected>? rejected))
        {
            // What `aws --debug` prints on the client side, to compare when a client's signature is refused.
            LogRejected(logger, signed.AccessKeyId, rejected!.Message.Code, signed.CanonicalRequest, signed.StringToSign);
            throw new Ec2Exception(rejected.Message.Code, rejected.Message.Message);
        }
        response.Is(out Response<Ec2SignatureVerified>? verified);
        var v = verified!.Message;
        return new Ec2Caller(v.AccessKeyId, v.UserId, v.UserName, v.ProjectId, v.Role, v.CloudAdmin);
    }

    private static async Task<byte[]> ReadBodyAsync(HttpRequest request, int limit, CancellationToken cancellationToken)
    {
        if (request.ContentLength > limit)
            throw TooLarge(limit);
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > limit)
                throw TooLarge(limit);
            buffer.Write(chunk, 0, read);
        }
        return buffer.ToArray();
    }

    private static Ec2Exception TooLarge(int limit) => Ec2Exception.Invalid($"The request body is larger than {limit} bytes.");

    private static async Task WriteAsync(HttpContext http, int status, XDocument document)
    {
        if (http.Response.HasStarted)
            return;
        http.Response.StatusCode = status;
        http.Response.ContentType = "text/xml;charset=UTF-8";
        var xml = document.Declaration + document.ToString(SaveOptions.DisableFormatting);
        await http.Response.WriteAsync(xml, Encoding.UTF8, http.RequestAborted);
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "EC2 {Action} by access key {AccessKeyId} in project {ProjectId}")]
    private static partial void LogCall(ILogger logger, string action, string accessKeyId, Guid projectId);

    [LoggerMessage(Level = LogLevel.Debug, Message = "EC2 signature of access key {AccessKeyId} refused ({Code}); canonical request:\n{CanonicalRequest}\nstring to sign:\n{StringToSign}")]
    private static partial void LogRejected(ILogger logger, string accessKeyId, string code, string canonicalRequest, string stringToSign);

    [LoggerMessage(Level = LogLevel.Error, Message = "EC2 {Action} failed (request {RequestId})")]
    private static partial void LogFailed(ILogger logger, Exception exception, string action, string requestId);
}
