using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AgentMarket.Audit;
using AgentMarket.Tests.Buyer;
using AgentMarket.Tests.Credits;
using AgentMarket.Tests.Infrastructure;

namespace AgentMarket.Tests.Gateway;

/// <summary>
/// Auto top-up (Plus and Pro, sandbox payments): a run that takes the balance under the threshold buys the chosen package
/// at once, once per crossing, with a receipt like any purchase.
/// </summary>
public class AutoTopUpTests(GatewayApp app) : IClassFixture<GatewayApp>
{
    [Fact]
    public async Task ARunThatCrossesTheThreshold_BuysTheChosenPackageOnce()
    {
        var subscribed = await app.SubscribedAsync(await app.PromptAgentAsync(new { model = "fixed_credits", credits_per_run = 10 }));
        var buyer = subscribed.Buyer;
        await buyer.UpgradeAsync("plus");
        var starter = await buyer.PackageIdAsync("Starter");
        var package = (await Http.ReadJsonAsync(await buyer.Client.GetAsync("/api/credits/packages/"))).EnumerateArray().Single(p => p.GetProperty("uuid").GetGuid() == starter);
        var packageCredits = package.GetProperty("credits").GetInt64() + package.GetProperty("bonus_credits").GetInt64();
        var before = (await buyer.BalanceAsync()).GetProperty("available").GetInt64();
        // The threshold sits between the balance before and after one run, so the first run crosses it and the second does not again.
        await Http.ReadJsonAsync(await buyer.Client.PatchAsJsonAsync("/api/credits/settings/", new { auto_top_up_package_uuid = starter, auto_top_up_threshold = before - 5 }));

        await Http.AssertStatusAsync(await subscribed.KeyClient.RunAsync(subscribed.Config, "first"), HttpStatusCode.OK);
        var afterFirst = (await buyer.BalanceAsync()).GetProperty("available").GetInt64();
        Assert.Equal(before - 10 + packageCredits, afterFirst);

        await Http.AssertStatusAsync(await subscribed.KeyClient.RunAsync(subscribed.Config, "second"), HttpStatusCode.OK);
        Assert.Equal(afterFirst - 10, (await buyer.BalanceAsync()).GetProperty("available").GetInt64());

        var purchases = await Http.ReadJsonAsync(await buyer.Client.GetAsync("/api/credits/transactions/?type=purchase"));
        var topUps = purchases.GetProperty("items").EnumerateArray().Where(t => t.GetProperty("description").GetString()!.StartsWith("Auto top-up", StringComparison.Ordinal)).ToList();
        var topUp = Assert.Single(topUps);
        Assert.Equal(packageCredits, topUp.GetProperty("amount").GetInt64());
    }

    [Fact]
    public async Task PatchingOneSpendControl_LeavesTheOthers_AndNullSwitchesOneOff()
    {
        var buyer = await app.SignUpAsync();
        await buyer.UpgradeAsync("plus");
        var starter = await buyer.PackageIdAsync("Starter");
        async Task<System.Text.Json.JsonElement> PatchAsync(object body) => await Http.ReadJsonAsync(await buyer.Client.PatchAsJsonAsync("/api/credits/settings/", body));

        await PatchAsync(new { low_balance_threshold = 2_000 });
        await PatchAsync(new { session_credit_cap = 50 });
        var settings = await PatchAsync(new { auto_top_up_package_uuid = starter, auto_top_up_threshold = 100 });
        Assert.Equal((2_000L, 50L, starter, 100L), (settings.GetProperty("low_balance_threshold").GetInt64(), settings.GetProperty("session_credit_cap").GetInt64(),
            settings.GetProperty("auto_top_up_package_uuid").GetGuid(), settings.GetProperty("auto_top_up_threshold").GetInt64()));
        Assert.Equal(settings.GetRawText(), (await PatchAsync(new { })).GetRawText());

        settings = await PatchAsync(new Dictionary<string, object?> { ["session_credit_cap"] = null });
        Assert.Equal((System.Text.Json.JsonValueKind.Null, 2_000L), (settings.GetProperty("session_credit_cap").ValueKind, settings.GetProperty("low_balance_threshold").GetInt64()));

        // Wrong types and values out of range name the field and change nothing.
        await Http.AssertProblemAsync(await buyer.Client.PatchAsJsonAsync("/api/credits/settings/", new { low_balance_threshold = "lots" }), HttpStatusCode.BadRequest, "malformed_json");
        await Http.AssertProblemAsync(await buyer.Client.PatchAsJsonAsync("/api/credits/settings/", new { session_credit_cap = 0 }), HttpStatusCode.BadRequest, "validation_failed");
        await Http.AssertProblemAsync(await buyer.Client.PatchAsJsonAsync("/api/credits/settings/", new { auto_top_up_package_uuid = 7 }), HttpStatusCode.BadRequest, "malformed_json");
        Assert.Equal(settings.GetRawText(), (await Http.ReadJsonAsync(await buyer.Client.GetAsync("/api/credits/settings/"))).GetRawText());
    }

    [Fact]
    public async Task SpendControlChanges_AreAudited_OldToNew_ThroughTheApiAndThePage_AndASaveThatChangesNothingIsNot()
    {
        var buyer = await app.SignUpAsync();
        await buyer.UpgradeAsync("plus");
        var starter = await buyer.PackageIdAsync("Starter");
        await Http.ReadJsonAsync(await buyer.Client.PatchAsJsonAsync("/api/credits/settings/", new { low_balance_threshold = 1_000, session_credit_cap = 50 }));
        await Http.ReadJsonAsync(await buyer.Client.PatchAsJsonAsync("/api/credits/settings/", new { session_credit_cap = 50 })); // changes nothing
        await Http.ReadJsonAsync(await buyer.Client.PatchAsJsonAsync("/api/credits/settings/", new { auto_top_up_package_uuid = starter, auto_top_up_threshold = 100 }));
        // The page saves every control at once: here the session cap is raised and auto top-up switched off.
        PageForms.AssertRedirect(await buyer.Client.SubmitAsync("/credits", "credit-settings", new()
        {
            ["Settings.LowBalanceThreshold"] = "1000",
            ["Settings.AutoTopUpPackage"] = "",
            ["Settings.AutoTopUpThreshold"] = "",
            ["Settings.SessionCreditCap"] = "80",
        }), "/credits?saved=settings");

        var limits = await EntriesAsync(buyer, AuditActions.SpendLimitChanged);
        Assert.Equal(2, limits.Count);
        var set = Assert.Single(limits, e => e.GetProperty("after").TryGetProperty("low_balance_threshold", out _));
        Assert.Equal(("""{"low_balance_threshold":null,"session_credit_cap":null}""", """{"low_balance_threshold":1000,"session_credit_cap":50}"""),
            (set.GetProperty("before").GetRawText(), set.GetProperty("after").GetRawText()));
        var raised = Assert.Single(limits, e => !e.GetProperty("after").TryGetProperty("low_balance_threshold", out _));
        Assert.Equal(("""{"session_credit_cap":50}""", """{"session_credit_cap":80}"""), (raised.GetProperty("before").GetRawText(), raised.GetProperty("after").GetRawText()));
        var enabled = Assert.Single(await EntriesAsync(buyer, AuditActions.AutoTopUpEnabled)).GetProperty("after");
        Assert.Equal((starter, 100L), (enabled.GetProperty("auto_top_up_package").GetGuid(), enabled.GetProperty("auto_top_up_threshold").GetInt64()));
        var disabled = Assert.Single(await EntriesAsync(buyer, AuditActions.AutoTopUpDisabled));
        Assert.Equal((starter, JsonValueKind.Null), (disabled.GetProperty("before").GetProperty("auto_top_up_package").GetGuid(), disabled.GetProperty("after").GetProperty("auto_top_up_package").ValueKind));
        Assert.All(limits.Append(disabled), e => Assert.Equal((buyer.Email, "organization_plan"), (e.GetProperty("actor").GetProperty("email").GetString(), e.GetProperty("target").GetProperty("type").GetString())));
    }

    /// <summary>The organization's audit entries of one action.</summary>
    static async Task<List<JsonElement>> EntriesAsync(TestUser owner, string action) =>
        [.. (await Http.ReadJsonAsync(await owner.Client.GetAsync($"/api/organizations/{owner.OrganizationId}/audit/?action={action}"))).GetProperty("items").EnumerateArray()];
}
