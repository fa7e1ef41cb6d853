using System.Globalization;
using System.Text.RegularExpressions;
using AgentMarket.Credits;
using AgentMarket.Payouts;
using AgentMarket.Tests.Buyer;
using AgentMarket.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace AgentMarket.Tests.Payouts;

/// <summary>The payouts page says how much has been earned toward the minimum, and when it is paid once reached.</summary>
public class PayoutProgressPageTests(AgentMarketApp app) : IClassFixture<AgentMarketApp>
{
    static async Task<string> ProgressAsync(TestProvider provider)
    {
        var html = await (await provider.ClientAsync()).HtmlAsync("/provider/payouts");
        var paragraph = Regex.Match(html, "<p data-payout-progress>(.*?)</p>", RegexOptions.Singleline);
        Assert.True(paragraph.Success, "the page shows the progress toward the minimum");
        return Regex.Replace(Regex.Replace(paragraph.Groups[1].Value, "<[^>]+>", ""), "\\s+", " ").Trim();
    }

    [Fact]
    public async Task PayoutsPage_ShowsTheEarningsTowardTheMinimum_AndTheNextPayoutOnceReached()
    {
        var provider = await app.ProviderAsync();
        var minimum = (await Http.ReadJsonAsync(await (await provider.ClientAsync()).GetAsync("/api/providers/mine/payout-settings/"))).GetProperty("minimum_cents").GetInt64();
        var period = app.CurrentPeriod();

        var small = await app.EarnAsync(provider, minimum / 2);
        Assert.InRange(small, 1, minimum - 1);
        var below = await ProgressAsync(provider);
        Assert.StartsWith($"Earned since your last payout: {Money.Format(small)} of the {Money.Format(minimum)} minimum.", below, StringComparison.Ordinal);
        Assert.Contains($"{Money.Format(minimum - small)} to go.", below, StringComparison.Ordinal);
        Assert.DoesNotContain("next payout", below, StringComparison.Ordinal);

        var more = await app.EarnAsync(provider, minimum);
        var now = app.Clock.GetUtcNow().UtcDateTime;
        var payDay = app.Services.GetRequiredService<IOptions<PayoutsOptions>>().Value.PayoutDayOfMonth;
        var nextRun = new DateOnly(now.Year, now.Month, 1).AddMonths(1).AddDays(payDay - 1); // this month's earnings wait for next month's run
        Assert.Equal($"Earned since your last payout: {Money.Format(small + more)} of the {Money.Format(minimum)} minimum. " +
            $"Your next payout is on {nextRun.ToString("d MMMM yyyy", CultureInfo.InvariantCulture)}.", await ProgressAsync(provider));

        app.AdvanceToNextMonth();
        await (await app.OperatorAsync()).RunPayoutsAsync(period);
        var later = await app.EarnAsync(provider, minimum / 4);
        Assert.StartsWith($"Earned since your last payout: {Money.Format(later)} of the {Money.Format(minimum)} minimum.", await ProgressAsync(provider), StringComparison.Ordinal);
    }
}
