using System.Net;
using System.Net.Http.Json;
using AgentMarket.Credits.Jobs;
using AgentMarket.Platform.Data;
using AgentMarket.Tests.Buyer;
using AgentMarket.Tests.Credits;
using AgentMarket.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace AgentMarket.Tests.Payments;

/// <summary>
/// Refunds are recorded with the payment's new total before their credits are taken back (ADR-135): concurrent refunds
/// cannot together refund more than the payment, and one interrupted before its credits moved is finished by the credit jobs.
/// </summary>
public class RefundRecordTests(AgentMarketApp app) : IClassFixture<AgentMarketApp>
{
    static Task RunJobsAsync(AgentMarketApp app) => app.Services.GetRequiredService<CreditJobs>().RunOnceAsync(CancellationToken.None);

    static async Task<long> RefundedCentsAsync(HttpClient operatorClient, TestUser user, Guid payment)
    {
        var payments = await Http.ReadJsonAsync(await operatorClient.GetAsync($"/api/admin/payments/?organization={user.OrganizationId}"));
        return payments.GetProperty("items").EnumerateArray().Single(p => p.GetProperty("uuid").GetGuid() == payment).GetProperty("refunded_cents").GetInt64();
    }

    /// <summary>The payment's refund records: how many, their cents, and how many are still to apply.</summary>
    Task<(int Count, long Cents, int Unapplied)> RecordsAsync(Guid payment) => app.InScopeAsync(null, async services =>
    {
        var refunds = await services.GetRequiredService<AppDbContext>().PaymentRefunds.AsNoTracking().Where(r => r.PaymentId == payment).ToListAsync();
        return (refunds.Count, refunds.Sum(r => r.Cents), refunds.Count(r => r.AppliedUtc == null));
    });

    [Fact]
    public async Task ARefundChosenFromAStaleView_IsRefused_SoADoubleClickRefundsOnce()
    {
        var operatorClient = await app.OperatorAsync();
        var user = await app.SignUpAsync();
        var payment = (await user.UpgradeAsync("plus")).GetProperty("uuid").GetGuid();
        var page = await operatorClient.HtmlAsync("/admin/payments?status=succeeded");
        // The page says what it showed refunded; a browser posts it with the form.
        Assert.Contains($"name=\"refunded-{payment}\" value=\"0\"", page, StringComparison.Ordinal);
        var click = new Dictionary<string, string> { ["payment"] = payment.ToString(), [$"amount-{payment}"] = "2.00", [$"refunded-{payment}"] = "0" };

        PageForms.AssertRedirect(await operatorClient.SubmitFromPageAsync("/admin/payments?status=succeeded", page, "refund-payment", click), "/admin/payments?status=succeeded&offset=0&refunded=1");
        // The same page's form again: it still says nothing was refunded, so the second click is refused, not repeated.
        var again = PageForms.AssertRedirect(await operatorClient.SubmitFromPageAsync("/admin/payments?status=succeeded", page, "refund-payment", click), "/admin/payments");
        Assert.Contains("error=refund_conflict", again, StringComparison.Ordinal);
        Assert.Equal(200, await RefundedCentsAsync(operatorClient, user, payment));

        // The API the same way when told what its caller saw; without it, the amount is simply refunded.
        var stale = await operatorClient.PostAsJsonAsync($"/api/admin/payments/{payment}/refund", new { amount_cents = 100, expected_refunded_cents = 0 });
        await Http.AssertProblemAsync(stale, HttpStatusCode.Conflict, "refund_conflict");
        await Http.AssertStatusAsync(await operatorClient.PostAsJsonAsync($"/api/admin/payments/{payment}/refund", new { amount_cents = 100, expected_refunded_cents = 200 }), HttpStatusCode.OK);
        await Http.AssertStatusAsync(await operatorClient.PostAsJsonAsync($"/api/admin/payments/{payment}/refund", new { amount_cents = 100 }), HttpStatusCode.OK);
        Assert.Equal(400, await RefundedCentsAsync(operatorClient, user, payment));
        Assert.Equal((3, 400L, 0), await RecordsAsync(payment));
    }

    [Fact]
    public async Task ConcurrentOperatorRefunds_NeverRefundMoreThanThePayment_AndTakeBackTheShareOfWhatTheyRefunded()
    {
        var operatorClient = await app.OperatorAsync();
        var user = await app.SignUpAsync();
        await user.BalanceAsync();
        var payment = (await user.UpgradeAsync("plus")).GetProperty("uuid").GetGuid(); // $19.90 for 2,000 monthly credits
        var before = (await user.BalanceAsync()).GetProperty("balance").GetInt64();

        // Eight operators (or double clicks) at once, asking for $31.33 of a $19.90 payment between them.
        long[] amounts = [300, 450, 500, 250, 700, 199, 333, 401];
        var responses = await Task.WhenAll(amounts.Select(cents => Task.Run(() =>
            operatorClient.PostAsJsonAsync($"/api/admin/payments/{payment}/refund", new { amount_cents = cents }))));
        foreach (var response in responses.Where(r => r.StatusCode != HttpStatusCode.OK))
        {
            // A refund that lost the race to another changes nothing and says so.
            await Http.AssertProblemAsync(response, HttpStatusCode.Conflict, "refund_conflict");
        }
        Assert.Contains(responses, r => r.StatusCode == HttpStatusCode.OK);

        var refunded = await RefundedCentsAsync(operatorClient, user, payment);
        Assert.InRange(refunded, 1, 1_990);
        // The running-total share: what the refunds took back together is the share of all they refunded.
        Assert.Equal(before - 2_000 * refunded / 1_990, (await user.BalanceAsync()).GetProperty("balance").GetInt64());
        var records = await RecordsAsync(payment);
        Assert.Equal((refunded, 0), (records.Cents, records.Unapplied));

        // The rest, refunded afterwards, completes the payment exactly: every monthly credit back, the plan ended.
        await Http.ReadJsonAsync(await operatorClient.PostAsJsonAsync($"/api/admin/payments/{payment}/refund", new { }));
        Assert.Equal(1_990, await RefundedCentsAsync(operatorClient, user, payment));
        Assert.Equal(before - 2_000, (await user.BalanceAsync()).GetProperty("balance").GetInt64());
        Assert.Equal("free", (await Http.ReadJsonAsync(await user.Client.GetAsync("/api/credits/plan/"))).GetProperty("plan").GetString());
        Assert.True((await Http.ReadJsonAsync(await operatorClient.GetAsync("/api/admin/ledger/check"))).GetProperty("ok").GetBoolean());
    }

    [Fact]
    public async Task ARefundInterruptedBeforeItsCreditsWereTakenBack_IsFinishedByTheCreditJobs_Once()
    {
        var operatorClient = await app.OperatorAsync();
        var user = await app.SignUpAsync();
        await user.UpgradeAsync("plus");
        var payment = (await user.BuyAsync(new { package_uuid = await user.PackageIdAsync("Starter") })).GetProperty("uuid").GetGuid(); // $15.00, 1,500 credits
        var before = (await user.BalanceAsync()).GetProperty("balance").GetInt64();

        await using (await RefundLedgerOutage.StartAsync(app, payment))
        {
            var interrupted = await operatorClient.PostAsJsonAsync($"/api/admin/payments/{payment}/refund", new { amount_cents = 600 });
            Assert.Equal(HttpStatusCode.InternalServerError, interrupted.StatusCode);
        }
        // Recorded with the payment, its credits not yet taken back.
        Assert.Equal(600, await RefundedCentsAsync(operatorClient, user, payment));
        Assert.Equal(before, (await user.BalanceAsync()).GetProperty("balance").GetInt64());
        Assert.Equal((1, 600L, 1), await RecordsAsync(payment));

        // Left to its own request for a minute, then finished by the jobs, once however often they run.
        await RunJobsAsync(app);
        Assert.Equal(before, (await user.BalanceAsync()).GetProperty("balance").GetInt64());
        app.Clock.Advance(TimeSpan.FromMinutes(2));
        await RunJobsAsync(app);
        await RunJobsAsync(app);
        Assert.Equal(before - 600, (await user.BalanceAsync()).GetProperty("balance").GetInt64());
        Assert.Equal((1, 600L, 0), await RecordsAsync(payment));
        var refunds = await Http.ReadJsonAsync(await user.Client.GetAsync("/api/credits/transactions/?type=refund"));
        Assert.Equal(1, refunds.GetProperty("total").GetInt32());

        // A later refund counts from the recorded total: the rest is $9.00, not $15.00.
        var rest = await Http.ReadJsonAsync(await operatorClient.PostAsJsonAsync($"/api/admin/payments/{payment}/refund", new { }));
        Assert.Equal(("refunded", 1_500L), (rest.GetProperty("status").GetString(), rest.GetProperty("refunded_cents").GetInt64()));
        var balance = await user.BalanceAsync();
        Assert.Equal((before - 1_500, 0L), (balance.GetProperty("balance").GetInt64(), balance.GetProperty("debt").GetInt64()));
        Assert.True((await Http.ReadJsonAsync(await operatorClient.GetAsync("/api/admin/ledger/check"))).GetProperty("ok").GetBoolean());
    }
}
