using System.Net.Http.Json;
using System.Reflection;
using System.Text.RegularExpressions;
using AgentMarket.Audit;
using AgentMarket.Tests.Buyer;
using AgentMarket.Tests.Infrastructure;

namespace AgentMarket.Tests.Admin;

/// <summary>The console's audit log page: actions are picked from a list, not typed as exact codes, and an empty result says so.</summary>
public class AuditPageTests(AgentMarketApp app) : IClassFixture<AgentMarketApp>
{
    [Fact]
    public async Task TheActionFilter_OffersEveryAuditedAction_AndEachFamily_WithTheChosenOneSelected()
    {
        var operatorClient = await app.OperatorAsync();
        var actions = typeof(AuditActions).GetFields(BindingFlags.Public | BindingFlags.Static).Where(f => f.IsLiteral)
            .Select(f => (string)f.GetRawConstantValue()!).ToList();

        var html = await operatorClient.HtmlAsync($"/admin/audit?action={AuditActions.SignInFailed}");

        var select = Regex.Match(html, "<select id=\"action\" name=\"action\">(?<options>.*?)</select>", RegexOptions.Singleline).Groups["options"].Value;
        var offered = Regex.Matches(select, "<option value=\"(?<value>[^\"]*)\"").Select(m => m.Groups["value"].Value).ToList();
        Assert.Subset(offered.ToHashSet(), actions.ToHashSet());
        Assert.Subset(offered.ToHashSet(), actions.Select(a => a.Split('.')[0]).ToHashSet());
        Assert.Contains(">Any action</option>", select, StringComparison.Ordinal);
        Assert.Equal(AuditActions.SignInFailed, Assert.Single(Regex.Matches(select, "<option value=\"(?<value>[^\"]*)\" selected").Select(m => m.Groups["value"].Value)));

        // A family matches every action in it, as a typed prefix did.
        var family = AuditActions.SignInFailed.Split('.')[0];
        var user = await app.SignUpAsync();
        var failed = await app.CreateClient().PostAsJsonAsync("/api/auth/signin", new { email = user.Email, password = "wrong " + Guid.NewGuid() });
        Assert.False(failed.IsSuccessStatusCode);
        var byFamily = await operatorClient.HtmlAsync($"/admin/audit?action={family}");
        Assert.Contains($"<td>{AuditActions.SignInFailed}</td>", byFamily, StringComparison.Ordinal);
        Assert.Contains($"<td>{AuditActions.SignInSucceeded}</td>", byFamily, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FiltersThatMatchNothing_SaySo_InTheTable()
    {
        var operatorClient = await app.OperatorAsync();

        var html = await operatorClient.HtmlAsync($"/admin/audit?actor=nobody-{Guid.NewGuid():N}@tests.example");

        Assert.Contains("<td colspan=\"7\" class=\"muted\" data-no-entries>No entries match these filters.</td>", html, StringComparison.Ordinal);
        Assert.DoesNotContain("data-no-entries", await operatorClient.HtmlAsync("/admin/audit"), StringComparison.Ordinal);
    }
}
