using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AgentMarket.Credits.Ledger;
using AgentMarket.Gateway;
using AgentMarket.Platform.Data;
using AgentMarket.Tests.Credits;
using AgentMarket.Tests.Gateway;
using AgentMarket.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace AgentMarket.Tests.Economics;

/// <summary>GET /api/providers/mine/economics/ after real runs through the gateway: the dashboard's money is the ledger's.</summary>
public class EconomicsApiTests(EconomicsApp app) : IClassFixture<EconomicsApp>
{
    const long Price = 100;

    async Task<Subscribed> AgentWithRunsAsync(int grantedRuns, int paidRuns)
    {
        var agent = await app.PromptAgentAsync(new { model = "fixed_credits", credits_per_run = Price });
        var subscribed = await app.SubscribedAsync(agent);
        for (var i = 0; i < grantedRuns; i++)
        {
            await Http.AssertStatusAsync(await subscribed.KeyClient.RunAsync(subscribed.Config, $"granted {i}"), HttpStatusCode.OK);
        }
        if (paidRuns > 0)
        {
            // Spend what is left of the free credits, then pay with purchased ones.
            var balance = await new LedgerDriver(app).BalanceAsync(subscribed.Buyer.OrganizationId);
            await new LedgerDriver(app).PurchaseAsync(subscribed.Buyer.OrganizationId, paidRuns * Price, $"test-purchase:{Guid.NewGuid()}");
            Assert.True(balance.Granted < Price, "the granted credits are spent by the runs before");
        }
        for (var i = 0; i < paidRuns; i++)
        {
            await Http.AssertStatusAsync(await subscribed.KeyClient.RunAsync(subscribed.Config, $"paid {i}"), HttpStatusCode.OK);
        }
        return subscribed;
    }

    async Task<List<AgentRun>> RunsAsync(Guid listing) => await app.InScopeAsync(null, services =>
        services.GetRequiredService<AppDbContext>().AgentRuns.AsNoTracking().Where(r => r.ListingId == listing).ToListAsync());

    [Fact]
    public async Task Dashboard_EarningsAndCommission_EqualTheLedger()
    {
        var subscribed = await AgentWithRunsAsync(grantedRuns: 3, paidRuns: 2);
        var seller = subscribed.Agent.Seller;

        var report = await Http.ReadJsonAsync(await seller.Client.GetAsync("/api/providers/mine/economics/"));

        var provider = (await Http.ReadJsonAsync(await seller.Client.GetAsync("/api/providers/mine"))).GetProperty("uuid").GetGuid();
        var earnings = await new LedgerDriver(app).EarningsAsync(provider);
        var runs = await RunsAsync(subscribed.Agent.ListingId);
        var totals = report.GetProperty("totals");
        Assert.Equal(runs.Count, totals.GetProperty("runs").GetInt64());
        Assert.Equal(runs.Sum(r => r.CreditsCharged), totals.GetProperty("gross_credits").GetInt64());
        Assert.Equal(earnings, totals.GetProperty("earnings_credits").GetInt64());
        Assert.Equal(earnings, totals.GetProperty("earnings_usd_cents").GetInt64());
        Assert.Equal(runs.Sum(r => r.CreditsCharged) - earnings, totals.GetProperty("commission_credits").GetInt64());
        Assert.True(totals.GetProperty("promotional_credits").GetInt64() > 0, "the first runs were paid with granted credits");
        Assert.Equal(1, totals.GetProperty("unique_customers").GetInt32());
        Assert.Equal(1.0, totals.GetProperty("success_rate").GetDouble());
        Assert.Equal(runs.Sum(r => r.InputTokens), totals.GetProperty("input_tokens").GetInt64());
        Assert.NotEqual(JsonValueKind.Null, totals.GetProperty("latency_p95_ms").ValueKind);
        var expectedCost = runs.Sum(r => r.InputTokens * EconomicsApp.InputPrice + r.OutputTokens * EconomicsApp.OutputPrice) / 1_000_000m;
        Assert.Equal(expectedCost, totals.GetProperty("model_cost_credits").GetDecimal());

        var buyerName = await app.InScopeAsync(null, services => services.GetRequiredService<AppDbContext>().Organizations
            .Where(o => o.Id == subscribed.Buyer.OrganizationId).Select(o => o.Name).SingleAsync());
        var top = Assert.Single(report.GetProperty("top_customers").EnumerateArray());
        Assert.Equal(buyerName, top.GetProperty("organization_name").GetString());
        Assert.False(top.TryGetProperty("uuid", out _), "top customers are named, never identified");

        var rows = report.GetProperty("rows").EnumerateArray().ToList();
        Assert.Equal(30, rows.Count);
        Assert.Equal(earnings, rows.Sum(r => r.GetProperty("earnings_credits").GetInt64()));
    }

    [Fact]
    public async Task Dashboard_ByAgent_AndCsv()
    {
        var subscribed = await AgentWithRunsAsync(grantedRuns: 2, paidRuns: 0);
        var seller = subscribed.Agent.Seller;

        var byAgent = await Http.ReadJsonAsync(await seller.Client.GetAsync("/api/providers/mine/economics/?group_by=agent"));
        var row = Assert.Single(byAgent.GetProperty("rows").EnumerateArray());
        Assert.Equal(subscribed.Agent.ListingId, row.GetProperty("listing").GetGuid());
        Assert.Equal(subscribed.Agent.Name, row.GetProperty("agent").GetString());
        Assert.Equal(2, row.GetProperty("runs").GetInt64());

        var csvResponse = await seller.Client.GetAsync("/api/providers/mine/economics/?group_by=agent&format=csv");
        await Http.AssertStatusAsync(csvResponse, HttpStatusCode.OK);
        Assert.Equal("text/csv", csvResponse.Content.Headers.ContentType?.MediaType);
        var lines = (await csvResponse.Content.ReadAsStringAsync()).TrimEnd('\n').Split('\n');
        Assert.StartsWith("listing,agent,runs,", lines[0], StringComparison.Ordinal);
        Assert.Contains($"\"{subscribed.Agent.Name}\",2,2,{row.GetProperty("gross_credits").GetInt64()},{row.GetProperty("earnings_credits").GetInt64()},", lines[1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task EarningsPage_ShowsTheEarnings_ChartsAndTopCustomer()
    {
        var subscribed = await AgentWithRunsAsync(grantedRuns: 2, paidRuns: 0);
        var report = await Http.ReadJsonAsync(await subscribed.Agent.Seller.Client.GetAsync("/api/providers/mine/economics/"));
        var earnings = report.GetProperty("totals").GetProperty("earnings_credits").GetInt64();

        var page = await subscribed.Agent.Seller.Client.GetAsync("/provider/earnings");

        await Http.AssertStatusAsync(page, HttpStatusCode.OK);
        var html = await page.Content.ReadAsStringAsync();
        Assert.Contains((earnings / 100m).ToString("$#,0.00", CultureInfo.InvariantCulture), html, StringComparison.Ordinal);
        Assert.Contains("data-chart=\"earnings-per-day\"", html, StringComparison.Ordinal);
        Assert.Contains("data-chart=\"earnings-per-agent\"", html, StringComparison.Ordinal);
        // The per-agent table counts credits while the cards above it show dollars: its headers say so.
        var perAgent = System.Text.RegularExpressions.Regex.Match(html, "<th scope=\"col\">Agent</th><th scope=\"col\" class=\"num\">Runs</th>.*?</thead>").Value;
        foreach (var column in new[] { "Revenue", "Commission", "Earnings", "Model cost per run" })
        {
            Assert.Contains($">{column} (credits)</th>", perAgent, StringComparison.Ordinal);
        }
        Assert.Contains(report.GetProperty("top_customers")[0].GetProperty("organization_name").GetString()!, WebUtility.HtmlDecode(html), StringComparison.Ordinal);
    }

    [Fact]
    public async Task PricingHint_WarnsWhenThePriceIsBelowTheMeasuredModelCost()
    {
        // One credit per run cannot pay for a model priced at thousands of credits per thousand tokens.
        var agent = await app.PromptAgentAsync(new { model = "fixed_credits", credits_per_run = 1 });
        var subscribed = await app.SubscribedAsync(agent);
        await Http.AssertStatusAsync(await subscribed.KeyClient.RunAsync(subscribed.Config, "costly"), HttpStatusCode.OK);

        var report = await Http.ReadJsonAsync(await agent.Seller.Client.GetAsync("/api/providers/mine/economics/"));

        var run = Assert.Single(await RunsAsync(agent.ListingId));
        var cost = Math.Round((run.InputTokens * EconomicsApp.InputPrice + run.OutputTokens * EconomicsApp.OutputPrice) / 1_000_000m, 4);
        var hint = Assert.Single(report.GetProperty("pricing_hints").EnumerateArray());
        Assert.Equal(1, hint.GetProperty("runs_measured").GetInt32());
        Assert.Equal(cost, hint.GetProperty("average_cost_credits").GetDecimal());
        Assert.Equal(cost > 1, hint.GetProperty("below_cost").GetBoolean());
        Assert.True(cost > 1, "the fake model's token counts at these prices cost more than a credit");
    }

    [Fact]
    public async Task Dashboard_RefusesBadParameters_AndOrganizationsThatDoNotSell()
    {
        var subscribed = await AgentWithRunsAsync(grantedRuns: 0, paidRuns: 0);
        var seller = subscribed.Agent.Seller.Client;
        await Http.AssertProblemAsync(await seller.GetAsync("/api/providers/mine/economics/?from=yesterday"), HttpStatusCode.BadRequest, "validation_failed");
        await Http.AssertProblemAsync(await seller.GetAsync("/api/providers/mine/economics/?group_by=key"), HttpStatusCode.BadRequest, "validation_failed");
        await Http.AssertProblemAsync(await seller.GetAsync("/api/providers/mine/economics/?from=2026-02-01&to=2026-01-01"), HttpStatusCode.BadRequest, "validation_failed");
        await Http.AssertProblemAsync(await seller.GetAsync("/api/providers/mine/economics/?from=2024-01-01&to=2026-01-01"), HttpStatusCode.BadRequest, "validation_failed");
        // The buyer's organization sells nothing.
        await Http.AssertProblemAsync(await subscribed.Buyer.Client.GetAsync("/api/providers/mine/economics/"), HttpStatusCode.NotFound, "not_found");
    }

    [Fact]
    public async Task GrantedCreditRuns_Pay_ThePromotionsAccountPaysTheProviderAsAPaidRun()
    {
        var subscribed = await AgentWithRunsAsync(grantedRuns: 1, paidRuns: 0);
        var provider = (await Http.ReadJsonAsync(await subscribed.Agent.Seller.Client.GetAsync("/api/providers/mine"))).GetProperty("uuid").GetGuid();
        var fee = (Price * 2_000 + 5_000) / 10_000; // the default 20% commission, rounded half up
        Assert.Equal(Price - fee, await new LedgerDriver(app).EarningsAsync(provider));
    }
}

/// <summary><c>Economics:GrantedCreditRuns = reduced:50</c> reaches the ledger's split.</summary>
public class ReducedGrantedCreditRunsTests(ReducedGrantsApp app) : IClassFixture<ReducedGrantsApp>
{
    [Fact]
    public async Task GrantedRun_EarnsTheReducedShare_AndTheDashboardSaysSo()
    {
        const long price = 100;
        var agent = await app.PromptAgentAsync(new { model = "fixed_credits", credits_per_run = price });
        var subscribed = await app.SubscribedAsync(agent);
        await Http.AssertStatusAsync(await subscribed.KeyClient.RunAsync(subscribed.Config, "on free credits"), HttpStatusCode.OK);

        var report = await Http.ReadJsonAsync(await agent.Seller.Client.GetAsync("/api/providers/mine/economics/"));

        var fee = (price * 2_000 + 5_000) / 10_000;
        var expected = (price - fee) * ReducedGrantsApp.Percent / 100;
        Assert.Equal(expected, report.GetProperty("totals").GetProperty("earnings_credits").GetInt64());
        Assert.Equal(price - expected, report.GetProperty("totals").GetProperty("commission_credits").GetInt64());
        Assert.Equal($"reduced:{ReducedGrantsApp.Percent}", report.GetProperty("granted_credit_runs").GetString());
    }
}
