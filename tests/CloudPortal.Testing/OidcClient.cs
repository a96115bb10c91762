using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Serialization;
using AngleSharp.Html.Parser;

namespace CloudPortal.Testing;

public sealed record TokenSet(
    [property: JsonPropertyName("access_token")] string AccessToken,
    [property: JsonPropertyName("refresh_token")] string? RefreshToken,
    [property: JsonPropertyName("id_token")] string? IdToken,
    [property: JsonPropertyName("expires_in")] int ExpiresIn);

/// <summary>
/// Signs in the way a browser and the portal do: authorization code + PKCE over plain HTTP, following
/// every redirect by hand, posting the login form with its antiforgery token, exchanging the code.
/// </summary>
public sealed class OidcClient(string identityUrl)
{
    public const string PortalClient = "cloudportal-portal";
    public const string ServiceClient = "cloudportal-service";
    public const string Scopes = "openid profile offline_access cloudportal";

    private readonly Uri _base = new(identityUrl.TrimEnd('/') + "/");

    /// <summary>The redirect URI the portal client is registered with for this address.</summary>
    public string RedirectUri => new Uri(_base, "signin-oidc").ToString();

    /// <summary>
    /// The authorization endpoint's first answer to a request with this PKCE challenge method (null: none named), not
    /// following redirects: a redirect to the login page when accepted.
    /// </summary>
    public async Task<HttpResponseMessage> AuthorizeAsync(string? challengeMethod)
    {
        using var handler = new HttpClientHandler { AllowAutoRedirect = false };
        using var http = new HttpClient(handler) { BaseAddress = _base, Timeout = TimeSpan.FromSeconds(30) };
        var verifier = Base64Url(RandomNumberGenerator.GetBytes(32));
        var parameters = new Dictionary<string, string>
        {
            ["client_id"] = PortalClient,
            ["redirect_uri"] = RedirectUri,
            ["response_type"] = "code",
            ["scope"] = Scopes,
            ["code_challenge"] = challengeMethod == "S256" ? Base64Url(SHA256.HashData(Encoding.ASCII.GetBytes(verifier))) : verifier,
            ["state"] = Guid.NewGuid().ToString("N"),
        };
        if (challengeMethod is not null)
            parameters["code_challenge_method"] = challengeMethod;
        return await http.GetAsync("identity/connect/authorize?" + Query(parameters));
    }

    public async Task<TokenSet> SignInAsync(string userName, string password)
    {
        var (response, _) = await SignInRawAsync(userName, password);
        return response ?? throw new InvalidOperationException($"sign-in of '{userName}' did not reach the redirect URI");
    }

    /// <summary>Runs the flow; returns the tokens, or null with the login page's HTML when sign-in failed.</summary>
    public async Task<(TokenSet? Tokens, string LoginPage)> SignInRawAsync(string userName, string password)
    {
        using var handler = new HttpClientHandler { AllowAutoRedirect = false, CookieContainer = new CookieContainer(), UseCookies = true };
        using var http = new HttpClient(handler) { BaseAddress = _base, Timeout = TimeSpan.FromSeconds(30) };
        var verifier = Base64Url(RandomNumberGenerator.GetBytes(32));
        var challenge = Base64Url(SHA256.HashData(Encoding.ASCII.GetBytes(verifier)));
        var state = Guid.NewGuid().ToString("N");
        var authorize = "identity/connect/authorize?" + Query(new()
        {
            ["client_id"] = PortalClient,
            ["redirect_uri"] = RedirectUri,
            ["response_type"] = "code",
            ["scope"] = Scopes,
            ["code_challenge"] = challenge,
            ["code_challenge_method"] = "S256",
            ["state"] = state,
        });

        // 1. Not signed in: the authorization endpoint sends us to the login page.
        var toLogin = await http.GetAsync(authorize);
        Expect(toLogin, HttpStatusCode.Redirect);
        var loginUrl = toLogin.Headers.Location!;
        var loginPage = await http.GetStringAsync(loginUrl);

        // 2. Post the form back with its antiforgery token and hidden return URL.
        var form = new HtmlParser().ParseDocument(loginPage).QuerySelector("form")!;
        var fields = form.QuerySelectorAll("input[type=hidden]").ToDictionary(i => i.GetAttribute("name")!, i => i.GetAttribute("value") ?? "");
        fields["UserName"] = userName;
        fields["Password"] = password;
        var action = new Uri(new Uri(_base, loginUrl), form.GetAttribute("action") ?? loginUrl.ToString());
        var posted = await http.PostAsync(action, new FormUrlEncodedContent(fields));
        if (posted.StatusCode != HttpStatusCode.Redirect)
            return (null, await posted.Content.ReadAsStringAsync());

        // 3. Back to the authorization endpoint, now signed in: a redirect to the client with a code.
        var back = await http.GetAsync(new Uri(new Uri(_base, loginUrl), posted.Headers.Location!));
        Expect(back, HttpStatusCode.Redirect);
        var callback = back.Headers.Location!;
        if (!callback.ToString().StartsWith(RedirectUri, StringComparison.Ordinal))
            throw new InvalidOperationException($"expected a redirect to {RedirectUri}, got {callback}");
        var parameters = System.Web.HttpUtility.ParseQueryString(callback.Query);
        if (parameters["state"] != state)
            throw new InvalidOperationException("the state parameter did not round-trip");

        // 4. Exchange the code, proving possession of the PKCE verifier.
        var tokens = await TokenAsync(new()
        {
            ["grant_type"] = "authorization_code",
            ["code"] = parameters["code"]!,
            ["redirect_uri"] = RedirectUri,
            ["client_id"] = PortalClient,
            ["code_verifier"] = verifier,
        });
        return (tokens, loginPage);
    }

    public Task<TokenSet> RefreshAsync(string refreshToken) => TokenAsync(new()
    {
        ["grant_type"] = "refresh_token",
        ["refresh_token"] = refreshToken,
        ["client_id"] = PortalClient,
    });

    public Task<TokenSet> ClientCredentialsAsync(string clientSecret) => TokenAsync(new()
    {
        ["grant_type"] = "client_credentials",
        ["client_id"] = ServiceClient,
        ["client_secret"] = clientSecret,
        ["scope"] = "cloudportal",
    });

    /// <summary>Posts to the token endpoint; throws with the server's error on failure.</summary>
    public async Task<TokenSet> TokenAsync(Dictionary<string, string> form)
    {
        using var http = new HttpClient { BaseAddress = _base, Timeout = TimeSpan.FromSeconds(30) };
        using var response = await http.PostAsync("identity/connect/token", new FormUrlEncodedContent(form));
        if (!response.IsSuccessStatusCode)
            throw new HttpRequestException($"token endpoint: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}", null, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<TokenSet>())!;
    }

    public static HttpClient Api(string baseUrl, string? accessToken, Guid? project = null)
    {
        var http = new HttpClient { BaseAddress = new Uri(baseUrl.TrimEnd('/') + "/"), Timeout = TimeSpan.FromSeconds(30) };
        if (accessToken is not null)
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        if (project is not null)
            http.DefaultRequestHeaders.Add("CloudPortal-Project", project.Value.ToString());
        return http;
    }

    private static void Expect(HttpResponseMessage response, HttpStatusCode status)
    {
        if (response.StatusCode != status)
            throw new InvalidOperationException($"{response.RequestMessage?.RequestUri}: expected {(int)status}, got {(int)response.StatusCode}");
    }

    private static string Query(Dictionary<string, string> values) =>
        string.Join('&', values.Select(v => $"{Uri.EscapeDataString(v.Key)}={Uri.EscapeDataString(v.Value)}"));

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
