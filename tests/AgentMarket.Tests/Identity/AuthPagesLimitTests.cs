using System.Net;
using System.Net.Http.Json;
using AgentMarket.Identity;
using AgentMarket.Platform.Data;
using AgentMarket.Platform.Errors;
using AgentMarket.Tests.Buyer;
using AgentMarket.Tests.Gateway;
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

/// <summary>The sign-in, sign-up, forgot-password and change-password pages spend the same budget per client address as their APIs.</summary>
public class AuthPagesLimitTests(AuthLimitedApp app) : IClassFixture<AuthLimitedApp>
{
    [Fact]
    public async Task SignInSignUpForgotAndChangePasswordPages_ShareTheApisLimitPerClientAddress_AndSaySoOnThePage()
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

        var changePassword = await user.Client.SubmitAsync("/account/password", "change-password",
            new() { ["Input.Current"] = user.Password, ["Input.Password"] = "another long password", ["Input.Confirm"] = "another long password" });

        foreach (var refused in new[] { signIn, signUp, forgot, changePassword })
        {
            await Http.AssertStatusAsync(refused, HttpStatusCode.OK);
            Assert.Contains(ProblemCodes.RateLimitedMessage, await refused.HtmlAsync(), StringComparison.Ordinal);
        }
        var created = await app.InScopeAsync(null, services => services.GetRequiredService<AppDbContext>().Users.AnyAsync(u => u.Email == User.NormalizeEmail(newEmail)));
        Assert.False(created);
    }

    [Fact]
    public async Task AnIPv6Client_IsCountedByIts64Block_AndTheRefusalSaysWhenToComeBack()
    {
        app.Clock.AdvanceToNextMinute(); // the start of a minute no other test of this app has counted in
        for (var spent = 0; spent < AuthLimitedApp.AuthRequestsPerMinute; spent++)
        {
            using var sameBlock = ClientFrom($"2001:db8:7:7::{spent + 1:x}");
            await Http.AssertStatusAsync(await SignInAsync(sameBlock), HttpStatusCode.Unauthorized);
        }

        using var another = ClientFrom("2001:db8:7:7:ffff::1");
        var refused = await SignInAsync(another);
        await Http.AssertProblemAsync(refused, HttpStatusCode.TooManyRequests, "rate_limited");
        var retryAfter = int.Parse(Assert.Single(refused.Headers.GetValues("Retry-After")), System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(retryAfter, 1, 60);
        using var otherBlock = ClientFrom("2001:db8:7:8::1");
        await Http.AssertStatusAsync(await SignInAsync(otherBlock), HttpStatusCode.Unauthorized);
    }

    static Task<HttpResponseMessage> SignInAsync(HttpClient client) =>
        client.PostAsJsonAsync("/api/auth/signin", new { email = $"nobody-{Guid.NewGuid():N}@tests.example", password = "wrong password" });

    HttpClient ClientFrom(string address) =>
        new(app.Server.CreateHandler(context => context.Connection.RemoteIpAddress = System.Net.IPAddress.Parse(address))) { BaseAddress = app.Server.BaseAddress };
}

/// <summary>A gateway app (agents to add) whose <c>auth</c> limit per client address is small enough for a test to spend.</summary>
public sealed class AuthLimitedGatewayApp : GatewayApp
{
    public const int AuthRequestsPerMinute = 20;

    protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings() =>
        base.ExtraSettings().Append(new("Identity:AuthRequestsPerMinute", AuthRequestsPerMinute.ToString(System.Globalization.CultureInfo.InvariantCulture)));
}

/// <summary>The agent page's "sign up and add" form spends the same budget per client address as <c>POST /api/auth/signup</c>.</summary>
public class AgentPageSignUpLimitTests(AuthLimitedGatewayApp app) : IClassFixture<AuthLimitedGatewayApp>
{
    [Fact]
    public async Task SignUpAndAdd_IsRefusedOnThePage_OnceTheAddressHasSpentItsBudget()
    {
        var agent = await app.PromptAgentAsync();
        using var visitor = app.CreateClient();
        // The limit counts per clock minute: start at the top of a fresh one, so the budget spent below and the page's
        // refusal fall in the same minute however slow the machine is.
        var now = app.Clock.GetUtcNow();
        app.Clock.Advance(TimeSpan.FromMinutes(1) - TimeSpan.FromTicks(now.Ticks % TimeSpan.TicksPerMinute));
        // The minute's budget goes on wrong passwords (each for another address, so no account's own lockout answers
        // first); the request after it is refused.
        var refusedByApi = false;
        for (var i = 0; i <= AuthLimitedGatewayApp.AuthRequestsPerMinute && !refusedByApi; i++)
        {
            var signIn = await visitor.PostAsJsonAsync("/api/auth/signin", new { email = $"nobody-{i}@tests.example", password = "wrong password" });
            refusedByApi = signIn.StatusCode == HttpStatusCode.TooManyRequests;
        }
        Assert.True(refusedByApi);
        var email = $"inline-{Guid.NewGuid():N}@tests.example";

        var refused = await visitor.SubmitAsync($"/agents/{agent.Slug}", "sign-up-and-add",
            new() { ["name"] = "Bulk Buyer", ["email"] = email, ["password"] = AgentMarketApp.DefaultPassword });

        await Http.AssertStatusAsync(refused, HttpStatusCode.OK);
        Assert.Contains(ProblemCodes.RateLimitedMessage, await refused.HtmlAsync(), StringComparison.Ordinal);
        Assert.False(await app.InScopeAsync(null, services => services.GetRequiredService<AppDbContext>().Users.AnyAsync(u => u.Email == User.NormalizeEmail(email))));
    }
}
