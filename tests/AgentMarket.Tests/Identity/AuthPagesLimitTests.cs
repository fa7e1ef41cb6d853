using System.Net;
using AgentMarket.Identity;
using AgentMarket.Platform.Data;
using AgentMarket.Platform.Errors;
using AgentMarket.Tests.Buyer;
using AgentMarket.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace AgentMarket.Tests.Identity;

/// <summary>An app whose <c>auth</c> limit per client address is small enough for a test to reach.</summary>
public sealed class AuthLimitedApp : AgentMarketApp
{
    public const int AuthRequestsPerMinute = 3;

    protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings() =>
        base.ExtraSettings().Append(new("Identity:AuthRequestsPerMinute", AuthRequestsPerMinute.ToString(System.Globalization.CultureInfo.InvariantCulture)));
}

/// <summary>The sign-in, sign-up and forgot-password pages spend the same budget per client address as their APIs.</summary>
public class AuthPagesLimitTests(AuthLimitedApp app) : IClassFixture<AuthLimitedApp>
{
    [Fact]
    public async Task SignInSignUpAndForgotPasswordPages_ShareTheApisLimitPerClientAddress_AndSaySoOnThePage()
    {
        // The API's sign-up spends one of the address's budget; the sign-in page the rest.
        var user = await app.SignUpAsync();
        for (var spent = 1; spent < AuthLimitedApp.AuthRequestsPerMinute; spent++)
        {
            using var browser = app.CreateClient();
            PageForms.AssertRedirect(await browser.SubmitAsync("/signin", "signin", new() { ["Input.Email"] = user.Email, ["Input.Password"] = user.Password }), "/dashboard");
        }

        using var client = app.CreateClient();
        var signIn = await client.SubmitAsync("/signin", "signin", new() { ["Input.Email"] = user.Email, ["Input.Password"] = user.Password });
        var newEmail = $"bulk-{Guid.NewGuid():N}@tests.example";
        var signUp = await client.SubmitAsync("/signup", "signup", new() { ["Input.Email"] = newEmail, ["Input.Name"] = "Bulk", ["Input.Password"] = AgentMarketApp.DefaultPassword });
        var forgot = await client.SubmitAsync("/forgot-password", "forgot-password", new() { ["Input.Email"] = user.Email });

        foreach (var refused in new[] { signIn, signUp, forgot })
        {
            await Http.AssertStatusAsync(refused, HttpStatusCode.OK);
            Assert.Contains(ProblemCodes.RateLimitedMessage, await refused.HtmlAsync(), StringComparison.Ordinal);
        }
        var created = await app.InScopeAsync(null, services => services.GetRequiredService<AppDbContext>().Users.AnyAsync(u => u.Email == User.NormalizeEmail(newEmail)));
        Assert.False(created);
    }
}
