using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using AgentMarket.Admin;
using AgentMarket.Tests.Buyer;
using AgentMarket.Tests.Credits;
using AgentMarket.Tests.Infrastructure;

namespace AgentMarket.Tests.Platform;

/// <summary>
/// The product's text is English on every server (ADR-159): numbers in problems and pages are written the English way
/// even when the process runs under another culture (the test server is made to carry the caller's culture into the
/// request, as a server's locale would be there).
/// </summary>
public class TextCultureTests(AgentMarketApp app) : IClassFixture<AgentMarketApp>
{
    static readonly CultureInfo English = CultureInfo.GetCultureInfo("en-US");

    [Fact]
    public async Task NumbersInProblemsAndPages_AreWrittenInEnglish_UnderAGermanLocale()
    {
        app.Server.PreserveExecutionContext = true; // this class's own app: the request runs with the test's culture
        var operatorClient = await app.OperatorAsync();
        var user = await app.SignUpAsync();
        // Four digits at least, so the thousands separator shows.
        await Http.ReadJsonAsync(await operatorClient.PostAsJsonAsync($"/api/admin/organizations/{user.OrganizationId}/credits/adjust", new { credits = 2_345, reason = "Goodwill" }));
        var before = (CultureInfo.CurrentCulture, CultureInfo.CurrentUICulture);
        CultureInfo.CurrentCulture = CultureInfo.CurrentUICulture = CultureInfo.GetCultureInfo("de-DE");
        try
        {
            var refused = await Http.AssertProblemAsync(
                await operatorClient.PostAsJsonAsync($"/api/admin/organizations/{user.OrganizationId}/credits/adjust", new { credits = 0, reason = "Nothing" }),
                HttpStatusCode.BadRequest, "validation_failed");
            Assert.Contains(CreditAdjustments.MaxCredits.ToString("N0", English), refused.ToString(), StringComparison.Ordinal);

            var balance = (await user.BalanceAsync()).GetProperty("balance").GetInt64();
            Assert.True(balance >= 1_000);
            var page = await operatorClient.HtmlAsync($"/admin/organizations/{user.OrganizationId}");
            Assert.Contains($"{balance.ToString("N0", English)} credits", page, StringComparison.Ordinal);
        }
        finally
        {
            (CultureInfo.CurrentCulture, CultureInfo.CurrentUICulture) = before;
        }
    }
}
