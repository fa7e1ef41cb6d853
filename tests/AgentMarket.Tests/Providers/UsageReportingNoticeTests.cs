using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using AgentMarket.Gateway;
using AgentMarket.Platform.Data;
using AgentMarket.Providers;
using AgentMarket.Tests.Buyer;
using AgentMarket.Tests.Catalog;
using AgentMarket.Tests.Credits;
using AgentMarket.Tests.Gateway;
using AgentMarket.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

using static AgentMarket.Tests.Gateway.UsageReports;

namespace AgentMarket.Tests.Providers;

/// <summary>
/// Turning on <c>reports_usage</c> for an agent with subscribers is a change of how they are billed: like a price increase,
/// their notice comes first (ADR-158). And reported runs are the seller's word, not social proof.
/// </summary>
public class UsageReportingNoticeTests(GatewayApp app) : IClassFixture<GatewayApp>
{
    [Fact]
    public async Task TurningOnUsageReports_TellsSubscribers_AndTheirReportsAreRefusedUntilTheirNoticeEnds_WhileNewSubscribersAreChargedAtOnce()
    {
        var agent = await app.PromptAgentAsync(new { model = "fixed_credits", credits_per_run = 40 });
        var earlier = await app.SubscribedAsync(agent);
        var provider = await ProviderSecret.CreateAsync(agent.Seller.Client);

        var since = (await Http.ReadJsonAsync(await agent.Seller.Client.PatchAsJsonAsync($"/api/provider-agents/{agent.AgentId}/", new { reports_usage = true })))
            .GetProperty("reports_usage_since").GetDateTime();
        var chargedFrom = since + app.Services.GetRequiredService<IOptions<MarketplaceOptions>>().Value.PriceIncreaseNotice;

        // The subscriber is mailed the date, and their subscription shows it.
        var mail = await app.InScopeAsync(null, services => services.GetRequiredService<AppDbContext>().OutboxEmails
            .Where(e => e.Recipient == earlier.Buyer.Email && e.Subject.Contains("usage reports")).Select(e => e.Body).SingleAsync());
        Assert.Contains(chargedFrom.ToString("d MMMM yyyy", CultureInfo.InvariantCulture), mail, StringComparison.Ordinal);
        var config = await Http.ReadJsonAsync(await earlier.Buyer.Client.GetAsync($"/api/customer-agent-configs/{earlier.Config}/"));
        Assert.Equal(chargedFrom, config.GetProperty("reports_usage_charged_from").GetDateTime());
        Assert.Contains(chargedFrom.ToString("d MMMM yyyy", CultureInfo.InvariantCulture),
            PageForms.Marked(await earlier.Buyer.Client.HtmlAsync($"/my-agents/{earlier.Config}/configure"), "data-reports-usage-notice"), StringComparison.Ordinal);

        // Their reports are refused, and nothing is charged; a buyer who subscribed knowing it is charged at once.
        var balance = (await earlier.Buyer.BalanceAsync()).GetProperty("available").GetInt64();
        await Http.AssertProblemAsync(await PostSignedAsync(provider, Report(earlier.Config)), HttpStatusCode.Conflict, "usage_reporting_in_notice");
        Assert.Equal(balance, (await earlier.Buyer.BalanceAsync()).GetProperty("available").GetInt64());
        var later = await app.SubscribedAsync(agent);
        Assert.Equal(40, (await Http.ReadJsonAsync(await PostSignedAsync(provider, Report(later.Config)), HttpStatusCode.Created)).GetProperty("credits_charged").GetInt64());

        // Once the notice has ended, the earlier subscriber's reports are charged too (their session has expired by then).
        app.Clock.Advance(chargedFrom - app.Clock.GetUtcNow().UtcDateTime + TimeSpan.FromMinutes(1));
        Assert.Equal(40, (await Http.ReadJsonAsync(await PostSignedAsync(provider, Report(earlier.Config)), HttpStatusCode.Created)).GetProperty("credits_charged").GetInt64());
    }

    [Fact]
    public async Task ReportedRuns_AreNotCountedInTheListingsRuns()
    {
        var agent = await app.PromptAgentAsync();
        var provider = await ProviderSecret.CreateAsync(agent.Seller.Client);
        await Http.AssertStatusAsync(await agent.Seller.Client.PatchAsJsonAsync($"/api/provider-agents/{agent.AgentId}/", new { reports_usage = true }), HttpStatusCode.OK);
        var subscribed = await app.SubscribedAsync(agent);

        await Http.AssertStatusAsync(await PostSignedAsync(provider, Report(subscribed.Config)), HttpStatusCode.Created);
        await app.Services.GetRequiredService<RunProjector>().CaughtUpAsync(default);
        Assert.Equal(0, (await app.CardAsync(agent)).GetProperty("stats").GetProperty("runs").GetInt64());
        // A run through the gateway is counted.
        await Http.AssertStatusAsync(await subscribed.KeyClient.RunAsync(subscribed.Config, "hello"), HttpStatusCode.OK);
        await app.Services.GetRequiredService<RunProjector>().CaughtUpAsync(default);
        Assert.Equal(1, (await app.CardAsync(agent)).GetProperty("stats").GetProperty("runs").GetInt64());
    }

    Task<HttpResponseMessage> PostSignedAsync(ProviderSecret provider, object report) => app.PostSignedAsync(provider, report, app.Clock.GetUtcNow());
}
