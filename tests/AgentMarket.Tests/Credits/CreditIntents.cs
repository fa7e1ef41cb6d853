using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AgentMarket.Tests.Infrastructure;

namespace AgentMarket.Tests.Credits;

/// <summary>What a buyer does with credits, over HTTP.</summary>
public static class CreditIntents
{
    public static async Task<JsonElement> BalanceAsync(this TestUser user) =>
        await Http.ReadJsonAsync(await user.Client.GetAsync("/api/credits/balance/"));

    public static async Task<Guid> PackageIdAsync(this TestUser user, string name)
    {
        var packages = await Http.ReadJsonAsync(await user.Client.GetAsync("/api/credits/packages/"));
        return packages.EnumerateArray().Single(p => p.GetProperty("name").GetString() == name).GetProperty("uuid").GetGuid();
    }

    /// <summary>Starts a checkout and pays it with a sandbox test card; returns the completed payment.</summary>
    public static async Task<JsonElement> BuyAsync(this TestUser user, object purchase, string card = "4242 4242 4242 4242")
    {
        var checkout = await Http.ReadJsonAsync(await user.Client.PostAsJsonAsync("/api/credits/purchase/", purchase), HttpStatusCode.Created);
        var id = checkout.GetProperty("checkout_uuid").GetGuid();
        return await Http.ReadJsonAsync(await user.Client.PostAsJsonAsync($"/api/payments/sandbox/{id}/complete/", new { card_number = card }));
    }

    public static Task<JsonElement> UpgradeAsync(this TestUser user, string plan, string interval = "monthly") =>
        user.BuyAsync(new { plan, interval });
}
