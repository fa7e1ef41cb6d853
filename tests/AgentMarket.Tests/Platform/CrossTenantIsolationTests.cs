using System.Net;
using System.Net.Http.Json;
using AgentMarket.Platform.Tenancy;
using AgentMarket.Tests.Infrastructure;

namespace AgentMarket.Tests.Platform;

/// <summary>
/// The isolation matrix: for every /api route that exists (read from the app's endpoints, so new routes are covered
/// automatically), a signed-in member of another organization gets 404 for organization A's objects, and
/// non-operators get 404 from operator routes.
/// </summary>
public class CrossTenantIsolationTests(AgentMarketApp app) : IClassFixture<AgentMarketApp>
{
    [Fact]
    public void EveryApiRoute_DeclaresWhoMayCallIt()
    {
        var undeclared = ApiRoute.All(app.Services).Where(r => r.Access is null).Select(r => r.ToString()).ToList();
        Assert.True(undeclared.Count == 0, "routes without AllowAnyone/RequireUser/RequireOrganization/RequireOperator: " + string.Join(", ", undeclared));
    }

    [Fact]
    public async Task AnotherTenantsMember_GetsNotFound_OnEveryOrganizationAndUserRoute()
    {
        var victim = await PopulatedOrganizationAsync();
        var attacker = await app.SignUpAsync("Mallory");
        var attackerToken = app.BearerClient(await attacker.CreateTokenAsync());
        var routes = ApiRoute.All(app.Services).Where(r => r.Access?.Kind is AccessKind.Organization or AccessKind.User).ToList();
        Assert.NotEmpty(routes);

        var leaks = new List<string>();
        foreach (var route in routes)
        {
            foreach (var client in new[] { attacker.Client, attackerToken })
            {
                if (route.Parameters.Count == 0)
                {
                    if (route.Access!.Kind == AccessKind.Organization)
                    {
                        // Naming the victim's organization in the header must not let the attacker in.
                        await ExpectNotFoundAsync(client, route, route.Pattern, victim.Organization, leaks);
                    }
                    continue;
                }
                foreach (var id in victim.Ids)
                {
                    var url = route.Url(_ => id.ToString());
                    await ExpectNotFoundAsync(client, route, url, organization: null, leaks);
                    if (route.Access!.Kind == AccessKind.Organization)
                    {
                        await ExpectNotFoundAsync(client, route, url, victim.Organization, leaks);
                    }
                }
            }
        }
        Assert.True(leaks.Count == 0, "routes that did not answer 404 to another tenant:\n" + string.Join("\n", leaks));
        await AssertVictimUntouchedAsync(victim);
    }

    [Fact]
    public async Task NonOperators_GetNotFound_OnEveryOperatorRoute()
    {
        var victim = await PopulatedOrganizationAsync();
        var user = await app.SignUpAsync();
        var failures = new List<string>();
        foreach (var route in ApiRoute.All(app.Services).Where(r => r.Access?.Kind == AccessKind.Operator))
        {
            foreach (var client in new[] { user.Client, app.CreateClient() })
            {
                foreach (var id in route.Parameters.Count == 0 ? [Guid.Empty] : victim.Ids)
                {
                    await ExpectNotFoundAsync(client, route, route.Url(_ => id.ToString()), null, failures);
                }
            }
        }
        Assert.Empty(failures);
    }

    static async Task ExpectNotFoundAsync(HttpClient client, ApiRoute route, string url, Guid? organization, List<string> leaks)
    {
        using var request = Http.Request(new HttpMethod(route.Method), url, organization, json: route.AcceptsJson ? ApiRoute.PlausibleBody : null);
        using var response = await client.SendAsync(request);
        if (response.StatusCode != HttpStatusCode.NotFound)
        {
            leaks.Add($"{route.Method} {url} (X-Organization: {organization?.ToString() ?? "own"}) → {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }
    }

    sealed record Victim(TestUser Owner, Guid Organization, Guid[] Ids, int Members, int Projects, int Invitations);

    /// <summary>An organization with one of everything, and the ids of all of it.</summary>
    async Task<Victim> PopulatedOrganizationAsync()
    {
        var owner = await app.SignUpAsync("Victim");
        var project = await Http.ReadJsonAsync(await owner.Client.PostAsJsonAsync("/api/projects/", new { name = "Secret project" }), HttpStatusCode.Created);
        var invitation = await Http.ReadJsonAsync(await owner.Client.PostAsJsonAsync("/api/invitations/", new { email = "pending@tests.example" }), HttpStatusCode.Created);
        await owner.CreateTokenAsync("victim token");
        var token = (await Http.ReadJsonAsync(await owner.Client.GetAsync("/api/auth/tokens"))).EnumerateArray().Single();
        var session = (await Http.ReadJsonAsync(await owner.Client.GetAsync("/api/auth/sessions"))).EnumerateArray().Single();
        var provider = await Http.ReadJsonAsync(await owner.Client.PostAsJsonAsync("/api/providers/", new { handle = $"victim-{Guid.NewGuid():N}"[..20], name = "Victim AI" }), HttpStatusCode.Created);
        var members = await Http.ReadJsonAsync(await owner.Client.GetAsync("/api/members/"));
        Guid[] ids =
        [
            owner.OrganizationId, owner.ProjectId, owner.UserId,
            project.GetProperty("uuid").GetGuid(),
            invitation.GetProperty("uuid").GetGuid(),
            token.GetProperty("uuid").GetGuid(),
            session.GetProperty("uuid").GetGuid(),
            provider.GetProperty("uuid").GetGuid(),
            .. members.GetProperty("items").EnumerateArray().Select(m => m.GetProperty("uuid").GetGuid()),
        ];
        return new Victim(owner, owner.OrganizationId, ids, members.GetProperty("total").GetInt32(), 2, 1);
    }

    static async Task AssertVictimUntouchedAsync(Victim victim)
    {
        var client = victim.Owner.Client;
        Assert.Equal(victim.Members, (await Http.ReadJsonAsync(await client.GetAsync("/api/members/"))).GetProperty("total").GetInt32());
        Assert.Equal(victim.Projects, (await Http.ReadJsonAsync(await client.GetAsync("/api/projects/"))).GetProperty("total").GetInt32());
        var invitations = await Http.ReadJsonAsync(await client.GetAsync("/api/invitations/"));
        Assert.Equal("pending", invitations.GetProperty("items")[0].GetProperty("state").GetString());
        var tokens = await Http.ReadJsonAsync(await client.GetAsync("/api/auth/tokens"));
        Assert.False(tokens[0].GetProperty("revoked").GetBoolean());
        Assert.Single((await Http.ReadJsonAsync(await client.GetAsync("/api/auth/sessions"))).EnumerateArray());
        var organization = await Http.ReadJsonAsync(await client.GetAsync($"/api/organizations/{victim.Organization}"));
        Assert.Equal("Victim's Organization", organization.GetProperty("name").GetString());
    }
}
