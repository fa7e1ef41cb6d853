using System.Net;
using System.Net.Http.Json;
using AgentMarket.Runtime;
using AgentMarket.Tests.Buyer;
using AgentMarket.Tests.Credits;
using AgentMarket.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace AgentMarket.Tests.Admin;

/// <summary>Operators find users and organizations, adjust credits, manage categories and change settings without a restart.</summary>
public class OperatorConsoleTests(AgentMarketApp app) : IClassFixture<AgentMarketApp>
{
    static readonly string[] AllowList = ["10.20.0.0/16", "intranet.example"];
    static readonly string[] BadAllowList = ["not a host!"];

    [Fact]
    public async Task Search_FindsOrganizationsByNameOrMemberEmail_AndUsersByEmailOrName()
    {
        var operatorClient = await app.OperatorAsync();
        var word = $"Zebra{Guid.NewGuid():N}"[..12];
        var user = await app.SignUpAsync($"{word} Person");

        var organizations = await Http.ReadJsonAsync(await operatorClient.GetAsync($"/api/admin/organizations/?q={word.ToLowerInvariant()}"));
        var found = Assert.Single(organizations.GetProperty("items").EnumerateArray());
        Assert.Equal(user.OrganizationId, found.GetProperty("uuid").GetGuid());
        var byEmail = await Http.ReadJsonAsync(await operatorClient.GetAsync($"/api/admin/organizations/?q={Uri.EscapeDataString(user.Email)}"));
        Assert.Equal(user.OrganizationId, Assert.Single(byEmail.GetProperty("items").EnumerateArray()).GetProperty("uuid").GetGuid());
        var users = await Http.ReadJsonAsync(await operatorClient.GetAsync($"/api/admin/users/?q={word.ToUpperInvariant()}"));
        Assert.Equal(user.UserId, Assert.Single(users.GetProperty("items").EnumerateArray()).GetProperty("uuid").GetGuid());
        Assert.Equal(0, (await Http.ReadJsonAsync(await operatorClient.GetAsync("/api/admin/users/?q=%25_nobody"))).GetProperty("total").GetInt32());

        var details = await Http.ReadJsonAsync(await operatorClient.GetAsync($"/api/admin/users/{user.UserId}"));
        Assert.Equal(user.OrganizationId, Assert.Single(details.GetProperty("organizations").EnumerateArray()).GetProperty("organization").GetGuid());
        var organization = await Http.ReadJsonAsync(await operatorClient.GetAsync($"/api/admin/organizations/{user.OrganizationId}"));
        Assert.Equal(user.Email, Assert.Single(organization.GetProperty("members").EnumerateArray()).GetProperty("email").GetString());
        Assert.Equal((await user.BalanceAsync()).GetProperty("balance").GetInt64(), organization.GetProperty("balance").GetProperty("balance").GetInt64());
        await Http.AssertProblemAsync(await operatorClient.GetAsync($"/api/admin/organizations/{Guid.NewGuid()}"), HttpStatusCode.NotFound, "not_found");
    }

    [Fact]
    public async Task CreditAdjustment_MovesTheBalance_OnceperIdempotencyKey_AndNeverBelowZero()
    {
        var operatorClient = await app.OperatorAsync();
        var user = await app.SignUpAsync();
        var start = (await user.BalanceAsync()).GetProperty("balance").GetInt64();
        async Task<HttpResponseMessage> AdjustAsync(long credits, string key)
        {
            var request = Http.Request(HttpMethod.Post, $"/api/admin/organizations/{user.OrganizationId}/credits/adjust", json: new { credits, reason = "Support ticket 42" });
            request.Headers.Add("Idempotency-Key", key);
            return await operatorClient.SendAsync(request);
        }
        await Http.ReadJsonAsync(await AdjustAsync(40, "ticket-42"));
        var replay = await Http.ReadJsonAsync(await AdjustAsync(40, "ticket-42"));
        Assert.True(replay.GetProperty("replayed").GetBoolean());
        Assert.Equal(start + 40, (await user.BalanceAsync()).GetProperty("balance").GetInt64());
        await Http.AssertProblemAsync(await AdjustAsync(-1_000_000, "too-much"), HttpStatusCode.Conflict, "insufficient_credits");
        await Http.AssertProblemAsync(await AdjustAsync(0, "nothing"), HttpStatusCode.BadRequest, "validation_failed");
        // A typo's worth of digits is refused before the ledger sees it, either way, so no balance or check can overflow.
        foreach (var huge in new[] { long.MaxValue, long.MinValue, 100_000_001, -100_000_001 })
        {
            await Http.AssertProblemAsync(await AdjustAsync(huge, $"huge-{huge}"), HttpStatusCode.BadRequest, "validation_failed");
        }
        await Http.AssertStatusAsync(await operatorClient.GetAsync("/api/admin/ledger/check"), HttpStatusCode.OK);
        await Http.ReadJsonAsync(await AdjustAsync(-40, "ticket-42-undo"));
        Assert.Equal(start, (await user.BalanceAsync()).GetProperty("balance").GetInt64());
        var entries = await Http.ReadJsonAsync(await operatorClient.GetAsync($"/api/admin/audit/?action=credits.adjusted&organization={user.OrganizationId}"));
        Assert.Equal(2, entries.GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task TheOrganizationPage_ShowsWhatItOwesAfterARefund()
    {
        var operatorClient = await app.OperatorAsync();
        var user = await app.SignUpAsync();
        await user.UpgradeAsync("plus");
        var package = await user.BuyAsync(new { package_uuid = await user.PackageIdAsync("Starter") }); // 1,500 paid credits
        await Http.ReadJsonAsync(await operatorClient.PostAsJsonAsync($"/api/admin/organizations/{user.OrganizationId}/credits/adjust", new { credits = -1_500, reason = "Spent elsewhere" }));
        await Http.ReadJsonAsync(await operatorClient.PostAsJsonAsync($"/api/admin/payments/{package.GetProperty("uuid").GetGuid()}/refund", new { }));

        Assert.Equal(1_500, (await user.BalanceAsync()).GetProperty("debt").GetInt64());
        Assert.Equal("1,500 credits (repaid from its next purchases)",
            PageForms.Marked(await operatorClient.HtmlAsync($"/admin/organizations/{user.OrganizationId}"), "data-organization-debt"));
    }

    [Fact]
    public async Task ThePaymentsPage_ListsEveryOrganizationsPayments_AndRefundsPartOfOne()
    {
        var operatorClient = await app.OperatorAsync();
        var user = await app.SignUpAsync($"Payer {Guid.NewGuid():N}"[..14]);
        await user.UpgradeAsync("plus");
        var package = (await user.BuyAsync(new { package_uuid = await user.PackageIdAsync("Starter") })).GetProperty("uuid").GetGuid(); // $15.00, 1,500 credits

        var listed = await Http.ReadJsonAsync(await operatorClient.GetAsync($"/api/admin/payments/?organization={user.OrganizationId}&status=succeeded"));
        Assert.Equal(2, listed.GetProperty("total").GetInt32()); // the plan and the package
        var row = listed.GetProperty("items").EnumerateArray().Single(p => p.GetProperty("uuid").GetGuid() == package);
        Assert.Equal((user.OrganizationId, $"{user.Name}'s Organization", 1_500L, 1_500L),
            (row.GetProperty("organization_uuid").GetGuid(), row.GetProperty("organization_name").GetString(), row.GetProperty("amount_cents").GetInt64(), row.GetProperty("refundable_cents").GetInt64()));
        await Http.AssertProblemAsync(await operatorClient.GetAsync("/api/admin/payments/?status=lost"), HttpStatusCode.BadRequest, "validation_failed");
        await Http.AssertStatusAsync(await user.Client.GetAsync("/api/admin/payments/"), HttpStatusCode.NotFound);

        var page = await operatorClient.HtmlAsync("/admin/payments?status=succeeded");
        Assert.Contains($"/admin/organizations/{user.OrganizationId}", page, StringComparison.Ordinal);
        Assert.Contains($"amount-{package}", page, StringComparison.Ordinal);
        PageForms.AssertRedirect(await operatorClient.SubmitFromPageAsync("/admin/payments?status=succeeded", page, "refund-payment",
            new() { ["payment"] = package.ToString(), [$"amount-{package}"] = "3.00" }), "/admin/payments?status=succeeded");

        // $3.00 of $15.00: a fifth of its credits taken back.
        var refunded = (await Http.ReadJsonAsync(await operatorClient.GetAsync($"/api/admin/payments/?organization={user.OrganizationId}&status=partially_refunded"))).GetProperty("items")[0];
        Assert.Equal((package, 300L, 1_200L), (refunded.GetProperty("uuid").GetGuid(), refunded.GetProperty("refunded_cents").GetInt64(), refunded.GetProperty("refundable_cents").GetInt64()));
        Assert.Equal(350 + 2_000 + 1_200, (await user.BalanceAsync()).GetProperty("balance").GetInt64());
        var wrong = await operatorClient.SubmitFromPageAsync("/admin/payments", await operatorClient.HtmlAsync("/admin/payments"), "refund-payment",
            new() { ["payment"] = package.ToString(), [$"amount-{package}"] = "1.234" });
        Assert.Contains("error=amount", PageForms.AssertRedirect(wrong, "/admin/payments"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Settings_ApplyWithoutRestart_AndAreValidated()
    {
        var operatorClient = await app.OperatorAsync();
        var name = $"Market {Guid.NewGuid():N}"[..16];
        var changed = await Http.ReadJsonAsync(await operatorClient.PatchAsJsonAsync("/api/admin/settings",
            new { site_name = name, brand_color = "#112233", footer_text = "Operated by tests.", outbound_allow_list = AllowList }));
        Assert.Equal(name, changed.GetProperty("site_name").GetString());
        Assert.Contains("Branding:SiteName", changed.GetProperty("overridden").EnumerateArray().Select(k => k.GetString()));

        var home = await (await app.CreateClient().GetAsync("/")).Content.ReadAsStringAsync();
        Assert.Contains(name, home, StringComparison.Ordinal);
        Assert.Contains("#112233", home, StringComparison.Ordinal);
        Assert.Contains("Operated by tests.", home, StringComparison.Ordinal);
        var guard = app.Services.GetRequiredService<PlatformOutbound>().Guard;
        Assert.Contains("intranet.example", guard.Policy.AllowedHosts);
        Assert.Contains(guard.Policy.AllowedNetworks, n => n.ToString() == "10.20.0.0/16");

        await Http.AssertProblemAsync(await operatorClient.PatchAsJsonAsync("/api/admin/settings", new { brand_color = "red" }), HttpStatusCode.BadRequest, "validation_failed");
        await Http.AssertProblemAsync(await operatorClient.PatchAsJsonAsync("/api/admin/settings", new { logo_url = "javascript:alert(1)" }), HttpStatusCode.BadRequest, "validation_failed");
        await Http.AssertProblemAsync(await operatorClient.PatchAsJsonAsync("/api/admin/settings", new { outbound_allow_list = BadAllowList }), HttpStatusCode.BadRequest, "validation_failed");

        // Auto-approval off: the next application waits for an operator.
        await Http.ReadJsonAsync(await operatorClient.PatchAsJsonAsync("/api/admin/settings", new { auto_approve_providers = false }));
        var applicant = await app.SignUpAsync();
        var application = await Http.ReadJsonAsync(await applicant.Client.PostAsJsonAsync("/api/providers/", new { handle = $"p{Guid.NewGuid():N}"[..14], name = "Waiting Co" }), HttpStatusCode.Created);
        Assert.Equal("pending", application.GetProperty("state").GetString());
        await Http.ReadJsonAsync(await operatorClient.PatchAsJsonAsync("/api/admin/settings", new { auto_approve_providers = true }));
    }

    [Fact]
    public async Task Categories_AreAddedRenamedAndReordered()
    {
        var operatorClient = await app.OperatorAsync();
        var slug = $"c-{Guid.NewGuid():N}"[..14];
        var created = await Http.ReadJsonAsync(await operatorClient.PostAsJsonAsync("/api/admin/categories/", new { slug, name = "Legal", icon = "scale" }), HttpStatusCode.Created);
        var id = created.GetProperty("uuid").GetGuid();
        await Http.ReadJsonAsync(await operatorClient.PatchAsJsonAsync($"/api/admin/categories/{id}", new { name = "Legal & Compliance", sort_order = -1 }));
        await Http.ReadJsonAsync(await operatorClient.PatchAsJsonAsync($"/api/admin/categories/{id}", new { name = "Legal & Compliance" })); // changes nothing
        var changes = (await Http.ReadJsonAsync(await operatorClient.GetAsync($"/api/admin/audit/?action=category.changed&target={id}"))).GetProperty("items").EnumerateArray().ToList();
        Assert.Equal(2, changes.Count); // added, then renamed and moved; the repeated rename is not audited again
        var publicList = await Http.ReadJsonAsync(await app.CreateClient().GetAsync("/api/marketplace/categories"));
        var first = publicList.EnumerateArray().First();
        Assert.Equal(("Legal & Compliance", slug), (first.GetProperty("name").GetString(), first.GetProperty("slug").GetString()));
        await Http.AssertProblemAsync(await operatorClient.PostAsJsonAsync("/api/admin/categories/", new { slug, name = "Again" }), HttpStatusCode.Conflict, "category_exists");
        await Http.AssertProblemAsync(await operatorClient.PostAsJsonAsync("/api/admin/categories/", new { slug = "Not A Slug", name = "Bad" }), HttpStatusCode.BadRequest, "validation_failed");
    }
}
