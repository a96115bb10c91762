namespace CloudPortal.Ec2Api.Cloud;

/// <summary>Who a verified EC2 request acts as: the access key's owner, in the key's project, with the role held now.</summary>
public sealed record Ec2Caller(string AccessKeyId, Guid UserId, string UserName, Guid ProjectId, string Role, bool CloudAdmin)
{
    /// <summary>Members and admins change things; a reader may only Describe and Get.</summary>
    public bool CanChange => Role is "member" or "admin";

    public string Account => Protocol.Ec2Ids.Account(ProjectId);
}
