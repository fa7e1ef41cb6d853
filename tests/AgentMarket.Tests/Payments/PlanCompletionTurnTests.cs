using System.Data.Common;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AgentMarket.Tests.Credits;
using AgentMarket.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.TestHost;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;

namespace AgentMarket.Tests.Payments;

/// <summary>The app whose plan completions can be held before their transaction, or fail at their claim, one request at a time.</summary>
public sealed class PlanCompletionApp : AgentMarketApp
{
    public HoldBeforeTransaction Hold { get; } = new();

    public FailClaimOnce Crash { get; } = new();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureTestServices(services =>
        {
            services.AddSingleton<IInterceptor>(provider =>
            {
                Hold.Requests = provider.GetRequiredService<IHttpContextAccessor>();
                return Hold;
            });
            services.AddSingleton<IInterceptor>(Crash);
        });
    }
}

/// <summary>
/// Once armed for a payment, holds the first transaction its completion request begins until released: the completion
/// has then looked at the plan and booked its credits, and waits where a slower request would.
/// </summary>
public sealed class HoldBeforeTransaction : DbTransactionInterceptor
{
    string? _path;
    TaskCompletionSource _reached = new(TaskCreationOptions.RunContinuationsAsynchronously);
    TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public IHttpContextAccessor? Requests { get; set; }

    public Task Reached => _reached.Task;

    public void Arm(Guid payment)
    {
        _reached = new(TaskCreationOptions.RunContinuationsAsynchronously);
        _released = new(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref _path, $"/api/payments/sandbox/{payment}/complete/");
    }

    public void Release() => _released.TrySetResult();

    public override async ValueTask<InterceptionResult<DbTransaction>> TransactionStartingAsync(DbConnection connection, TransactionStartingEventData eventData,
        InterceptionResult<DbTransaction> result, CancellationToken cancellationToken = default)
    {
        var path = Volatile.Read(ref _path);
        if (path is not null && Requests?.HttpContext?.Request.Path.Value == path && Interlocked.CompareExchange(ref _path, null, path) == path)
        {
            _reached.TrySetResult();
            await _released.Task.WaitAsync(TimeSpan.FromSeconds(60), cancellationToken);
        }
        return await base.TransactionStartingAsync(connection, eventData, result, cancellationToken);
    }
}

/// <summary>Once armed, fails the next claim of a payment (moving it out of pending), as a process stopping there would.</summary>
public sealed class FailClaimOnce : DbCommandInterceptor
{
    int _armed;

    public void Arm() => Volatile.Write(ref _armed, 1);

    public override ValueTask<InterceptionResult<int>> NonQueryExecutingAsync(DbCommand command, CommandEventData eventData, InterceptionResult<int> result, CancellationToken cancellationToken = default)
    {
        if (command.CommandText.TrimStart().StartsWith("UPDATE", StringComparison.OrdinalIgnoreCase) && command.CommandText.Contains("payments", StringComparison.Ordinal)
            && command.CommandText.Contains("card_last4", StringComparison.Ordinal) && Interlocked.Exchange(ref _armed, 0) == 1)
        {
            throw new InvalidOperationException("The process stopped before the payment was claimed.");
        }
        return base.NonQueryExecutingAsync(command, eventData, result, cancellationToken);
    }
}

/// <summary>
/// Plan payments of one organization apply one at a time, each checked against the plan in force in its turn (ADR-148):
/// two checkouts paid at once apply one and refund the other, and a payment declined after its first month was granted
/// takes that grant back.
/// </summary>
public class PlanCompletionTurnTests(PlanCompletionApp app) : IClassFixture<PlanCompletionApp>
{
    static async Task<Guid> OpenCheckoutAsync(TestUser user, string plan) =>
        (await Http.ReadJsonAsync(await user.Client.PostAsJsonAsync("/api/credits/purchase/", new { plan, interval = "monthly" }), HttpStatusCode.Created)).GetProperty("checkout_uuid").GetGuid();

    static Task<HttpResponseMessage> PayAsync(TestUser user, Guid checkout) =>
        user.Client.PostAsJsonAsync($"/api/payments/sandbox/{checkout}/complete/", new { card_number = "4242 4242 4242 4242" });

    static async Task<long> BalanceOfAsync(TestUser user) => (await user.BalanceAsync()).GetProperty("balance").GetInt64();

    [Fact]
    public async Task TwoCheckoutsOfOnePlanPaidAtOnce_ApplyOne_AndRefundTheOther_WithoutItsCredits()
    {
        var user = await app.SignUpAsync();
        var pro = (await Http.ReadJsonAsync(await user.Client.GetAsync("/api/plans/"))).EnumerateArray().Single(p => p.GetProperty("code").GetString() == "pro");
        var (first, second) = (await OpenCheckoutAsync(user, "pro"), await OpenCheckoutAsync(user, "pro"));
        var before = await BalanceOfAsync(user);

        // The first tab's payment has looked at the plan (still Free) and waits for its transaction; the second is paid meanwhile.
        app.Hold.Arm(first);
        var firstPaying = PayAsync(user, first);
        await app.Hold.Reached.WaitAsync(TimeSpan.FromSeconds(60));
        var secondPaid = await Http.ReadJsonAsync(await PayAsync(user, second));
        app.Hold.Release();
        var firstPaid = await Http.ReadJsonAsync(await firstPaying);

        Assert.Equal(["refunded", "succeeded"], new[] { firstPaid, secondPaid }.Select(p => p.GetProperty("status").GetString()).Order());
        var declined = new[] { firstPaid, secondPaid }.Single(p => p.GetProperty("status").GetString() == "refunded");
        Assert.Equal(declined.GetProperty("amount_cents").GetInt64(), declined.GetProperty("refunded_cents").GetInt64());
        Assert.Equal(before + pro.GetProperty("monthly_credits").GetInt64(), await BalanceOfAsync(user));
        Assert.Equal("pro", (await Http.ReadJsonAsync(await user.Client.GetAsync("/api/credits/plan/"))).GetProperty("plan").GetString());
    }

    [Fact]
    public async Task APaymentThatStoppedAfterItsGrant_AndIsDeclinedOnItsRetry_TakesTheGrantBack()
    {
        var user = await app.SignUpAsync();
        var (plus, pro) = (await OpenCheckoutAsync(user, "plus"), await OpenCheckoutAsync(user, "pro"));
        var before = await BalanceOfAsync(user);

        app.Crash.Arm();
        Assert.Equal(HttpStatusCode.InternalServerError, (await PayAsync(user, plus)).StatusCode);
        var plusGrant = await BalanceOfAsync(user) - before;
        Assert.True(plusGrant > 0, "the first attempt booked Plus's first month before it stopped");
        Assert.Equal("succeeded", (await Http.ReadJsonAsync(await PayAsync(user, pro))).GetProperty("status").GetString());
        var onPro = await BalanceOfAsync(user);

        // Paid again (a retry of the first tab): Pro is in force, so Plus is declined, and the month it booked goes back.
        var retried = await Http.ReadJsonAsync(await PayAsync(user, plus));
        Assert.Equal("refunded", retried.GetProperty("status").GetString());
        Assert.Equal(onPro - plusGrant, await BalanceOfAsync(user));
        Assert.Equal("pro", (await Http.ReadJsonAsync(await user.Client.GetAsync("/api/credits/plan/"))).GetProperty("plan").GetString());
        Assert.Equal(JsonValueKind.String, retried.GetProperty("failure_reason").ValueKind);
    }
}
