namespace AgentMarket.Identity.Sso;

/// <summary>Single sign-on settings (section <c>Sso</c>); identity providers themselves are configured by operators in the database.</summary>
public sealed class SsoOptions
{
    /// <summary>
    /// Issuers and every identity-provider endpoint must be https. Turn off only to try SSO against a local IdP on
    /// plain http (the tests do); outbound calls still pass the outbound guard, so loopback needs the allow-list too.
    /// </summary>
    public bool RequireHttps { get; set; } = true;

    /// <summary>Tolerance for the id_token's expiry and issue time against this server's clock.</summary>
    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromMinutes(2);
}
