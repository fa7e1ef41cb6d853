using System.Net;
using System.Net.Http.Json;
using AgentMarket.Platform.Data;
using AgentMarket.Subscriptions.Jobs;
using AgentMarket.Tests.Gateway;
using AgentMarket.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace AgentMarket.Tests.Catalog;

/// <summary>
/// A seller who goes back on a price increase within its notice (ADR-152): the subscribers the notice kept on the old
/// terms stay on them, are not charged the abandoned monthly price nor told the revert costs more.
/// </summary>
public class PriceRevertTests(GatewayApp app) : IClassFixture<GatewayApp>
{
    [Fact]
    public async Task RevertingAPendingIncrease_KeepsEarlierSubscribersOnTheirTerms_WithNoChargeAndNoNotice()
    {
        var agent = await app.PromptAgentAsync(new { model = "fixed_credits", credits_per_run = 10 });
        var subscribed = await app.SubscribedAsync(agent);
        var listing = $"/api/provider-agents/{agent.AgentId}/listing/";
        var jobs = app.Services.GetRequiredService<SubscriptionCharges>();
        // A token outlives the sign-in session across the weeks the clock moves.
        var buyer = app.BearerClient(await subscribed.Buyer.CreateTokenAsync("pricing", DateTime.UtcNow.AddDays(60)));
        buyer.DefaultRequestHeaders.Add("X-Organization", subscribed.Buyer.OrganizationId.ToString());

        await Http.AssertStatusAsync(await agent.Seller.Client.PatchAsJsonAsync(listing, new { pricing = new { model = "subscription", credits_per_run = 1000 } }), HttpStatusCode.OK);
        Assert.Equal(1, await PriceNoticesAsync(subscribed.Buyer.Email));
        app.Clock.Advance(TimeSpan.FromDays(13));
        await Http.AssertStatusAsync(await agent.Seller.Client.PatchAsJsonAsync(listing, new { pricing = new { model = "fixed_credits", credits_per_run = 10 } }), HttpStatusCode.OK);
        Assert.Equal(1, await PriceNoticesAsync(subscribed.Buyer.Email));

        app.Clock.Advance(TimeSpan.FromDays(2));
        await jobs.RunOnceAsync(CancellationToken.None);
        var config = await Http.ReadJsonAsync(await buyer.GetAsync($"/api/customer-agent-configs/{subscribed.Config}/"));
        Assert.Equal("fixed_credits", config.GetProperty("pricing").GetProperty("model").GetString());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, config.GetProperty("renews_at").ValueKind);
        var run = await Http.ReadJsonAsync(await subscribed.KeyClient.RunAsync(subscribed.Config, "Still per run?"));
        Assert.Equal(10, run.GetProperty("credits_charged").GetInt64());
    }

    Task<int> PriceNoticesAsync(string email) =>
        app.InScopeAsync(null, services => services.GetRequiredService<AppDbContext>().OutboxEmails
            .CountAsync(m => m.Recipient == email && m.Subject.Contains("will cost more")));
}
