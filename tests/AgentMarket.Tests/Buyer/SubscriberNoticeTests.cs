using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AgentMarket.Platform.Data;
using AgentMarket.Tests.Gateway;
using AgentMarket.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace AgentMarket.Tests.Buyer;

/// <summary>Subscribers are told, by email to their owners and by webhook event, when an agent they pay for stops, runs again, or gets dearer.</summary>
public class SubscriberNoticeTests(GatewayApp app) : IClassFixture<GatewayApp>
{
    [Fact]
    public async Task PausingTakingDownAndRaisingThePrice_TellEverySubscriber_ButNotTheProviderOrOthers()
    {
        var subscribed = await app.SubscribedAsync();
        var agent = subscribed.Agent;
        var bystander = await app.SignUpAsync();
        var seller = agent.Seller.Client;

        await Http.AssertStatusAsync(await seller.PostAsync($"/api/provider-agents/{agent.AgentId}/listing/pause", null), HttpStatusCode.OK);
        await Http.AssertStatusAsync(await seller.PostAsync($"/api/provider-agents/{agent.AgentId}/listing/unpause", null), HttpStatusCode.OK);
        var operatorClient = await app.OperatorAsync();
        await Http.AssertStatusAsync(await operatorClient.PostAsJsonAsync($"/api/admin/listings/{agent.ListingId}/take-down", new { reason = "Checking a complaint." }), HttpStatusCode.NoContent);
        await Http.AssertStatusAsync(await operatorClient.PostAsync($"/api/admin/listings/{agent.ListingId}/restore", null), HttpStatusCode.NoContent);
        await Http.AssertStatusAsync(await seller.PatchAsJsonAsync($"/api/provider-agents/{agent.AgentId}/listing/",
            new { pricing = new { model = "fixed_credits", credits_per_run = 9 } }), HttpStatusCode.OK);

        var (emails, events) = await OutboxAsync(subscribed.Buyer);
        Assert.Equal(
            [$"{agent.Name} has stopped running", $"{agent.Name} is running again", $"{agent.Name} has stopped running", $"{agent.Name} is running again"],
            emails.Take(4).Select(e => e.Subject).ToArray());
        Assert.Contains("its provider paused it", emails[0].Body, StringComparison.Ordinal);
        Assert.Contains("the marketplace took it down", emails[2].Body, StringComparison.Ordinal);
        Assert.StartsWith($"{agent.Name} will cost more from ", emails[4].Subject, StringComparison.Ordinal);
        Assert.Contains("to 9 credits/run", emails[4].Body, StringComparison.Ordinal);
        Assert.Equal(5, emails.Count);

        Assert.Equal(
            ["subscription.agent_unavailable", "subscription.agent_available", "subscription.agent_unavailable", "subscription.agent_available", "subscription.price_increase_scheduled"],
            events.Select(e => e.Type).ToArray());
        var unavailable = JsonDocument.Parse(events[2].Payload).RootElement;
        Assert.Equal(("taken_down", agent.ListingId), (unavailable.GetProperty("state").GetString(), unavailable.GetProperty("listing").GetProperty("uuid").GetGuid()));
        var increase = JsonDocument.Parse(events[4].Payload).RootElement;
        Assert.Equal(9, increase.GetProperty("new_pricing").GetProperty("credits_per_run").GetInt64());
        Assert.Equal("fixed_credits", increase.GetProperty("new_pricing").GetProperty("model").GetString());

        // The provider gets no subscriber's notice about its own listing, only the operator's decisions on it; an
        // organization that does not subscribe hears of nothing.
        Assert.Equal([$"Your listing “{agent.Name}” was taken down", $"Your listing “{agent.Name}” is restored"],
            (await OutboxAsync(agent.Seller)).Emails.Select(e => e.Subject).ToArray());
        Assert.Empty((await OutboxAsync(bystander)).Events);
    }

    async Task<(List<AgentMarket.Platform.Mail.OutboxEmail> Emails, List<AgentMarket.Platform.Events.OutboxEvent> Events)> OutboxAsync(TestUser user) =>
        await app.InScopeAsync(null, async services =>
        {
            var db = services.GetRequiredService<AppDbContext>();
            var emails = await db.OutboxEmails.AsNoTracking().Where(e => e.Recipient == user.Email && e.Subject != "Welcome").OrderBy(e => e.Id).ToListAsync();
            var events = await db.OutboxEvents.IgnoreQueryFilters().AsNoTracking()
                .Where(e => e.OrganizationId == user.OrganizationId && e.Type.StartsWith("subscription.agent") || e.OrganizationId == user.OrganizationId && e.Type == "subscription.price_increase_scheduled")
                .OrderBy(e => e.Id).ToListAsync();
            return (emails, events);
        });
}
