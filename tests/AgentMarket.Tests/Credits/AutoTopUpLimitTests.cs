using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AgentMarket.Credits;
using AgentMarket.Tests.Buyer;
using AgentMarket.Tests.Gateway;
using AgentMarket.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace AgentMarket.Tests.Credits;

/// <summary>
/// Limits on automatic top-ups (sandbox payments, ADR-145): a threshold one purchase cannot lift the balance above is
/// refused, and however the settings stand, an organization makes at most <c>Credits:AutoTopUpsPerDay</c> automatic
/// purchases in any 24 hours.
/// </summary>
public class AutoTopUpLimitTests(GatewayApp app) : IClassFixture<GatewayApp>
{
    [Fact]
    public async Task AThresholdOnePurchaseCannotLiftTheBalanceAbove_IsRefused_OnTheApiAndThePage()
    {
        var buyer = await app.SignUpAsync();
        await buyer.UpgradeAsync("plus");
        var starter = await buyer.PackageIdAsync("Starter");
        var packageCredits = await PackageCreditsAsync(buyer, starter);
        var reachable = (await buyer.BalanceAsync()).GetProperty("available").GetInt64() + packageCredits;

        var refused = await buyer.Client.PatchAsJsonAsync("/api/credits/settings/", new { auto_top_up_package_uuid = starter, auto_top_up_threshold = reachable + 1 });
        var problem = await Http.AssertProblemAsync(refused, HttpStatusCode.BadRequest, "auto_top_up_threshold_too_high");
        Assert.Equal(reachable, problem.GetProperty("max_threshold").GetInt64());
        Assert.True(problem.GetProperty("errors").TryGetProperty("auto_top_up_threshold", out _));

        var page = await buyer.Client.SubmitAsync("/credits", "credit-settings", new()
        {
            ["Settings.LowBalanceThreshold"] = "",
            ["Settings.AutoTopUpPackage"] = starter.ToString(),
            ["Settings.AutoTopUpThreshold"] = (reachable + 1).ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Settings.SessionCreditCap"] = "",
        });
        await Http.AssertStatusAsync(page, HttpStatusCode.OK);
        Assert.Contains("cannot lift your available balance above", await page.HtmlAsync(), StringComparison.Ordinal);
        Assert.Equal(JsonValueKind.Null, (await SettingsAsync(buyer)).GetProperty("auto_top_up_package_uuid").ValueKind);

        // The highest threshold one purchase reaches is accepted.
        var accepted = await Http.ReadJsonAsync(await buyer.Client.PatchAsJsonAsync("/api/credits/settings/", new { auto_top_up_package_uuid = starter, auto_top_up_threshold = reachable }));
        Assert.Equal(reachable, accepted.GetProperty("auto_top_up_threshold").GetInt64());
    }

    [Fact]
    public async Task RunsThatEachLeaveTheBalanceUnderTheThreshold_BuyAtMostTheDailyCap()
    {
        var perDay = app.Services.GetRequiredService<IOptions<CreditsOptions>>().Value.AutoTopUpsPerDay;
        var packages = await Http.ReadJsonAsync(await app.CreateClient().GetAsync("/api/credits/packages/"));
        var starterPackage = packages.EnumerateArray().Single(p => p.GetProperty("name").GetString() == "Starter");
        var starter = starterPackage.GetProperty("uuid").GetGuid();
        // Each run costs more than a package brings, so after every purchase the balance is still under the threshold.
        var perRun = starterPackage.GetProperty("credits").GetInt64() + starterPackage.GetProperty("bonus_credits").GetInt64() + 500;
        var runs = perDay + 2;
        var subscribed = await app.SubscribedAsync(await app.PromptAgentAsync(new { model = "fixed_credits", credits_per_run = perRun }));
        var buyer = subscribed.Buyer;
        await buyer.UpgradeAsync("plus");
        while ((await buyer.BalanceAsync()).GetProperty("available").GetInt64() < runs * perRun)
        {
            await buyer.BuyAsync(new { package_uuid = await buyer.PackageIdAsync("Power") });
        }
        var threshold = (await buyer.BalanceAsync()).GetProperty("available").GetInt64();
        await Http.ReadJsonAsync(await buyer.Client.PatchAsJsonAsync("/api/credits/settings/", new { auto_top_up_package_uuid = starter, auto_top_up_threshold = threshold }));

        for (var i = 0; i < runs; i++)
        {
            await Http.AssertStatusAsync(await subscribed.KeyClient.RunAsync(subscribed.Config, $"run {i}"), HttpStatusCode.OK);
        }

        var payments = (await Http.ReadJsonAsync(await buyer.Client.GetAsync("/api/payments/?limit=100"))).GetProperty("items").EnumerateArray()
            .Where(p => p.GetProperty("purpose").GetString() == "auto_top_up").ToList();
        Assert.Equal(perDay, payments.Count);
        Assert.All(payments, p => Assert.Equal("succeeded", p.GetProperty("status").GetString()));
        Assert.Contains($"at most {perDay} automatic purchases in any 24 hours", await buyer.Client.HtmlAsync("/credits"), StringComparison.Ordinal);

        // A day later the cap counts afresh.
        app.Clock.Advance(TimeSpan.FromHours(24) + TimeSpan.FromMinutes(1));
        await Http.AssertStatusAsync(await subscribed.KeyClient.RunAsync(subscribed.Config, "next day"), HttpStatusCode.OK);
        Assert.Equal(perDay + 1, (await Http.ReadJsonAsync(await buyer.Client.GetAsync("/api/payments/?limit=100"))).GetProperty("items").EnumerateArray()
            .Count(p => p.GetProperty("purpose").GetString() == "auto_top_up"));
    }

    static async Task<long> PackageCreditsAsync(TestUser user, Guid package)
    {
        var found = (await Http.ReadJsonAsync(await user.Client.GetAsync("/api/credits/packages/"))).EnumerateArray().Single(p => p.GetProperty("uuid").GetGuid() == package);
        return found.GetProperty("credits").GetInt64() + found.GetProperty("bonus_credits").GetInt64();
    }

    static async Task<JsonElement> SettingsAsync(TestUser user) => await Http.ReadJsonAsync(await user.Client.GetAsync("/api/credits/settings/"));
}
