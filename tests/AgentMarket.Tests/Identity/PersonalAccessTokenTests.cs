using System.Net;
using System.Net.Http.Json;
using AgentMarket.Tests.Infrastructure;

namespace AgentMarket.Tests.Identity;

public class PersonalAccessTokenTests(AgentMarketApp app) : IClassFixture<AgentMarketApp>
{
    [Fact]
    public async Task CreateToken_ReturnsSecretOnce_ThatAuthenticatesTheManagementApi()
    {
        var user = await app.SignUpAsync();
        var response = await app.CreateClient().PostAsJsonAsync("/api/auth/tokens", new { email = user.Email, password = user.Password, name = "ci" });
        var created = await Http.ReadJsonAsync(response, HttpStatusCode.Created);
        var token = created.GetProperty("token").GetString()!;
        Assert.StartsWith("am_pat_", token, StringComparison.Ordinal);
        Assert.Equal("ci", created.GetProperty("name").GetString());

        var me = await Http.ReadJsonAsync(await app.BearerClient(token).GetAsync("/api/me"));
        Assert.Equal(user.UserId, me.GetProperty("user").GetProperty("uuid").GetGuid());

        var list = await Http.ReadJsonAsync(await user.Client.GetAsync("/api/auth/tokens"));
        var listed = Assert.Single(list.EnumerateArray());
        Assert.False(listed.TryGetProperty("token", out _), "a listed token must never include its secret");
        Assert.StartsWith(listed.GetProperty("prefix").GetString()!, token, StringComparison.Ordinal);
        Assert.True(listed.TryGetProperty("last_used", out var lastUsed) && lastUsed.ValueKind != System.Text.Json.JsonValueKind.Null);
    }

    [Fact]
    public async Task CreateToken_WrongPassword_Returns401_AndCreatesNothing()
    {
        var user = await app.SignUpAsync();
        var response = await app.CreateClient().PostAsJsonAsync("/api/auth/tokens", new { email = user.Email, password = "not the password", name = "ci" });
        await Http.AssertProblemAsync(response, HttpStatusCode.Unauthorized, "invalid_credentials");
        var list = await Http.ReadJsonAsync(await user.Client.GetAsync("/api/auth/tokens"));
        Assert.Empty(list.EnumerateArray());
    }

    [Fact]
    public async Task RevokedToken_Returns401_OnTheNextRequest()
    {
        var user = await app.SignUpAsync();
        var token = await user.CreateTokenAsync();
        var client = app.BearerClient(token);
        await Http.AssertStatusAsync(await client.GetAsync("/api/projects/"), HttpStatusCode.OK);

        var tokens = await Http.ReadJsonAsync(await client.GetAsync("/api/auth/tokens"));
        var id = tokens.EnumerateArray().Single().GetProperty("uuid").GetGuid();
        await Http.AssertStatusAsync(await client.DeleteAsync($"/api/auth/tokens/{id}"), HttpStatusCode.NoContent);

        await Http.AssertProblemAsync(await client.GetAsync("/api/projects/"), HttpStatusCode.Unauthorized, "unauthorized");
    }

    [Fact]
    public async Task ExpiredOrMalformedOrForeignTokens_Return401()
    {
        var user = await app.SignUpAsync();
        var good = await user.CreateTokenAsync();
        var tampered = good[..^1] + (good[^1] == 'a' ? 'b' : 'a');
        await Http.AssertStatusAsync(await app.BearerClient(tampered).GetAsync("/api/me"), HttpStatusCode.Unauthorized);
        await Http.AssertStatusAsync(await app.BearerClient("am_pat_short").GetAsync("/api/me"), HttpStatusCode.Unauthorized);
        await Http.AssertStatusAsync(await app.BearerClient("some-other-scheme-token").GetAsync("/api/me"), HttpStatusCode.Unauthorized);

        var pastExpiry = await app.CreateClient().PostAsJsonAsync("/api/auth/tokens", new { email = user.Email, password = user.Password, name = "old", expires_at = DateTime.UtcNow.AddMinutes(-1) });
        await Http.AssertProblemAsync(pastExpiry, HttpStatusCode.BadRequest, "validation_failed");
    }

    [Fact]
    public async Task RevokeToken_OfAnotherUser_Returns404_AndLeavesItWorking()
    {
        var owner = await app.SignUpAsync();
        var other = await app.SignUpAsync();
        var token = await owner.CreateTokenAsync();
        var id = (await Http.ReadJsonAsync(await owner.Client.GetAsync("/api/auth/tokens"))).EnumerateArray().Single().GetProperty("uuid").GetGuid();

        await Http.AssertProblemAsync(await other.Client.DeleteAsync($"/api/auth/tokens/{id}"), HttpStatusCode.NotFound, "not_found");
        await Http.AssertStatusAsync(await app.BearerClient(token).GetAsync("/api/me"), HttpStatusCode.OK);
    }
}
