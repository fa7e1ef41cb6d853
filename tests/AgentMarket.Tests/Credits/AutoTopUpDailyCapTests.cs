using System.Data.Common;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AgentMarket.Credits;
using AgentMarket.Platform.Data;
using AgentMarket.Platform.Tenancy;
using AgentMarket.Tests.Buyer;
using AgentMarket.Tests.Gateway;
using AgentMarket.Tests.Infrastructure;
using AgentMarket.Tests.Webhooks;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace AgentMarket.Tests.Credits;

/// <summary>The gateway app with a small daily cap of automatic purchases, and a barrier on the cap's count.</summary>
public sealed class DailyCapApp : GatewayApp
{
    public CapCountBarrier CapCount { get; } = new();

    protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings() => [.. base.ExtraSettings(), new("Credits:AutoTopUpsPerDay", "2")];

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureTestServices(services => services.AddSingleton<IInterceptor>(CapCount));
    }
}

/// <summary>
/// Once armed, holds the first read of an organization's recent automatic payments (the daily cap's count), once read,
/// until a second one is read too, or a few seconds pass: two runs that decide at once both count before either buys.
/// </summary>
public sealed class CapCountBarrier : DbCommandInterceptor
{
    int _armed;
    int _arrivals;
    TaskCompletionSource _first = new(TaskCreationOptions.RunContinuationsAsynchronously);
    TaskCompletionSource _second = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task FirstRead => _first.Task;

    public void Arm()
    {
        _first = new(TaskCreationOptions.RunContinuationsAsynchronously);
        _second = new(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref _arrivals, 0);
        Volatile.Write(ref _armed, 1);
    }

    public void Disarm() => Volatile.Write(ref _armed, 0);

    public override async ValueTask<DbDataReader> ReaderExecutedAsync(DbCommand command, CommandExecutedEventData eventData, DbDataReader result, CancellationToken cancellationToken = default)
    {
        var text = command.CommandText;
        if (Volatile.Read(ref _armed) == 1 && text.Contains("payments", StringComparison.Ordinal) && text.Contains("purpose", StringComparison.Ordinal)
            && !text.Contains("idempotency_key", StringComparison.Ordinal))
        {
            switch (Interlocked.Increment(ref _arrivals))
            {
                case 1:
                    _first.TrySetResult();
                    try
                    {
                        await _second.Task.WaitAsync(TimeSpan.FromSeconds(5), cancellationToken);
                    }
                    catch (TimeoutException)
                    {
                        // The other run waits on a lock this one holds: let this one go on alone.
                    }
                    break;
                case 2:
                    _second.TrySetResult();
                    break;
            }
        }
        return await base.ReaderExecutedAsync(command, eventData, result, cancellationToken);
    }
}

/// <summary>
/// The daily cap of automatic purchases (<c>Credits:AutoTopUpsPerDay</c>, ADR-145, ADR-149): reaching it pauses auto
/// top-up visibly (API, page, audit log, one email and event a day), and runs deciding at once cannot exceed it.
/// </summary>
public class AutoTopUpDailyCapTests(DailyCapApp app) : IClassFixture<DailyCapApp>
{
    int PerDay => app.Services.GetRequiredService<IOptions<CreditsOptions>>().Value.AutoTopUpsPerDay;

    [Fact]
    public async Task CrossingsPastTheDailyCap_PauseAutoTopUp_OnTheApiAndThePage_AndTellTheOwnersOnce()
    {
        var (subscribed, _) = await BuyerUnderThresholdAfterEveryRunAsync(runs: PerDay + 3);
        var buyer = subscribed.Buyer;
        for (var i = 0; i < PerDay + 2; i++)
        {
            await Http.AssertStatusAsync(await subscribed.KeyClient.RunAsync(subscribed.Config, $"run {i}"), HttpStatusCode.OK);
        }

        var bought = await AutoTopUpsAsync(buyer);
        Assert.Equal(PerDay, bought.Count);
        var until = bought.Min(p => p.GetProperty("created").GetDateTime()).AddDays(1);
        var settings = await Http.ReadJsonAsync(await buyer.Client.GetAsync("/api/credits/settings/"));
        Assert.Equal(until, settings.GetProperty("auto_top_up_paused_until").GetDateTime(), TimeSpan.FromMilliseconds(1));
        Assert.Contains($"Auto top-up paused until {until.ToString("HH:mm", CultureInfo.InvariantCulture)} UTC: {PerDay} automatic purchases in the last 24 hours, the daily limit",
            await buyer.Client.HtmlAsync("/credits"), StringComparison.Ordinal);

        // Two crossings were refused: the owners hear of it once.
        var audit = await Http.ReadJsonAsync(await buyer.Client.GetAsync($"/api/organizations/{buyer.OrganizationId}/audit/?action=auto_top_up.paused"));
        Assert.Single(audit.GetProperty("items").EnumerateArray());
        var (mail, events) = await NoticesAsync(buyer);
        Assert.Contains(until.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture), Assert.Single(mail), StringComparison.Ordinal);
        Assert.Single(events);

        // Once the oldest purchase is a day old, the pause is over and the next crossing buys.
        app.Clock.Advance(until - app.Clock.GetUtcNow().UtcDateTime + TimeSpan.FromMinutes(1));
        Assert.Equal(JsonValueKind.Null, (await Http.ReadJsonAsync(await buyer.Client.GetAsync("/api/credits/settings/"))).GetProperty("auto_top_up_paused_until").ValueKind);
        await Http.AssertStatusAsync(await subscribed.KeyClient.RunAsync(subscribed.Config, "a day later"), HttpStatusCode.OK);
        Assert.Equal(PerDay + 1, (await AutoTopUpsAsync(buyer)).Count);
    }

    [Fact]
    public async Task RunsCrossingTogether_AroundAManualPurchase_BuyNoMoreThanTheDailyCap()
    {
        var (subscribed, starter) = await BuyerUnderThresholdAfterEveryRunAsync(runs: PerDay + 1);
        var buyer = subscribed.Buyer;
        for (var i = 0; i < PerDay - 1; i++)
        {
            await Http.AssertStatusAsync(await subscribed.KeyClient.RunAsync(subscribed.Config, $"run {i}"), HttpStatusCode.OK);
        }
        Assert.Equal(PerDay - 1, (await AutoTopUpsAsync(buyer)).Count);

        // One purchase is left. The first run reads its top-up key and stops at the cap's count; a manual purchase then
        // gives the second run another key, and both count before either buys.
        app.CapCount.Arm();
        try
        {
            var first = subscribed.KeyClient.RunAsync(subscribed.Config, "first");
            await app.CapCount.FirstRead.WaitAsync(TimeSpan.FromSeconds(60));
            await buyer.BuyAsync(new { package_uuid = starter });
            var second = subscribed.KeyClient.RunAsync(subscribed.Config, "second");
            await Http.AssertStatusAsync(await first, HttpStatusCode.OK);
            await Http.AssertStatusAsync(await second, HttpStatusCode.OK);
        }
        finally
        {
            app.CapCount.Disarm();
        }

        Assert.Equal(PerDay, (await AutoTopUpsAsync(buyer)).Count);
    }

    /// <summary>
    /// A Plus buyer of an agent each of whose runs costs more than a Starter package brings, with enough credits for
    /// <paramref name="runs"/> runs and auto top-up's threshold at the balance: every run crosses it, even after a purchase.
    /// </summary>
    async Task<(Subscribed Subscribed, Guid Starter)> BuyerUnderThresholdAfterEveryRunAsync(int runs)
    {
        var packages = await Http.ReadJsonAsync(await app.CreateClient().GetAsync("/api/credits/packages/"));
        var starterPackage = packages.EnumerateArray().Single(p => p.GetProperty("name").GetString() == "Starter");
        var starter = starterPackage.GetProperty("uuid").GetGuid();
        var perRun = starterPackage.GetProperty("credits").GetInt64() + starterPackage.GetProperty("bonus_credits").GetInt64() + 500;
        var subscribed = await app.SubscribedAsync(await app.PromptAgentAsync(new { model = "fixed_credits", credits_per_run = perRun }));
        var buyer = subscribed.Buyer;
        await buyer.UpgradeAsync("plus");
        while ((await buyer.BalanceAsync()).GetProperty("available").GetInt64() < runs * perRun)
        {
            await buyer.BuyAsync(new { package_uuid = await buyer.PackageIdAsync("Power") });
        }
        var threshold = (await buyer.BalanceAsync()).GetProperty("available").GetInt64();
        await Http.ReadJsonAsync(await buyer.Client.PatchAsJsonAsync("/api/credits/settings/", new { auto_top_up_package_uuid = starter, auto_top_up_threshold = threshold }));
        return (subscribed, starter);
    }

    static async Task<List<JsonElement>> AutoTopUpsAsync(TestUser user) =>
        (await Http.ReadJsonAsync(await user.Client.GetAsync("/api/payments/?limit=100"))).GetProperty("items").EnumerateArray()
            .Where(p => p.GetProperty("purpose").GetString() == "auto_top_up").ToList();

    /// <summary>The owners' emails about the pause and the <c>credits.auto_top_up_paused</c> events' payloads.</summary>
    async Task<(List<string> Mail, List<string> Events)> NoticesAsync(TestUser buyer)
    {
        await using var scope = app.Services.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<CurrentTenant>().EnterSystemScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var mail = await db.OutboxEmails.Where(m => m.Recipient == buyer.Email && m.Subject == "Automatic top-up paused for today").Select(m => m.Body).ToListAsync();
        var events = await db.OutboxEvents.Where(e => e.OrganizationId == buyer.OrganizationId && e.Type == "credits.auto_top_up_paused").Select(e => e.Payload).ToListAsync();
        events.ForEach(payload => ListedPayloadFields.AssertListed("credits.auto_top_up_paused", payload));
        return (mail, events);
    }
}
