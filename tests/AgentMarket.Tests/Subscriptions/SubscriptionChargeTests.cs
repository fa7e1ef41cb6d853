using System.Data.Common;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AgentMarket.Platform.Data;
using AgentMarket.Subscriptions;
using AgentMarket.Subscriptions.Jobs;
using AgentMarket.Tests.Catalog;
using AgentMarket.Tests.Credits;
using AgentMarket.Tests.Gateway;
using AgentMarket.Tests.Infrastructure;
using AgentMarket.Tests.Webhooks;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;

namespace AgentMarket.Tests.Subscriptions;

/// <summary>The gateway app whose database work can be made to fail for one subscription, as an outage would.</summary>
public sealed class SubscriptionChargesApp : GatewayApp
{
    public FailingSaves Saves { get; } = new();
    public FailingLedgerReads LedgerReads { get; } = new();
    public BeforePriceChangesRead PriceChangesRead { get; } = new();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureTestServices(services =>
        {
            services.AddSingleton<IInterceptor>(Saves);
            services.AddSingleton<IInterceptor>(LedgerReads);
            services.AddSingleton<IInterceptor>(PriceChangesRead);
        });
    }
}

/// <summary>Throws instead of saving a change to the subscription it is set to, until cleared.</summary>
public sealed class FailingSaves : SaveChangesInterceptor
{
    Guid? _config;

    public void FailFor(Guid? config) => _config = config;

    public override ValueTask<InterceptionResult<int>> SavingChangesAsync(DbContextEventData eventData, InterceptionResult<int> result, CancellationToken cancellationToken = default)
    {
        if (_config is { } failing && eventData.Context!.ChangeTracker.Entries<CustomerAgentConfig>().Any(e => e.Entity.Id == failing && e.State == EntityState.Modified))
        {
            throw new InvalidOperationException("The database went away while saving this subscription.");
        }
        return base.SavingChangesAsync(eventData, result, cancellationToken);
    }
}

/// <summary>Once armed, fails the next query of ledger transfers (what a charge reads to count it in the provider's economics).</summary>
public sealed class FailingLedgerReads : DbCommandInterceptor
{
    int _armed;

    public void Arm() => Volatile.Write(ref _armed, 1);

    public override ValueTask<InterceptionResult<DbDataReader>> ReaderExecutingAsync(DbCommand command, CommandEventData eventData, InterceptionResult<DbDataReader> result, CancellationToken cancellationToken = default)
    {
        if (command.CommandText.Contains("ledger_transfers", StringComparison.Ordinal) && Interlocked.Exchange(ref _armed, 0) == 1)
        {
            throw new InvalidOperationException("The database went away while counting the charge.");
        }
        return base.ReaderExecutingAsync(command, eventData, result, cancellationToken);
    }
}

/// <summary>Once armed, runs an action before the next read of listing price changes (the charge job's read between loading a subscription and charging it).</summary>
public sealed class BeforePriceChangesRead : DbCommandInterceptor
{
    Func<Task>? _action;

    public void Arm(Func<Task> action) => Volatile.Write(ref _action, action);

    public override async ValueTask<InterceptionResult<DbDataReader>> ReaderExecutingAsync(DbCommand command, CommandEventData eventData, InterceptionResult<DbDataReader> result, CancellationToken cancellationToken = default)
    {
        if (command.CommandText.Contains("listing_price_changes", StringComparison.Ordinal) && Interlocked.Exchange(ref _action, null) is { } action)
        {
            await action();
        }
        return await base.ReaderExecutingAsync(command, eventData, result, cancellationToken);
    }
}

/// <summary>
/// The monthly charge of subscription-priced agents: one month per period at the subscriber's own terms (the notice
/// rule), nothing for months spent past due, and one subscription's trouble never stops another's charge (ADR-143).
/// </summary>
public class SubscriptionChargeTests(SubscriptionChargesApp app) : IClassFixture<SubscriptionChargesApp>
{
    SubscriptionCharges Jobs => app.Services.GetRequiredService<SubscriptionCharges>();

    /// <summary>A client that outlives the sign-in cookie when the clock moves by months.</summary>
    async Task<HttpClient> ApiAsync(TestUser user) => app.BearerClient(await user.CreateTokenAsync());

    /// <summary>The monthly charges in the buyer's transaction history, oldest first.</summary>
    async Task<long[]> MonthsChargedAsync(TestUser buyer)
    {
        var spent = await Http.ReadJsonAsync(await (await ApiAsync(buyer)).GetAsync("/api/credits/transactions/?type=spend&limit=100"));
        return [.. spent.GetProperty("items").EnumerateArray()
            .Where(t => t.GetProperty("description").GetString()!.EndsWith("monthly subscription", StringComparison.Ordinal))
            .OrderBy(t => t.GetProperty("created").GetDateTime())
            .Select(t => -t.GetProperty("amount").GetInt64())];
    }

    async Task<JsonElement> ConfigAsync(Subscribed subscribed) =>
        await Http.ReadJsonAsync(await (await ApiAsync(subscribed.Buyer)).GetAsync($"/api/customer-agent-configs/{subscribed.Config}/"));

    async Task<DateTime?> RenewsAtAsync(Subscribed subscribed) =>
        (await ConfigAsync(subscribed)).GetProperty("renews_at") is { ValueKind: JsonValueKind.String } renews ? renews.GetDateTime() : null;

    async Task ChangePriceAsync(PublishedAgent agent, object pricing) =>
        await Http.AssertStatusAsync(await (await ApiAsync(agent.Seller)).PatchAsJsonAsync($"/api/provider-agents/{agent.AgentId}/listing/", new { pricing }), HttpStatusCode.OK);

    async Task<JsonElement> RunAsync(Subscribed subscribed)
    {
        app.Clock.Advance(TimeSpan.FromSeconds(2)); // past the gateway's one-second cache of the subscription
        return await Http.ReadJsonAsync(await subscribed.KeyClient.RunAsync(subscribed.Config, "hello"));
    }

    [Fact]
    public async Task ASubscriptionPaidAfterMonthsPastDue_PaysOneMonth_StartingWhenPaid()
    {
        const long price = 300;
        var agent = await app.PromptAgentAsync(new { model = "subscription", credits_per_run = price });
        var subscribed = await app.SubscribedAsync(agent);
        for (var month = 0; month < 3; month++)
        {
            app.Clock.Advance(TimeSpan.FromDays(31));
            await Jobs.RunOnceAsync(CancellationToken.None);
            await Http.AssertProblemAsync(await subscribed.KeyClient.RunAsync(subscribed.Config, "still there?"), HttpStatusCode.PaymentRequired, "subscription_past_due");
            if (month == 0)
            {
                // Told when the month went unpaid; read now, as webhook retention deletes events months old.
                var pastDue = await app.InScopeAsync(null, services => services.GetRequiredService<AppDbContext>().OutboxEvents
                    .Where(e => e.OrganizationId == subscribed.Buyer.OrganizationId && e.Type == "subscription.past_due").Select(e => e.Payload).ToListAsync());
                ListedPayloadFields.AssertListed("subscription.past_due", Assert.Single(pastDue));
            }
        }
        Assert.Equal(new long[] { price }, await MonthsChargedAsync(subscribed.Buyer));

        await new LedgerDriver(app).PurchaseAsync(subscribed.Buyer.OrganizationId, 10 * price, $"top-up-{subscribed.Config}");
        var paying = app.Clock.GetUtcNow().UtcDateTime;
        await Jobs.RunOnceAsync(CancellationToken.None);
        var paid = app.Clock.GetUtcNow().UtcDateTime;
        await Jobs.RunOnceAsync(CancellationToken.None);
        await Jobs.RunOnceAsync(CancellationToken.None);

        // One month for the three past due, whose runs were refused, and the next charge a month after it was paid.
        Assert.Equal(new long[] { price, price }, await MonthsChargedAsync(subscribed.Buyer));
        var renews = await RenewsAtAsync(subscribed);
        Assert.InRange(renews!.Value, paying.AddMonths(1), paid.AddMonths(1));
        Assert.Equal("active", (await ConfigAsync(subscribed)).GetProperty("state").GetString());
        Assert.Equal(0, (await RunAsync(subscribed)).GetProperty("credits_charged").GetInt64());
        Assert.True((await new LedgerDriver(app).CheckAsync()).Ok);
    }

    [Fact]
    public async Task ASubscriptionEndedWhileTheJobIsChargingIt_IsNotCharged_AndStaysEnded()
    {
        const long price = 300;
        var agent = await app.PromptAgentAsync(new { model = "subscription", credits_per_run = price });
        var subscribed = await app.SubscribedAsync(agent);
        var api = await ApiAsync(subscribed.Buyer);
        app.Clock.Advance(TimeSpan.FromDays(31));
        // The buyer unsubscribes after the job loaded the subscription and before it charges the month.
        app.PriceChangesRead.Arm(async () =>
            await Http.AssertStatusAsync(await api.DeleteAsync($"/api/customer-agent-configs/{subscribed.Config}/"), HttpStatusCode.NoContent));

        await Jobs.RunOnceAsync(CancellationToken.None);

        Assert.Equal(new long[] { price }, await MonthsChargedAsync(subscribed.Buyer));
        var state = await app.InScopeAsync(null, services => services.GetRequiredService<AppDbContext>().CustomerAgentConfigs
            .Where(c => c.Id == subscribed.Config).Select(c => c.State).SingleAsync());
        Assert.Equal(SubscriptionState.Terminated, state);
        Assert.True((await new LedgerDriver(app).CheckAsync()).Ok);
    }

    [Fact]
    public async Task SubscribersOfAnAgentMovingToMonthlyPricing_PayTheirFirstMonthWhenTheNoticeEnds_AndDoNotRunFreeBefore()
    {
        var agent = await app.PromptAgentAsync(new { model = "fixed_credits", credits_per_run = 5 });
        var subscribed = await app.SubscribedAsync(agent);
        await ChangePriceAsync(agent, new { model = "subscription", credits_per_run = 100 });

        // During the notice the subscriber keeps paying per run, and no month is charged.
        await Jobs.RunOnceAsync(CancellationToken.None);
        Assert.Equal(5, (await RunAsync(subscribed)).GetProperty("credits_charged").GetInt64());
        Assert.Empty(await MonthsChargedAsync(subscribed.Buyer));

        // After it, monthly terms: the first month is charged before any run is free.
        app.Clock.Advance(TimeSpan.FromDays(15));
        await Http.AssertProblemAsync(await subscribed.KeyClient.RunAsync(subscribed.Config, "free now?"), HttpStatusCode.PaymentRequired, "subscription_past_due");
        var charging = app.Clock.GetUtcNow().UtcDateTime;
        await Jobs.RunOnceAsync(CancellationToken.None);
        var charged = app.Clock.GetUtcNow().UtcDateTime;
        await Jobs.RunOnceAsync(CancellationToken.None);

        Assert.Equal(new long[] { 100 }, await MonthsChargedAsync(subscribed.Buyer));
        Assert.InRange((await RenewsAtAsync(subscribed))!.Value, charging.AddMonths(1), charged.AddMonths(1));
        Assert.Equal(0, (await RunAsync(subscribed)).GetProperty("credits_charged").GetInt64());
        Assert.True((await new LedgerDriver(app).CheckAsync()).Ok);
    }

    [Fact]
    public async Task SubscribersOfAMonthlyAgentMovingToPerRunPricing_PayTheMonthsThatFallInTheNotice_ThenNoMore()
    {
        var agent = await app.PromptAgentAsync(new { model = "subscription", credits_per_run = 100 });
        var subscribed = await app.SubscribedAsync(agent);
        var subscribedAt = (await ConfigAsync(subscribed)).GetProperty("subscribed").GetDateTime();
        app.Clock.Advance(TimeSpan.FromDays(20));
        await ChangePriceAsync(agent, new { model = "fixed_credits", credits_per_run = 5 });

        // The renewal falls within the notice: the subscriber is still on monthly terms, and pays the month.
        app.Clock.Advance(TimeSpan.FromDays(11));
        await Jobs.RunOnceAsync(CancellationToken.None);
        Assert.Equal(new long[] { 100, 100 }, await MonthsChargedAsync(subscribed.Buyer));
        Assert.Equal(subscribedAt.AddMonths(1).AddMonths(1), await RenewsAtAsync(subscribed));
        Assert.Equal(0, (await RunAsync(subscribed)).GetProperty("credits_charged").GetInt64());

        // After the notice runs are priced per run, and the next period charges nothing.
        app.Clock.Advance(TimeSpan.FromDays(31));
        await Jobs.RunOnceAsync(CancellationToken.None);
        Assert.Equal(new long[] { 100, 100 }, await MonthsChargedAsync(subscribed.Buyer));
        Assert.Null(await RenewsAtAsync(subscribed));
        Assert.Equal(5, (await RunAsync(subscribed)).GetProperty("credits_charged").GetInt64());
    }

    [Fact]
    public async Task AMonthlyPriceIncrease_IsChargedToSubscribers_OnlyForMonthsAfterItsNotice()
    {
        var agent = await app.PromptAgentAsync(new { model = "subscription", credits_per_run = 100 });
        var subscribed = await app.SubscribedAsync(agent);
        app.Clock.Advance(TimeSpan.FromDays(25));
        await ChangePriceAsync(agent, new { model = "subscription", credits_per_run = 150 });

        app.Clock.Advance(TimeSpan.FromDays(6));
        await Jobs.RunOnceAsync(CancellationToken.None);
        Assert.Equal(new long[] { 100, 100 }, await MonthsChargedAsync(subscribed.Buyer));

        app.Clock.Advance(TimeSpan.FromDays(31));
        await Jobs.RunOnceAsync(CancellationToken.None);
        Assert.Equal(new long[] { 100, 100, 150 }, await MonthsChargedAsync(subscribed.Buyer));
    }

    [Fact]
    public async Task APastDueSubscriber_IsRefusedWithTheirOwnPrice_NotAnIncreaseStillInItsNotice()
    {
        const long price = 300;
        const long raised = 450;
        var agent = await app.PromptAgentAsync(new { model = "subscription", credits_per_run = price });
        var subscribed = await app.SubscribedAsync(agent);
        app.Clock.Advance(TimeSpan.FromDays(25));
        await ChangePriceAsync(agent, new { model = "subscription", credits_per_run = raised });
        app.Clock.Advance(TimeSpan.FromDays(6)); // the month is due, the increase still in its notice for this subscriber
        await Jobs.RunOnceAsync(CancellationToken.None);

        var refused = await Http.AssertProblemAsync(await subscribed.KeyClient.RunAsync(subscribed.Config, "still there?"), HttpStatusCode.PaymentRequired, "subscription_past_due");
        var detail = refused.GetProperty("detail").GetString()!;
        Assert.Contains($"({price:N0} credits)", detail, StringComparison.Ordinal);
        Assert.DoesNotContain($"({raised:N0} credits)", detail, StringComparison.Ordinal); // the listing's random name may hold the digits
    }

    [Fact]
    public async Task AMonthWhoseReservationExpiredBeforeItsSettle_IsCharged_AndSoAreTheSubscriptionsAfterIt()
    {
        var agent = await app.PromptAgentAsync(new { model = "subscription", credits_per_run = 100 });
        var stuck = await app.SubscribedAsync(agent);
        app.Clock.Advance(TimeSpan.FromHours(1));
        var later = await app.SubscribedAsync(agent);
        // What a charge made as a reservation and a settle left behind when the expiry job voided the reservation
        // between the two: the month's reservation key, resolved.
        var period = (await RenewsAtAsync(stuck))!.Value;
        var ledger = new LedgerDriver(app);
        var reservation = await ledger.ReserveAsync(stuck.Buyer.OrganizationId, 100, $"subscription:{stuck.Config}:{period:yyyyMMddHHmmss}:reserve");
        await ledger.VoidAsync(stuck.Buyer.OrganizationId, reservation.OperationId, $"void:{reservation.OperationId}");

        app.Clock.Advance(TimeSpan.FromDays(31));
        await Jobs.RunOnceAsync(CancellationToken.None);

        Assert.Equal(new long[] { 100, 100 }, await MonthsChargedAsync(stuck.Buyer));
        Assert.Equal(new long[] { 100, 100 }, await MonthsChargedAsync(later.Buyer));
        Assert.True((await ledger.CheckAsync()).Ok);
    }

    [Fact]
    public async Task ASubscriptionWhoseChargeFails_DoesNotStopTheChargesAfterIt_AndIsChargedOnTheNextTick()
    {
        var agent = await app.PromptAgentAsync(new { model = "subscription", credits_per_run = 100 });
        var failing = await app.SubscribedAsync(agent);
        app.Clock.Advance(TimeSpan.FromHours(1));
        var later = await app.SubscribedAsync(agent);
        var period = await RenewsAtAsync(failing);

        app.Clock.Advance(TimeSpan.FromDays(31));
        app.Saves.FailFor(failing.Config);
        try
        {
            await Jobs.RunOnceAsync(CancellationToken.None);
        }
        finally
        {
            app.Saves.FailFor(null);
        }
        // The failed save took its charge with it; the subscription after it was charged.
        Assert.Equal(new long[] { 100 }, await MonthsChargedAsync(failing.Buyer));
        Assert.Equal(period, await RenewsAtAsync(failing));
        Assert.Equal(new long[] { 100, 100 }, await MonthsChargedAsync(later.Buyer));

        await Jobs.RunOnceAsync(CancellationToken.None);
        Assert.Equal(new long[] { 100, 100 }, await MonthsChargedAsync(failing.Buyer));
        Assert.Equal(new long[] { 100, 100 }, await MonthsChargedAsync(later.Buyer));
        Assert.True((await new LedgerDriver(app).CheckAsync()).Ok);
    }

    [Fact]
    public async Task ASubscribeWhoseFirstMonthFails_StoresNothing_AndSubscribingAgainChargesTheMonthOnce()
    {
        var agent = await app.PromptAgentAsync(new { model = "subscription", credits_per_run = 100 });
        var buyer = await app.SignUpAsync();
        var before = (await buyer.BalanceAsync()).GetProperty("balance").GetInt64();

        app.LedgerReads.Arm();
        var failed = await buyer.Client.PostAsJsonAsync("/api/marketplace-orders/", new { offering = agent.Slug });
        Assert.False(failed.IsSuccessStatusCode);

        var mine = (await Http.ReadJsonAsync(await buyer.Client.GetAsync("/api/customer-agent-configs/"))).GetProperty("items");
        Assert.Equal(0, mine.GetArrayLength());
        Assert.Equal(before, (await buyer.BalanceAsync()).GetProperty("balance").GetInt64());
        Assert.Empty(await MonthsChargedAsync(buyer));

        await buyer.SubscribeAsync(agent);
        Assert.Equal(new long[] { 100 }, await MonthsChargedAsync(buyer));
        var balance = await buyer.BalanceAsync();
        Assert.Equal((before - 100, 0L), (balance.GetProperty("balance").GetInt64(), balance.GetProperty("reserved").GetInt64()));
        Assert.True((await new LedgerDriver(app).CheckAsync()).Ok);
    }
}
