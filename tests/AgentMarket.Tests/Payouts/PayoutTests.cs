using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AgentMarket.Platform.Data;
using AgentMarket.Platform.Tenancy;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using AgentMarket.Tests.Buyer;
using AgentMarket.Tests.Credits;
using AgentMarket.Tests.Infrastructure;
using AgentMarket.Tests.Webhooks;

namespace AgentMarket.Tests.Payouts;

/// <summary>The monthly payout run through the operator's route, statements, and manual payouts marked paid.</summary>
public class PayoutTests(AgentMarketApp app) : IClassFixture<AgentMarketApp>
{
    static JsonElement PayoutOf(JsonElement run, TestProvider provider) =>
        run.GetProperty("payouts").EnumerateArray().Single(p => p.GetProperty("provider").GetGuid() == provider.Provider);

    [Fact]
    public async Task ConcurrentRuns_OfOnePeriod_MakeOnePayout_OfExactlyTheAvailableEarnings()
    {
        var provider = await app.ProviderAsync();
        var earned = await app.EarnAsync(provider, 1_500) + await app.EarnAsync(provider, 1_700);
        var period = app.CurrentPeriod();
        app.AdvanceToNextMonth();
        var operators = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => app.OperatorAsync()));

        var runs = await Task.WhenAll(operators.Select(o => o.RunPayoutsAsync(period)));

        var payouts = runs.Select(r => PayoutOf(r, provider)).ToList();
        Assert.Single(payouts.Select(p => p.GetProperty("uuid").GetGuid()).Distinct());
        Assert.All(payouts, p => Assert.Equal(earned, p.GetProperty("credits").GetInt64()));
        Assert.Equal(earned, payouts[0].GetProperty("amount_cents").GetInt64());
        Assert.Equal(0, await new LedgerDriver(app).EarningsAsync(provider.Provider));
        Assert.Equal(earned, await PaidOutAsync(provider));
        Assert.True((await new LedgerDriver(app).CheckAsync()).Ok);

        var mine = await Http.ReadJsonAsync(await (await provider.ClientAsync()).GetAsync("/api/providers/mine/payouts/"));
        var listed = Assert.Single(mine.GetProperty("results").EnumerateArray());
        Assert.Equal("pending", listed.GetProperty("status").GetString());
        Assert.Equal("manual", listed.GetProperty("method").GetString());
    }

    [Fact]
    public async Task Payout_PaysOnlyTheEarningsOfItsPeriod_AndCarriesSmallAmountsOver()
    {
        var provider = await app.ProviderAsync();
        var first = app.CurrentPeriod();
        var small = await app.EarnAsync(provider, 1_000); // below the $20 minimum
        app.AdvanceToNextMonth();
        var operatorClient = await app.OperatorAsync();
        var firstRun = await operatorClient.RunPayoutsAsync(first);
        Assert.DoesNotContain(firstRun.GetProperty("payouts").EnumerateArray(), p => p.GetProperty("provider").GetGuid() == provider.Provider);

        var second = app.CurrentPeriod();
        var more = await app.EarnAsync(provider, 2_000);
        app.AdvanceToNextMonth();
        var later = await app.EarnAsync(provider, 3_000); // earned after the period: not in its payout

        operatorClient = await app.OperatorAsync();
        var payout = PayoutOf(await operatorClient.RunPayoutsAsync(second), provider);

        Assert.Equal(small + more, payout.GetProperty("credits").GetInt64());
        Assert.Equal(later, await new LedgerDriver(app).EarningsAsync(provider.Provider));
        // Running the earlier month again pays nothing twice.
        var again = await operatorClient.RunPayoutsAsync(first);
        Assert.DoesNotContain(again.GetProperty("payouts").EnumerateArray(), p => p.GetProperty("provider").GetGuid() == provider.Provider);
        Assert.Equal(small + more, await PaidOutAsync(provider));

        var statement = await Http.ReadJsonAsync(await (await provider.ClientAsync()).GetAsync($"/api/providers/mine/payouts/{payout.GetProperty("uuid").GetGuid()}/"));
        var lines = statement.GetProperty("lines").EnumerateArray().ToList();
        Assert.NotEmpty(lines);
        Assert.Equal(small + more, lines.Sum(l => l.GetProperty("net_credits").GetInt64()));
        Assert.Equal(small + more, statement.GetProperty("totals").GetProperty("net_credits").GetInt64());
    }

    [Fact]
    public async Task ManualPayout_IsMarkedPaidByAnOperator_WithAReference()
    {
        var provider = await app.ProviderAsync();
        await app.EarnAsync(provider, 2_600);
        var period = app.CurrentPeriod();
        app.AdvanceToNextMonth();
        var operatorClient = await app.OperatorAsync();
        var uuid = PayoutOf(await operatorClient.RunPayoutsAsync(period), provider).GetProperty("uuid").GetGuid();

        // Only operators: the provider itself gets 404, like any unknown route.
        await Http.AssertProblemAsync(await (await provider.ClientAsync()).PostAsJsonAsync($"/api/admin/payouts/{uuid}/mark-paid/", new { reference = "self" }), HttpStatusCode.NotFound, "not_found");
        await Http.AssertProblemAsync(await (await provider.ClientAsync()).PostAsJsonAsync("/api/admin/payouts/run/", new { period }), HttpStatusCode.NotFound, "not_found");

        var paid = await Http.ReadJsonAsync(await operatorClient.PostAsJsonAsync($"/api/admin/payouts/{uuid}/mark-paid/", new { reference = "BANK-REF-1" }));
        Assert.Equal("paid", paid.GetProperty("status").GetString());
        Assert.Equal("BANK-REF-1", paid.GetProperty("reference").GetString());
        await Http.AssertStatusAsync(await operatorClient.PostAsJsonAsync($"/api/admin/payouts/{uuid}/mark-paid/", new { reference = "BANK-REF-1" }), HttpStatusCode.OK);
        await Http.AssertProblemAsync(await operatorClient.PostAsJsonAsync($"/api/admin/payouts/{uuid}/mark-paid/", new { reference = "BANK-REF-2" }), HttpStatusCode.Conflict, "payout_not_pending");
        await Http.AssertProblemAsync(await operatorClient.PostAsJsonAsync($"/api/admin/payouts/{Guid.NewGuid()}/mark-paid/", new { reference = "x" }), HttpStatusCode.NotFound, "not_found");

        // Created and paid once each in the audit log, in the provider's organization; one payout.paid event for its webhooks.
        foreach (var action in new[] { "payout.created", "payout.paid" })
        {
            var audit = await Http.ReadJsonAsync(await operatorClient.GetAsync($"/api/admin/audit/?action={action}&target_type=payout&target={uuid}"));
            var entry = Assert.Single(audit.GetProperty("items").EnumerateArray());
            Assert.Equal(provider.Seller.OrganizationId, entry.GetProperty("organization").GetGuid());
        }
        await using (var scope = app.Services.CreateAsyncScope())
        {
            scope.ServiceProvider.GetRequiredService<CurrentTenant>().EnterSystemScope();
            var events = await scope.ServiceProvider.GetRequiredService<AppDbContext>().OutboxEvents
                .Where(e => e.Type == "payout.paid" && e.OrganizationId == provider.Seller.OrganizationId).ToListAsync();
            var paidEvent = JsonDocument.Parse(Assert.Single(events).Payload).RootElement;
            Assert.Equal(uuid, paidEvent.GetProperty("payout").GetGuid());
            Assert.Equal("BANK-REF-1", paidEvent.GetProperty("reference").GetString());
            ListedPayloadFields.AssertListed("payout.paid", paidEvent);
        }

        var mine = await Http.ReadJsonAsync(await (await provider.ClientAsync()).GetAsync($"/api/providers/mine/payouts/{uuid}/"));
        Assert.Equal("paid", mine.GetProperty("status").GetString());
        var statementPage = await (await provider.ClientAsync()).GetAsync($"/provider/payouts/{uuid}");
        await Http.AssertStatusAsync(statementPage, HttpStatusCode.OK);
        Assert.Contains("BANK-REF-1", await statementPage.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var listPage = await (await provider.ClientAsync()).GetAsync("/provider/payouts");
        Assert.Contains($"/provider/payouts/{uuid}", await listPage.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var stranger = await app.ProviderAsync();
        await Http.AssertStatusAsync(await stranger.Seller.Client.GetAsync($"/provider/payouts/{uuid}"), HttpStatusCode.NotFound);
        var listed = await Http.ReadJsonAsync(await operatorClient.GetAsync("/api/admin/payouts/?status=paid"));
        Assert.Contains(listed.GetProperty("results").EnumerateArray(), p => p.GetProperty("uuid").GetGuid() == uuid);
    }

    [Fact]
    public async Task TheOperatorsConsole_RunsAMonth_AndMarksAManualPayoutPaid_WithItsReference()
    {
        const string Page = "/admin/payouts";
        var provider = await app.ProviderAsync();
        await app.EarnAsync(provider, 2_600);
        var period = app.CurrentPeriod();
        app.AdvanceToNextMonth();
        var operatorClient = await app.OperatorAsync();
        await (await provider.ClientAsync()).HtmlAsync(Page, HttpStatusCode.NotFound);
        Assert.Contains("That month has not ended yet", await (await operatorClient.SubmitAsync(Page, "run-payouts", new() { ["period"] = app.CurrentPeriod() })).HtmlAsync(),
            StringComparison.Ordinal);

        var ran = PageForms.AssertRedirect(await operatorClient.SubmitAsync(Page, "run-payouts", new() { ["period"] = period }), $"{Page}?status=all&period={period}&done=run&created=");
        var listed = await operatorClient.HtmlAsync(ran);
        Assert.Matches(@"Payout run done: [1-9]\d* created", listed);
        var uuid = PayoutOf(await operatorClient.RunPayoutsAsync(period), provider).GetProperty("uuid").GetGuid();
        Assert.Contains($"data-payout=\"{uuid}\"", listed, StringComparison.Ordinal);
        var pending = await operatorClient.HtmlAsync(Page);
        Assert.Contains($"name=\"reference-{uuid}\"", pending, StringComparison.Ordinal);

        var withoutReference = await operatorClient.SubmitFromPageAsync(Page, pending, "payout-action", new() { ["paid"] = uuid.ToString() });
        Assert.Contains("Enter the payment's reference", await withoutReference.HtmlAsync(), StringComparison.Ordinal);
        PageForms.AssertRedirect(await operatorClient.SubmitFromPageAsync(Page, pending, "payout-action",
            new() { ["paid"] = uuid.ToString(), [$"reference-{uuid}"] = "BANK-PAGE-7" }), $"{Page}?done=paid");
        var mine = await Http.ReadJsonAsync(await (await provider.ClientAsync()).GetAsync($"/api/providers/mine/payouts/{uuid}/"));
        Assert.Equal(("paid", "BANK-PAGE-7"), (mine.GetProperty("status").GetString(), mine.GetProperty("reference").GetString()));
        Assert.Contains("BANK-PAGE-7", await operatorClient.HtmlAsync($"{Page}?status=paid&period={period}"), StringComparison.Ordinal);

        // The same button again from the page read before: already paid, so nothing changes.
        var again = await operatorClient.SubmitFromPageAsync(Page, pending, "payout-action", new() { ["paid"] = uuid.ToString(), [$"reference-{uuid}"] = "BANK-PAGE-8" });
        Assert.Contains("no longer waiting to be paid", await again.HtmlAsync(), StringComparison.Ordinal);
        var audit = await Http.ReadJsonAsync(await operatorClient.GetAsync($"/api/admin/audit/?action=payout.paid&target_type=payout&target={uuid}"));
        Assert.Single(audit.GetProperty("items").EnumerateArray());
    }

    [Fact]
    public async Task Payouts_OfAnotherOrganization_AreNotFound()
    {
        var provider = await app.ProviderAsync();
        await app.EarnAsync(provider, 2_500);
        var period = app.CurrentPeriod();
        app.AdvanceToNextMonth();
        var uuid = PayoutOf(await (await app.OperatorAsync()).RunPayoutsAsync(period), provider).GetProperty("uuid").GetGuid();
        var other = await app.ProviderAsync();

        await Http.AssertProblemAsync(await (await other.ClientAsync()).GetAsync($"/api/providers/mine/payouts/{uuid}/"), HttpStatusCode.NotFound, "not_found");
        var theirs = await Http.ReadJsonAsync(await (await other.ClientAsync()).GetAsync("/api/providers/mine/payouts/"));
        Assert.Empty(theirs.GetProperty("results").EnumerateArray());
        var buyer = await app.SignUpAsync();
        await Http.AssertProblemAsync(await buyer.Client.GetAsync("/api/providers/mine/payouts/"), HttpStatusCode.NotFound, "not_found");
    }

    [Fact]
    public async Task RunAndSettings_RefuseWhatTheyCannotDo()
    {
        var operatorClient = await app.OperatorAsync();
        await Http.AssertProblemAsync(await operatorClient.PostAsJsonAsync("/api/admin/payouts/run/", new { period = "October" }), HttpStatusCode.BadRequest, "validation_failed");
        await Http.AssertProblemAsync(await operatorClient.PostAsJsonAsync("/api/admin/payouts/run/", new { period = app.CurrentPeriod() }), HttpStatusCode.Conflict, "period_not_ended");

        var provider = await app.ProviderAsync();
        var settings = await Http.ReadJsonAsync(await (await provider.ClientAsync()).GetAsync("/api/providers/mine/payout-settings/"));
        Assert.Equal("manual", settings.GetProperty("method").GetString());
        Assert.Equal(settings.GetProperty("minimum_floor_cents").GetInt64(), settings.GetProperty("minimum_cents").GetInt64());
        var floor = settings.GetProperty("minimum_floor_cents").GetInt64();
        await Http.AssertProblemAsync(await (await provider.ClientAsync()).PutAsJsonAsync("/api/providers/mine/payout-settings/", new { minimum_cents = floor - 1 }), HttpStatusCode.BadRequest, "validation_failed");
        await Http.AssertProblemAsync(await (await provider.ClientAsync()).PutAsJsonAsync("/api/providers/mine/payout-settings/", new { method = "stripe_connect" }), HttpStatusCode.Conflict, "stripe_account_required");
        var raised = await Http.ReadJsonAsync(await (await provider.ClientAsync()).PutAsJsonAsync("/api/providers/mine/payout-settings/", new { minimum_cents = floor * 3 }));
        Assert.Equal(floor * 3, raised.GetProperty("minimum_cents").GetInt64());
        await Http.AssertProblemAsync(await (await provider.ClientAsync()).PostAsync("/api/stripe/connect/", null), HttpStatusCode.Conflict, "stripe_not_configured");
    }

    [Fact]
    public async Task ThePageRefusesAMinimumBeyondTheApisRange_WithAFormError()
    {
        var provider = await app.ProviderAsync();
        var client = await provider.ClientAsync();
        var before = await Http.ReadJsonAsync(await client.GetAsync("/api/providers/mine/payout-settings/"));
        // The largest minimum the API takes, in dollars; one dollar more, and an amount whose cents overflow a long.
        var largest = await Http.ReadJsonAsync(await client.PutAsJsonAsync("/api/providers/mine/payout-settings/", new { minimum_cents = AgentMarket.Payouts.PayoutSettings.MaximumMinimumCents }));
        await Http.AssertProblemAsync(await client.PutAsJsonAsync("/api/providers/mine/payout-settings/", new { minimum_cents = largest.GetProperty("minimum_cents").GetInt64() + 1 }), HttpStatusCode.BadRequest, "validation_failed");
        await Http.ReadJsonAsync(await client.PutAsJsonAsync("/api/providers/mine/payout-settings/", new { minimum_cents = before.GetProperty("minimum_cents").GetInt64() }));

        foreach (var usd in new[] { (largest.GetProperty("minimum_cents").GetInt64() / 100 + 1).ToString(System.Globalization.CultureInfo.InvariantCulture), "100000000000000000000000" })
        {
            var page = await client.SubmitAsync("/provider/payouts", "payout-minimum", new() { ["MinimumUsd"] = usd });
            await Http.AssertStatusAsync(page, HttpStatusCode.OK);
            Assert.Contains("Enter a minimum payout from", await page.HtmlAsync(), StringComparison.Ordinal);
        }
        var after = await Http.ReadJsonAsync(await client.GetAsync("/api/providers/mine/payout-settings/"));
        Assert.Equal(before.GetProperty("minimum_cents").GetInt64(), after.GetProperty("minimum_cents").GetInt64());
    }

    static async Task<long> PaidOutAsync(TestProvider provider)
    {
        var list = await Http.ReadJsonAsync(await (await provider.ClientAsync()).GetAsync("/api/providers/mine/payouts/"));
        return list.GetProperty("results").EnumerateArray().Sum(p => p.GetProperty("credits").GetInt64());
    }
}
