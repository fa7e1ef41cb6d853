using System.Net;
using System.Net.Http.Json;
using AgentMarket.Tests.Gateway;
using AgentMarket.Tests.Infrastructure;

namespace AgentMarket.Tests.Catalog;

/// <summary>Who may review an agent (SPEC §2): an organization that completed a run of it as a customer, not as a free try.</summary>
public class ReviewEligibilityTests(GatewayApp app) : IClassFixture<GatewayApp>
{
    [Fact]
    public async Task AFreePlaygroundTry_DoesNotEntitleAReview_ButARunAsASubscriberDoes()
    {
        var agent = await app.PromptAgentAsync(new { model = "free" });
        var tryer = await app.SignUpAsync();
        await Http.AssertStatusAsync(await tryer.Client.PostAsJsonAsync($"/api/marketplace/agents/{agent.Slug}/try/", new { input = "hello" }), HttpStatusCode.OK);

        await Http.AssertProblemAsync(await tryer.Client.PostAsJsonAsync($"/api/marketplace/agents/{agent.ListingId}/reviews/", new { rating = 1, text = "Tried it once." }),
            HttpStatusCode.Forbidden, "review_requires_run");

        var subscribed = await app.SubscribedAsync(agent);
        await Http.AssertStatusAsync(await subscribed.KeyClient.RunAsync(subscribed.Config, "hello"), HttpStatusCode.OK);
        await Http.AssertStatusAsync(await subscribed.Buyer.Client.PostAsJsonAsync($"/api/marketplace/agents/{agent.ListingId}/reviews/", new { rating = 5, text = "Use it daily." }),
            HttpStatusCode.Created);
    }

    [Fact]
    public async Task APlaygroundRunPaidFromCredits_EntitlesAReview()
    {
        var agent = await app.PromptAgentAsync();
        var user = await app.SignUpAsync();
        var tried = await Http.ReadJsonAsync(await user.Client.PostAsJsonAsync($"/api/marketplace/agents/{agent.Slug}/try/", new { input = "hello" }));
        Assert.True(tried.GetProperty("credits_charged").GetInt64() > 0);

        await Http.AssertStatusAsync(await user.Client.PostAsJsonAsync($"/api/marketplace/agents/{agent.ListingId}/reviews/", new { rating = 4, text = "Worth the credits." }),
            HttpStatusCode.Created);
    }
}
