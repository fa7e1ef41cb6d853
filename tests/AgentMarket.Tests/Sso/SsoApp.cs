using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AgentMarket.Tests.Infrastructure;

namespace AgentMarket.Tests.Sso;

/// <summary>
/// The app on Kestrel with Chromium (<see cref="BrowserApp"/>) plus a real OpenID Connect provider on 127.0.0.1 that
/// knows the app's redirect URI. Loopback is allowed through the outbound guard by configuration, as an operator would.
/// </summary>
public sealed class SsoApp : BrowserApp
{
    public const string Secret = "sso-client-secret-1";

    /// <summary>IdP accounts by login name.</summary>
    public static readonly IReadOnlyDictionary<string, OidcAccount> Accounts = new Dictionary<string, OidcAccount>
    {
        ["alice"] = new("alice@corp.test", true, "Alice Example"),
        ["bob"] = new("bob@corp.test", true, "Bob Example"),
        ["pat"] = new("pat@partner.test", true, "Pat Partner"),
        ["linked"] = new("linked@corp.test", true, "Linked By Email"),
        ["unverified"] = new("unverified@corp.test", false, "Una Verified"),
        ["outsider"] = new("outsider@elsewhere.test", true, "Otto Outsider"),
        ["operator"] = new(OperatorEmail, true, "Operator Lookalike"),
    };

    static readonly OidcClient[] Clients =
    [
        new("marketplace", Secret),
        new("marketplace-bad-signature", Secret, "signature"),
        new("marketplace-bad-issuer", Secret, "issuer"),
        new("marketplace-bad-nonce", Secret, "nonce"),
    ];

    static readonly string[] Scopes = ["openid", "email", "profile"];

    public OidcTestProvider Idp { get; private set; } = default!;

    protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings() =>
    [
        new("Sso:RequireHttps", "false"),
        new("Flows:OutboundAllowList:0", "127.0.0.1"),
    ];

    public override async ValueTask InitializeAsync()
    {
        await base.InitializeAsync();
        Idp = await OidcTestProvider.StartAsync(BaseUrl + "/signin-sso", Clients, Accounts);
    }

    /// <summary>Configures an identity provider through the operator API and returns its uuid.</summary>
    public async Task<Guid> AddIdentityProviderAsync(string name, string clientId = "marketplace", string[]? allowedDomains = null,
        object[]? mappings = null, string defaultRole = "member", bool enabled = true)
    {
        using var admin = await OperatorAsync();
        var response = await admin.PostAsJsonAsync("/api/admin/identity-providers/", new
        {
            name,
            issuer = Idp.Issuer,
            client_id = clientId,
            client_secret = Secret,
            scopes = Scopes,
            allowed_email_domains = allowedDomains ?? [],
            default_role = defaultRole,
            organization_mappings = mappings ?? [],
            enabled,
        });
        return (await Http.ReadJsonAsync(response, HttpStatusCode.Created)).GetProperty("uuid").GetGuid();
    }

    public override async ValueTask DisposeAsync()
    {
        if (Idp is not null)
        {
            await Idp.DisposeAsync();
        }
        await base.DisposeAsync();
        GC.SuppressFinalize(this);
    }
}
