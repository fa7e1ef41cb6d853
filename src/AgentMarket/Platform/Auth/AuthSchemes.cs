namespace AgentMarket.Platform.Auth;

public static class AuthSchemes
{
    /// <summary>Chooses the scheme from the request: a bearer token or API key header, else the cookie.</summary>
    public const string Default = "AgentMarket";
    public const string Cookie = "Cookies";
    public const string PersonalAccessToken = "PersonalAccessToken";
}

public static class AppClaims
{
    public const string UserId = "sub";
    public const string Email = "email";
    public const string Name = "name";
    public const string Operator = "operator";
    public const string SecurityStamp = "stamp";
}
