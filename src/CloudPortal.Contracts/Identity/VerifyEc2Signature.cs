namespace CloudPortal.Contracts.Identity;

/// <summary>
/// Request (EC2 API → Identity): does this SigV4 signature match the secret of this access key? The EC2 API
/// builds the string to sign from the HTTP request; only Identity holds (and can decrypt) the secret.
/// Answered with <see cref="Ec2SignatureVerified"/> or <see cref="Ec2SignatureRejected"/>.
/// </summary>
/// <param name="Scope">The credential scope <c>date/region/service/aws4_request</c>; it must be the one inside the string to sign.</param>
/// <param name="ExpiresIn">For presigned URLs, their <c>X-Amz-Expires</c>. The signing time is read from the string to sign, never sent beside it.</param>
public sealed record VerifyEc2Signature(string AccessKeyId, string StringToSign, string Signature, string Scope, TimeSpan? ExpiresIn);

/// <summary>The signature is good: the request acts as this user, in this project, with this role.</summary>
public sealed record Ec2SignatureVerified(
    string AccessKeyId, Guid UserId, string UserName, Guid ProjectId, string ProjectName, string Role, bool CloudAdmin);

/// <summary>Refused, with the EC2 error code to return (<c>AuthFailure</c>, <c>RequestExpired</c>, ...).</summary>
public sealed record Ec2SignatureRejected(string AccessKeyId, string Code, string Message);
