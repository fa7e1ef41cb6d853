using AgentMarket.Catalog.SocialProof;
using AgentMarket.Tests.Buyer;
using AgentMarket.Tests.Infrastructure;

namespace AgentMarket.Tests.Catalog;

/// <summary>
/// Prices read in full wherever they are shown ("1,250 credits/run", never "1.3K"), as the playground and the chat say
/// them; success rates read as one percentage style everywhere ("75%", no space before the sign).
/// </summary>
public class PricesAndRatesOnPagesTests(AgentMarketApp app) : IClassFixture<AgentMarketApp>
{
    [Fact]
    public async Task PricesOfAThousandCreditsOrMore_ReadInFull_OnTheCardTheAgentPageItsPlaygroundAndTheConsole()
    {
        var fixedPrice = await app.PublishedAgentAsync(overrides: new() { ["pricing"] = new { model = "fixed_credits", credits_per_run = 1_250 } });
        var variablePrice = await app.PublishedAgentAsync(overrides: new() { ["pricing"] = new { model = "variable_credits", credits_min = 1_000, credits_max = 5_000 } });
        var member = await app.SignUpAsync();
        var operatorClient = await app.OperatorAsync();

        foreach (var (agent, price, eachRun) in new[]
        {
            (fixedPrice, "1,250 credits/run", "Each run costs 1,250 credits from your balance."),
            (variablePrice, "1,000–5,000 credits/run", "Each run costs 1,000–5,000 credits from your balance, depending on its length."),
        })
        {
            var card = await member.Client.HtmlAsync($"/?q={Uri.EscapeDataString(agent.Name)}");
            Assert.Contains(agent.Slug, card, StringComparison.Ordinal);
            Assert.Contains(price, card, StringComparison.Ordinal);
            var page = await member.Client.HtmlAsync($"/agents/{agent.Slug}");
            Assert.Contains(price, page, StringComparison.Ordinal);
            Assert.Equal(eachRun, PageForms.Marked(page, "data-trial-left"));
            Assert.Equal(price, PageForms.Marked(await operatorClient.HtmlAsync($"/admin/listings/{agent.ListingId}"), "data-price"));
            Assert.Contains(price, await operatorClient.HtmlAsync($"/admin/listings?state=all&q={agent.Slug}"), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task SuccessRates_ReadAsPercentages_WithoutASpaceBeforeTheSign_OnTheAgentPageAndTheSellersStats()
    {
        var agent = await app.PublishedAgentAsync();
        var buyer = await app.SignUpAsync();
        // Three of four runs succeed: 75%.
        await app.RecordRunAsync(agent.ListingId, buyer.OrganizationId);
        await app.RecordRunAsync(agent.ListingId, buyer.OrganizationId);
        await app.RecordRunAsync(agent.ListingId, buyer.OrganizationId);
        await app.RecordRunAsync(agent.ListingId, buyer.OrganizationId, RunOutcome.Failed);

        var page = await app.CreateClient().HtmlAsync($"/agents/{agent.Slug}");
        Assert.Contains("75% successful", page, StringComparison.Ordinal);
        var stats = await agent.Seller.Client.HtmlAsync($"/provider/agents/{agent.AgentId}/stats");
        Assert.Contains("<div class=\"value\">75%</div><div class=\"label\">Success rate</div>", stats, StringComparison.Ordinal);
    }
}
