using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AgentMarket.Platform.Data;
using AgentMarket.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace AgentMarket.Tests.Sso;

public sealed class IdentityProviderAdminTests(AgentMarketApp app) : IClassFixture<AgentMarketApp>
{
    const string Url = "/api/admin/identity-providers/";
    const string Secret = "a-client-secret-that-must-never-come-back";

    [Fact]
    public async Task Operator_CreatesAProvider_TheSecretIsEncryptedAtRest_AndNeverReturned()
    {
        var owner = await app.SignUpAsync("Mapped Org Owner");
        using var admin = await app.OperatorAsync();

        var response = await admin.PostAsJsonAsync(Url, Body("Corp SSO", mappings: [new { domain = "Corp.Example", organization = owner.OrganizationId }],
            allowed: ["corp.example"]));
        var raw = await response.Content.ReadAsStringAsync();
        var created = await Http.ReadJsonAsync(response, HttpStatusCode.Created);

        Assert.DoesNotContain(Secret, raw, StringComparison.Ordinal);
        Assert.True(created.GetProperty("has_client_secret").GetBoolean());
        Assert.False(created.TryGetProperty("client_secret", out _));
        Assert.Equal("https://idp.example/realms/corp", created.GetProperty("issuer").GetString());
        Assert.EndsWith("/signin-sso", created.GetProperty("redirect_uri").GetString(), StringComparison.Ordinal);
        var mapping = Assert.Single(created.GetProperty("organization_mappings").EnumerateArray());
        Assert.Equal("corp.example", mapping.GetProperty("domain").GetString());
        Assert.Equal("Mapped Org Owner's Organization", mapping.GetProperty("organization_name").GetString());

        var uuid = created.GetProperty("uuid").GetGuid();
        foreach (var read in new[] { await admin.GetAsync(Url), await admin.GetAsync($"{Url}{uuid}") })
        {
            Assert.DoesNotContain(Secret, await read.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        var stored = await StoredSecretAsync(uuid);
        Assert.DoesNotContain(Secret, stored, StringComparison.Ordinal);
        Assert.Equal(Secret, app.Services.GetRequiredService<AgentMarket.Identity.Sso.ClientSecrets>().Unprotect(stored));
    }

    [Fact]
    public async Task Update_WithoutASecret_KeepsTheStoredOne_AndReplacesTheRest()
    {
        using var admin = await app.OperatorAsync();
        var uuid = (await Http.ReadJsonAsync(await admin.PostAsJsonAsync(Url, Body("Before")), HttpStatusCode.Created)).GetProperty("uuid").GetGuid();
        var before = await StoredSecretAsync(uuid);

        var body = Body("After", secret: null, enabled: false);
        var updated = await Http.ReadJsonAsync(await admin.PutAsJsonAsync($"{Url}{uuid}", body));

        Assert.Equal("After", updated.GetProperty("name").GetString());
        Assert.False(updated.GetProperty("enabled").GetBoolean());
        Assert.Equal(before, await StoredSecretAsync(uuid));

        await Http.AssertStatusAsync(await admin.DeleteAsync($"{Url}{uuid}"), HttpStatusCode.NoContent);
        await Http.AssertProblemAsync(await admin.GetAsync($"{Url}{uuid}"), HttpStatusCode.NotFound, "not_found");
    }

    [Fact]
    public async Task Changes_AreAudited_ByWhatChanged_TheSecretOnlyAsReplaced_AndAnUnchangedPutNotAtAll()
    {
        const string replacement = "a-replacement-secret-that-must-never-be-logged";
        using var admin = await app.OperatorAsync();
        var uuid = (await Http.ReadJsonAsync(await admin.PostAsJsonAsync(Url, Body("Audited SSO")), HttpStatusCode.Created)).GetProperty("uuid").GetGuid();
        await Http.ReadJsonAsync(await admin.PutAsJsonAsync($"{Url}{uuid}", Body("Audited SSO")));  // the whole configuration again, secret included
        await Http.ReadJsonAsync(await admin.PutAsJsonAsync($"{Url}{uuid}", Body("Audited SSO", secret: replacement, enabled: false)));
        await Http.AssertStatusAsync(await admin.DeleteAsync($"{Url}{uuid}"), HttpStatusCode.NoContent);

        var response = await admin.GetAsync($"/api/admin/audit/?target_type=identity_provider&target={uuid}");
        var raw = await response.Content.ReadAsStringAsync();
        Assert.DoesNotContain(Secret, raw, StringComparison.Ordinal);
        Assert.DoesNotContain(replacement, raw, StringComparison.Ordinal);
        var entries = (await Http.ReadJsonAsync(response)).GetProperty("items").EnumerateArray().ToList();
        Assert.Equal(["identity_provider.created", "identity_provider.deleted", "identity_provider.updated"], entries.Select(e => e.GetProperty("action").GetString()).Order());
        Assert.All(entries, e => Assert.Equal(AgentMarketApp.OperatorEmail, e.GetProperty("actor").GetProperty("email").GetString()));
        Assert.All(entries, e => Assert.Equal(JsonValueKind.Null, e.GetProperty("organization").ValueKind)); // platform-wide, not one organization's

        var created = entries.Single(e => e.GetProperty("action").GetString() == "identity_provider.created").GetProperty("after");
        Assert.Equal(("Audited SSO", "https://idp.example/realms/corp", "set", true),
            (created.GetProperty("name").GetString(), created.GetProperty("issuer").GetString(), created.GetProperty("client_secret").GetString(), created.GetProperty("enabled").GetBoolean()));
        var updated = entries.Single(e => e.GetProperty("action").GetString() == "identity_provider.updated");
        Assert.Equal("""{"client_secret":"set","enabled":true}""", updated.GetProperty("before").GetRawText());
        Assert.Equal("""{"client_secret":"replaced","enabled":false}""", updated.GetProperty("after").GetRawText());
        var deleted = entries.Single(e => e.GetProperty("action").GetString() == "identity_provider.deleted").GetProperty("before");
        Assert.Equal(("Audited SSO", false), (deleted.GetProperty("name").GetString(), deleted.GetProperty("enabled").GetBoolean()));
    }

    [Theory]
    [InlineData("issuer")]
    [InlineData("client_secret")]
    [InlineData("default_role")]
    [InlineData("allowed_email_domains")]
    [InlineData("organization_mappings")]
    [InlineData("scopes")]
    public async Task Create_WithAnInvalidField_Returns400NamingIt(string field)
    {
        using var admin = await app.OperatorAsync();
        var body = field switch
        {
            "issuer" => Body("Bad", issuer: "http://idp.example/realms/corp"),   // plain http while https is required
            "client_secret" => Body("Bad", secret: null),
            "default_role" => Body("Bad", role: "owner"),
            "allowed_email_domains" => Body("Bad", allowed: ["not a domain"]),
            "organization_mappings" => Body("Bad", mappings: [new { domain = "corp.example", organization = Guid.NewGuid() }]),
            _ => Body("Bad", scopes: ["openid", "two words"]),
        };

        var problem = await Http.AssertProblemAsync(await admin.PostAsJsonAsync(Url, body), HttpStatusCode.BadRequest, "validation_failed");

        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.ToString());
    }

    [Fact]
    public async Task NonOperators_Get404_OnEveryIdentityProviderRoute()
    {
        using var admin = await app.OperatorAsync();
        var uuid = (await Http.ReadJsonAsync(await admin.PostAsJsonAsync(Url, Body("Hidden")), HttpStatusCode.Created)).GetProperty("uuid").GetGuid();
        var member = await app.SignUpAsync();
        using var anonymous = app.CreateClient();

        foreach (var client in new[] { member.Client, anonymous })
        {
            await Http.AssertStatusAsync(await client.GetAsync(Url), HttpStatusCode.NotFound);
            await Http.AssertStatusAsync(await client.PostAsJsonAsync(Url, Body("Sneaky")), HttpStatusCode.NotFound);
            await Http.AssertStatusAsync(await client.GetAsync($"{Url}{uuid}"), HttpStatusCode.NotFound);
            await Http.AssertStatusAsync(await client.PutAsJsonAsync($"{Url}{uuid}", Body("Sneaky")), HttpStatusCode.NotFound);
            await Http.AssertStatusAsync(await client.DeleteAsync($"{Url}{uuid}"), HttpStatusCode.NotFound);
        }
        Assert.Equal("Hidden", (await Http.ReadJsonAsync(await admin.GetAsync($"{Url}{uuid}"))).GetProperty("name").GetString());
    }

    static Dictionary<string, object?> Body(string name, string? issuer = "https://idp.example/realms/corp", string? secret = Secret, string role = "member",
        string[]? allowed = null, object[]? mappings = null, string[]? scopes = null, bool enabled = true) => new()
        {
            ["name"] = name,
            ["issuer"] = issuer,
            ["client_id"] = "marketplace",
            ["client_secret"] = secret,
            ["scopes"] = scopes,
            ["allowed_email_domains"] = allowed,
            ["default_role"] = role,
            ["organization_mappings"] = mappings,
            ["enabled"] = enabled,
        };

    async Task<string> StoredSecretAsync(Guid uuid) =>
        await app.InScopeAsync(null, services => services.GetRequiredService<AppDbContext>().IdentityProviders.AsNoTracking()
            .Where(p => p.Id == uuid).Select(p => p.ClientSecretProtected).SingleAsync());
}
