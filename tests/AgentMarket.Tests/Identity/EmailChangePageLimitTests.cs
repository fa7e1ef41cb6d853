using System.Net;
using System.Net.Http.Json;
using AgentMarket.Platform.Errors;
using AgentMarket.Tests.Buyer;
using AgentMarket.Tests.Infrastructure;

namespace AgentMarket.Tests.Identity;

/// <summary>A mail app whose <c>auth</c> limit per client address is small enough for a test to reach.</summary>
public sealed class AuthLimitedMailApp : MailApp
{
    public const int AuthRequestsPerMinute = 3;

    protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings() =>
        base.ExtraSettings().Append(new("Identity:AuthRequestsPerMinute", AuthRequestsPerMinute.ToString(System.Globalization.CultureInfo.InvariantCulture)));
}

/// <summary>The account page's email form spends the same budget per client address as <c>POST /api/me/email</c> (ADR-139).</summary>
public class EmailChangePageLimitTests(AuthLimitedMailApp app) : IClassFixture<AuthLimitedMailApp>
{
    [Fact]
    public async Task TheAccountPagesEmailForm_SharesTheApisLimitPerClientAddress_AndARefusalIsSaidOnThePage()
    {
        var user = await app.SignUpAsync();
        using var anonymous = app.CreateClient();
        // The start of a new minute of the app's clock: the address's budget is whole again, and stays this minute's while the test runs.
        app.Clock.AdvanceToNextMinute();
        var sent = await user.Client.SubmitAsync("/account", "change-email", new() { ["EmailInput.Email"] = NewAddress(), ["EmailInput.Password"] = user.Password });
        PageForms.AssertRedirect(sent, "/account?done=email-sent");
        // The API spends the rest (wrong passwords for other accounts, so no account's own limit answers instead).
        for (var spent = 1; spent < AuthLimitedMailApp.AuthRequestsPerMinute; spent++)
        {
            await Http.AssertStatusAsync(await anonymous.PostAsJsonAsync("/api/auth/signin", new { email = NewAddress(), password = "wrong password" }), HttpStatusCode.Unauthorized);
        }
        // The account's own link limit would refuse too, with its own message: the address's budget answers first.
        var refusedAddress = NewAddress();

        var refused = await user.Client.SubmitAsync("/account", "change-email", new() { ["EmailInput.Email"] = refusedAddress, ["EmailInput.Password"] = user.Password });

        await Http.AssertStatusAsync(refused, HttpStatusCode.OK);
        Assert.Contains(ProblemCodes.RateLimitedMessage, await refused.HtmlAsync(), StringComparison.Ordinal);
        Assert.Equal(0, await app.OutboxCountAsync(refusedAddress));
        // The API is out of the same budget.
        var api = await Http.AssertProblemAsync(await user.Client.PostAsJsonAsync("/api/me/email", new { email = refusedAddress, password = user.Password }),
            HttpStatusCode.TooManyRequests, "rate_limited");
        Assert.Equal(ProblemCodes.RateLimitedMessage, api.GetProperty("detail").GetString());
        Assert.Equal(0, await app.OutboxCountAsync(refusedAddress));
    }

    static string NewAddress() => $"limited-{Guid.NewGuid():N}@tests.example";
}
