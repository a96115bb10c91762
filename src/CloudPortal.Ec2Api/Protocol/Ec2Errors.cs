using CloudPortal.Ec2Api.Cloud;

namespace CloudPortal.Ec2Api.Protocol;

/// <summary>The modules' problem codes as EC2 errors, where an action has not said better.</summary>
public static class Ec2Errors
{
    public static Ec2Exception From(ModuleProblemException problem) => problem.Status switch
    {
        400 => Ec2Exception.Invalid(problem.Message),
        401 => new Ec2Exception("AuthFailure", "AWS was not able to validate the provided access credentials"),
        403 => Ec2Exception.Unauthorized(),
        404 => Ec2Exception.Invalid(problem.Message),
        409 => new Ec2Exception("IncorrectState", problem.Message),
        413 => Ec2Exception.Invalid(problem.Message),
        _ => new Ec2Exception("Unavailable", problem.Message),
    };

    public static Ec2Exception InstancesNotFound(IReadOnlyList<string> ids) => ids.Count == 1
        ? new Ec2Exception("InvalidInstanceID.NotFound", $"The instance ID '{ids[0]}' does not exist")
        : new Ec2Exception("InvalidInstanceID.NotFound", $"The instance IDs '{string.Join(", ", ids)}' do not exist");

    public static Ec2Exception ImagesNotFound(IReadOnlyList<string> ids) =>
        new("InvalidAMIID.NotFound", ids.Count == 1 ? $"The image id '[{ids[0]}]' does not exist" : $"The image ids '[{string.Join(", ", ids)}]' do not exist");

    public static Ec2Exception Malformed(string code, string id) => new(code, $"Invalid id: \"{Ec2Parameters.Clip(id)}\"");

    public static Ec2Exception KeyPairNotFound(string name) => new("InvalidKeyPair.NotFound", $"The key pair '{Ec2Parameters.Clip(name)}' does not exist");

    public static Ec2Exception UnknownFilter(string name) => Ec2Exception.Invalid($"The filter '{Ec2Parameters.Clip(name)}' is invalid");
}
