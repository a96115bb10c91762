using CloudPortal.ServiceDefaults.Security.SigV4;
using Xunit;

namespace CloudPortal.ServiceDefaults.Tests.Security;

public sealed class SigV4TimeWindowTests
{
    private static readonly DateTimeOffset SignedAt = TestSigner.SignedAt;

    [Theory]
    [InlineData(0)]
    [InlineData(15 * 60)]
    [InlineData(-15 * 60)]
    [InlineData(14 * 60 + 59)]
    public void A_signed_request_within_15_minutes_of_the_server_clock_is_in_time(int serverAheadBySeconds)
    {
        var request = TestSigner.SignedGet().ParseOk();

        Assert.Null(request.CheckTime(SignedAt.AddSeconds(serverAheadBySeconds)));
    }

    [Fact]
    public void A_signed_request_older_than_15_minutes_is_RequestExpired()
    {
        var error = TestSigner.SignedGet().ParseOk().CheckTime(SignedAt.AddMinutes(15).AddSeconds(1));

        Assert.Equal(SigV4ErrorCodes.RequestExpired, error?.Code);
        Assert.Equal(400, error?.HttpStatus);
        Assert.Contains("signed at 20150830T123600Z", error?.Message, StringComparison.Ordinal);
        Assert.Contains("server time 20150830T125101Z", error?.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_signed_request_more_than_15_minutes_in_the_future_is_RequestExpired()
    {
        var error = TestSigner.SignedGet().ParseOk().CheckTime(SignedAt.AddMinutes(-15).AddSeconds(-1));

        Assert.Equal(SigV4ErrorCodes.RequestExpired, error?.Code);
        Assert.Contains("in the future", error?.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_allowed_skew_can_be_narrowed()
    {
        var request = TestSigner.SignedGet().ParseOk();

        Assert.Null(request.CheckTime(SignedAt.AddMinutes(5), TimeSpan.FromMinutes(5)));
        Assert.Equal(SigV4ErrorCodes.RequestExpired, request.CheckTime(SignedAt.AddMinutes(6), TimeSpan.FromMinutes(5))?.Code);
        Assert.Contains("5 minutes", request.CheckTime(SignedAt.AddMinutes(6), TimeSpan.FromMinutes(5))?.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_presigned_URL_is_valid_for_its_X_Amz_Expires_and_no_longer()
    {
        var request = TestSigner.PresignedGet("Action=DescribeRegions&Version=2016-11-15", expiresSeconds: 3600).ParseOk();

        Assert.Null(request.Verify(TestSigner.Secret));
        Assert.Null(request.CheckTime(SignedAt.AddMinutes(59)));
        Assert.Null(request.CheckTime(SignedAt.AddSeconds(3600)));
        var expired = request.CheckTime(SignedAt.AddSeconds(3601));
        Assert.Equal(SigV4ErrorCodes.RequestExpired, expired?.Code);
        Assert.Contains("valid for 3600 seconds", expired?.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_short_lived_presigned_URL_expires_before_the_clock_skew_window_would()
    {
        var request = TestSigner.PresignedGet("Action=DescribeRegions&Version=2016-11-15", expiresSeconds: 60).ParseOk();

        Assert.Equal(SigV4ErrorCodes.RequestExpired, request.CheckTime(SignedAt.AddSeconds(61))?.Code);
    }

    [Fact]
    public void A_presigned_URL_dated_more_than_15_minutes_ahead_is_RequestExpired()
    {
        var request = TestSigner.PresignedGet("Action=DescribeRegions&Version=2016-11-15", expiresSeconds: 3600).ParseOk();

        Assert.Null(request.CheckTime(SignedAt.AddMinutes(-15)));
        Assert.Equal(SigV4ErrorCodes.RequestExpired, request.CheckTime(SignedAt.AddMinutes(-16))?.Code);
    }

    [Fact]
    public void A_presigned_URL_without_X_Amz_Expires_gets_the_clock_skew_window()
    {
        var request = TestSigner.PresignedGet("Action=DescribeRegions&Version=2016-11-15", expiresSeconds: null).ParseOk();

        Assert.Null(request.ExpiresIn);
        Assert.Null(request.Verify(TestSigner.Secret));
        Assert.Null(request.CheckTime(SignedAt.AddMinutes(15)));
        Assert.Equal(SigV4ErrorCodes.RequestExpired, request.CheckTime(SignedAt.AddMinutes(16))?.Code);
    }

    [Fact]
    public void The_window_is_checked_in_UTC_whatever_offset_now_carries()
    {
        var request = TestSigner.SignedGet().ParseOk();
        var sameInstantElsewhere = SignedAt.AddMinutes(10).ToOffset(TimeSpan.FromHours(-7));

        Assert.Null(request.CheckTime(sameInstantElsewhere));
        Assert.Null(SigV4TimeWindow.Check(SignedAt, null, sameInstantElsewhere));
    }
}
