using System.Net;
using System.Net.Http.Json;
using AgentMarket.Identity;
using AgentMarket.Platform.Data;
using AgentMarket.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace AgentMarket.Tests.Identity;

/// <summary>A sign-in cookie's operator claim follows the user's flag: taking operator access away ends the cookies that carry it.</summary>
public class OperatorClaimTests(AgentMarketApp app) : IClassFixture<AgentMarketApp>
{
    [Fact]
    public async Task AnOperatorWhoseAccessIsTakenAway_LosesTheSessionThatCarriedIt()
    {
        var user = await app.SignUpAsync();
        await SetOperatorAsync(user.UserId, true);
        using var client = app.CreateClient();
        await Http.AssertStatusAsync(await client.PostAsJsonAsync("/api/auth/signin", new { email = user.Email, password = user.Password }), HttpStatusCode.OK);
        await Http.AssertStatusAsync(await client.GetAsync("/api/admin/audit/"), HttpStatusCode.OK);

        await SetOperatorAsync(user.UserId, false);
        // Other replicas (and this one, unless told) notice within the cache time of session checks.
        app.Clock.Advance(SessionStamps.CacheFor + TimeSpan.FromSeconds(1));
        try
        {
            var ended = await Http.AssertProblemAsync(await client.GetAsync("/api/me"), HttpStatusCode.Unauthorized, "unauthorized");
            Assert.Equal(SessionStamps.OperatorChangedMessage, ended.GetProperty("detail").GetString());
            // Operator routes answer others as if they did not exist.
            await Http.AssertStatusAsync(await client.GetAsync("/api/admin/audit/"), HttpStatusCode.NotFound);
        }
        finally
        {
            app.Clock.Advance(-(SessionStamps.CacheFor + TimeSpan.FromSeconds(1)));
        }
    }

    Task<int> SetOperatorAsync(Guid userId, bool isOperator) => app.InScopeAsync(null, services =>
        services.GetRequiredService<AppDbContext>().Users.Where(u => u.Id == userId).ExecuteUpdateAsync(s => s.SetProperty(u => u.IsOperator, isOperator)));
}
