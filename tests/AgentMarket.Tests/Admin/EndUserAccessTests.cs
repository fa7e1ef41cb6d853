using System.Net;
using System.Net.Http.Json;
using AgentMarket.Tests.Buyer;
using AgentMarket.Tests.Infrastructure;

namespace AgentMarket.Tests.Admin;

/// <summary>
/// An operator ends a user's access (a stolen laptop, a departing employee): every session and personal access token of
/// theirs stops with the very next request, from the API or the organization's console page; audited (ADR-157). Only
/// operators can, and only for an existing user.
/// </summary>
public class EndUserAccessTests(AgentMarketApp app) : IClassFixture<AgentMarketApp>
{
    [Fact]
    public async Task EndSessions_StopsTheUsersCookiesAndTokensAtOnce_AndTheyCanSignInAgain()
    {
        var user = await app.SignUpAsync();
        var laptop = app.CreateClient();
        await Http.AssertStatusAsync(await laptop.PostAsJsonAsync("/api/auth/signin", new { email = user.Email, password = user.Password }), HttpStatusCode.OK);
        var token = app.BearerClient(await user.CreateTokenAsync());
        var bystander = await app.SignUpAsync();
        var bystanderToken = app.BearerClient(await bystander.CreateTokenAsync());
        foreach (var client in new[] { user.Client, laptop, token })
        {
            await Http.AssertStatusAsync(await client.GetAsync("/api/me"), HttpStatusCode.OK);
        }

        // Someone else's account, or none: 404, and nothing ends.
        await Http.AssertStatusAsync(await bystander.Client.PostAsync($"/api/admin/users/{user.UserId}/end-sessions", null), HttpStatusCode.NotFound);
        var operatorClient = await app.OperatorAsync();
        await Http.AssertProblemAsync(await operatorClient.PostAsync($"/api/admin/users/{Guid.NewGuid()}/end-sessions", null), HttpStatusCode.NotFound, "not_found");
        await Http.AssertStatusAsync(await user.Client.GetAsync("/api/me"), HttpStatusCode.OK);

        var ended = await Http.ReadJsonAsync(await operatorClient.PostAsync($"/api/admin/users/{user.UserId}/end-sessions", null));

        Assert.Equal(user.UserId, ended.GetProperty("uuid").GetGuid());
        Assert.Equal(2, ended.GetProperty("sessions_ended").GetInt32());
        Assert.Equal(1, ended.GetProperty("personal_tokens_revoked").GetInt32());
        foreach (var client in new[] { user.Client, laptop, token })
        {
            await Http.AssertStatusAsync(await client.GetAsync("/api/me"), HttpStatusCode.Unauthorized);
        }
        await Http.AssertStatusAsync(await bystander.Client.GetAsync("/api/me"), HttpStatusCode.OK);
        await Http.AssertStatusAsync(await bystanderToken.GetAsync("/api/me"), HttpStatusCode.OK);

        var audit = await Http.ReadJsonAsync(await operatorClient.GetAsync($"/api/admin/audit/?action=user.access_ended&target={user.UserId}"));
        var entry = Assert.Single(audit.GetProperty("items").EnumerateArray());
        Assert.Equal(AgentMarketApp.OperatorEmail, entry.GetProperty("actor").GetProperty("email").GetString());
        Assert.Equal(2, entry.GetProperty("after").GetProperty("sessions").GetInt32());

        var again = app.CreateClient();
        await Http.AssertStatusAsync(await again.PostAsJsonAsync("/api/auth/signin", new { email = user.Email, password = user.Password }), HttpStatusCode.OK);
        await Http.AssertStatusAsync(await again.GetAsync("/api/me"), HttpStatusCode.OK);
    }

    [Fact]
    public async Task OrganizationPage_EndsAMembersSessionsAndTokens_WithItsButton()
    {
        var user = await app.SignUpAsync();
        var token = app.BearerClient(await user.CreateTokenAsync());
        var operatorClient = await app.OperatorAsync();
        var page = $"/admin/organizations/{user.OrganizationId}";

        var answer = await operatorClient.SubmitAsync(page, "end-sessions", new() { ["user"] = user.UserId.ToString() });

        await Http.AssertStatusAsync(answer, HttpStatusCode.OK);
        Assert.Contains($"{user.Email} is signed out everywhere", await answer.HtmlAsync(), StringComparison.Ordinal);
        await Http.AssertStatusAsync(await user.Client.GetAsync("/api/me"), HttpStatusCode.Unauthorized);
        await Http.AssertStatusAsync(await token.GetAsync("/api/me"), HttpStatusCode.Unauthorized);
    }
}
