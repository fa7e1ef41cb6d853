using System.Net;
using System.Net.Http.Json;
using AgentMarket.Tests.Buyer;
using AgentMarket.Tests.Infrastructure;

namespace AgentMarket.Tests.Identity;

public class SignUpAndSignInTests(AgentMarketApp app) : IClassFixture<AgentMarketApp>
{
    [Fact]
    public async Task SignUp_CreatesUserOrganizationAndDefaultProject_AndSignsIn()
    {
        var client = app.CreateClient();
        var email = $"ada-{Guid.NewGuid():N}@tests.example";
        var response = await client.PostAsJsonAsync("/api/auth/signup", new { email, password = "a long password", name = "Ada" });

        var body = await Http.ReadJsonAsync(response, HttpStatusCode.Created);
        Assert.Equal(email, body.GetProperty("user").GetProperty("email").GetString());
        Assert.Equal("Ada", body.GetProperty("user").GetProperty("name").GetString());
        Assert.Equal("Ada's Organization", body.GetProperty("organization").GetProperty("name").GetString());
        Assert.Equal("Default", body.GetProperty("project").GetProperty("name").GetString());
        var userId = body.GetProperty("user").GetProperty("uuid").GetGuid();
        Assert.Equal(7, userId.Version);

        var me = await Http.ReadJsonAsync(await client.GetAsync("/api/me"));
        Assert.Equal(userId, me.GetProperty("user").GetProperty("uuid").GetGuid());
        var organization = Assert.Single(me.GetProperty("organizations").EnumerateArray());
        Assert.Equal("owner", organization.GetProperty("role").GetString());
        Assert.Equal(body.GetProperty("organization").GetProperty("uuid").GetGuid(), organization.GetProperty("uuid").GetGuid());
    }

    [Fact]
    public async Task AUser_RenamesThemselves_ThroughTheApiOrTheAccountPage()
    {
        var user = await app.SignUpAsync("Ada");
        var renamed = await Http.ReadJsonAsync(await user.Client.PatchAsJsonAsync("/api/me", new { name = "  Ada Lovelace " }));
        Assert.Equal("Ada Lovelace", renamed.GetProperty("user").GetProperty("name").GetString());
        Assert.Equal("Ada Lovelace", (await Http.ReadJsonAsync(await user.Client.GetAsync("/api/me"))).GetProperty("user").GetProperty("name").GetString());
        // The renewed cookie carries the new name, which the pages' header shows.
        Assert.Contains(">Ada Lovelace</a>", await user.Client.HtmlAsync("/my-agents"), StringComparison.Ordinal);

        foreach (var name in new[] { "", "   ", new string('x', 101) })
        {
            await Http.AssertProblemAsync(await user.Client.PatchAsJsonAsync("/api/me", new { name }), HttpStatusCode.BadRequest, "validation_failed");
        }
        await Http.AssertStatusAsync(await app.CreateClient().PatchAsJsonAsync("/api/me", new { name = "Nobody" }), HttpStatusCode.Unauthorized);

        // A script's personal access token may rename too (no cookie to renew).
        var token = await user.CreateTokenAsync();
        Assert.Equal("Countess", (await Http.ReadJsonAsync(await app.BearerClient(token).PatchAsJsonAsync("/api/me", new { name = "Countess" })))
            .GetProperty("user").GetProperty("name").GetString());

        var page = await user.Client.SubmitAsync("/account", "profile", new() { ["Input.Name"] = "Augusta Ada" });
        PageForms.AssertRedirect(page, "/account?done=saved");
        var html = await user.Client.HtmlAsync("/account?done=saved");
        Assert.Contains("Your name has been saved.", html, StringComparison.Ordinal);
        Assert.Contains(">Augusta Ada</a>", html, StringComparison.Ordinal);
        Assert.Contains(user.Email, html, StringComparison.Ordinal);
        var refused = await (await user.Client.SubmitAsync("/account", "profile", new() { ["Input.Name"] = new string('y', 101) })).HtmlAsync();
        Assert.Contains("Use at most 100 characters.", refused, StringComparison.Ordinal);
        Assert.Equal("Augusta Ada", (await Http.ReadJsonAsync(await user.Client.GetAsync("/api/me"))).GetProperty("user").GetProperty("name").GetString());
    }

    [Fact]
    public async Task SignUp_DuplicateEmail_Returns409_EvenWithDifferentCase()
    {
        var user = await app.SignUpAsync();
        var response = await app.CreateClient().PostAsJsonAsync("/api/auth/signup", new { email = user.Email.ToUpperInvariant(), password = "another password", name = "Copy" });
        await Http.AssertProblemAsync(response, HttpStatusCode.Conflict, "email_taken");
    }

    [Theory]
    [InlineData("short", "a@tests.example", "Ada", "password")]
    [InlineData("a long password", "not-an-email", "Ada", "email")]
    [InlineData("a long password", "b@tests.example", "   ", "name")]
    public async Task SignUp_InvalidField_Returns400NamingTheField(string password, string email, string name, string field)
    {
        var response = await app.CreateClient().PostAsJsonAsync("/api/auth/signup", new { email, password, name });
        var problem = await Http.AssertProblemAsync(response, HttpStatusCode.BadRequest, "validation_failed");
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.ToString());
    }

    [Fact]
    public async Task SignIn_WithRightPassword_SetsCookie_AndSignOutClearsIt()
    {
        var user = await app.SignUpAsync();
        var client = app.CreateClient();
        await Http.AssertStatusAsync(await client.GetAsync("/api/me"), HttpStatusCode.Unauthorized);

        await Http.AssertStatusAsync(await client.PostAsJsonAsync("/api/auth/signin", new { email = user.Email, password = user.Password }), HttpStatusCode.OK);
        await Http.AssertStatusAsync(await client.GetAsync("/api/me"), HttpStatusCode.OK);

        await Http.AssertStatusAsync(await client.PostAsync("/api/auth/signout", null), HttpStatusCode.NoContent);
        await Http.AssertStatusAsync(await client.GetAsync("/api/me"), HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task SignIn_WrongPassword_Returns401_WithoutSayingWhichPartWasWrong()
    {
        var user = await app.SignUpAsync();
        var wrongPassword = await app.CreateClient().PostAsJsonAsync("/api/auth/signin", new { email = user.Email, password = "wrong password!" });
        var unknownUser = await app.CreateClient().PostAsJsonAsync("/api/auth/signin", new { email = "nobody@tests.example", password = "wrong password!" });

        var first = await Http.AssertProblemAsync(wrongPassword, HttpStatusCode.Unauthorized, "invalid_credentials");
        var second = await Http.AssertProblemAsync(unknownUser, HttpStatusCode.Unauthorized, "invalid_credentials");
        Assert.Equal(first.GetProperty("detail").GetString(), second.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task SignIn_AfterFiveFailures_IsLockedOut_EvenWithTheRightPassword()
    {
        var user = await app.SignUpAsync();
        var client = app.CreateClient();
        for (var i = 0; i < 4; i++)
        {
            await Http.AssertProblemAsync(await client.PostAsJsonAsync("/api/auth/signin", new { email = user.Email, password = "wrong password!" }), HttpStatusCode.Unauthorized, "invalid_credentials");
        }
        var fifth = await client.PostAsJsonAsync("/api/auth/signin", new { email = user.Email, password = "wrong password!" });
        await Http.AssertProblemAsync(fifth, HttpStatusCode.TooManyRequests, "account_locked");
        Assert.True(int.Parse(fifth.Headers.RetryAfter!.ToString(), System.Globalization.CultureInfo.InvariantCulture) > 0);

        var right = await client.PostAsJsonAsync("/api/auth/signin", new { email = user.Email, password = user.Password });
        await Http.AssertProblemAsync(right, HttpStatusCode.TooManyRequests, "account_locked");
    }

    [Fact]
    public async Task FailuresFromOneAddress_LockOnlyThatAddress_AndLookTheSameWhetherTheAccountExistsOrNot()
    {
        var user = await app.SignUpAsync();
        using var stranger = ClientFrom("203.0.113.7");
        for (var i = 0; i < 4; i++)
        {
            await Http.AssertProblemAsync(await SignInAsync(stranger, user.Email, "wrong password!"), HttpStatusCode.Unauthorized, "invalid_credentials");
        }
        await Http.AssertProblemAsync(await SignInAsync(stranger, user.Email, "wrong password!"), HttpStatusCode.TooManyRequests, "account_locked");
        await Http.AssertProblemAsync(await SignInAsync(stranger, user.Email, user.Password), HttpStatusCode.TooManyRequests, "account_locked");

        // An email no account has is locked the same way: the lockout tells nothing about who has an account.
        var nobody = $"nobody-{Guid.NewGuid():N}@tests.example";
        HttpResponseMessage last = null!;
        for (var i = 0; i < 5; i++)
        {
            last = await SignInAsync(stranger, nobody, "wrong password!");
        }
        await Http.AssertProblemAsync(last, HttpStatusCode.TooManyRequests, "account_locked");

        // The stranger did not lock the owner out.
        using var owner = ClientFrom("198.51.100.20");
        await Http.AssertStatusAsync(await SignInAsync(owner, user.Email, user.Password), HttpStatusCode.OK);
    }

    [Fact]
    public async Task FailuresFromManyAddresses_LockTheAccountItself()
    {
        var user = await app.SignUpAsync();
        for (var address = 1; address <= 10; address++)
        {
            using var guesser = ClientFrom($"203.0.113.{address}");
            for (var i = 0; i < 5; i++)
            {
                await SignInAsync(guesser, user.Email, $"guess {address}.{i}");
            }
        }
        // Fifty failures in a row: even an address that never failed, with the right password, waits.
        using var owner = ClientFrom("198.51.100.21");
        await Http.AssertProblemAsync(await SignInAsync(owner, user.Email, user.Password), HttpStatusCode.TooManyRequests, "account_locked");
    }

    /// <summary>A client whose requests come from <paramref name="address"/>, as the app sees the connection.</summary>
    HttpClient ClientFrom(string address) =>
        new(app.Server.CreateHandler(context => context.Connection.RemoteIpAddress = IPAddress.Parse(address))) { BaseAddress = app.Server.BaseAddress };

    static Task<HttpResponseMessage> SignInAsync(HttpClient client, string email, string password) =>
        client.PostAsJsonAsync("/api/auth/signin", new { email, password });

    [Fact]
    public async Task TheSignInAndSignUpPages_NeverWriteATypedPasswordBackIntoThePage()
    {
        var user = await app.SignUpAsync();
        var client = app.CreateClient();
        var wrong = $"Wrong-{Guid.NewGuid():N}";
        var refused = await client.SubmitAsync("/signin", "signin", new() { ["Input.Email"] = user.Email, ["Input.Password"] = wrong });
        var html = await refused.HtmlAsync();
        Assert.Contains("alert-error", html, StringComparison.Ordinal);
        Assert.DoesNotContain(wrong, html, StringComparison.Ordinal);

        var tooShort = $"s{Guid.NewGuid():N}"[..8];
        var invalid = await client.SubmitAsync("/signup", "signup", new() { ["Input.Email"] = $"new-{Guid.NewGuid():N}@tests.example", ["Input.Name"] = "New", ["Input.Password"] = tooShort });
        var page = await invalid.HtmlAsync();
        Assert.Contains("10", page, StringComparison.Ordinal);
        Assert.DoesNotContain(tooShort, page, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheSignUpPage_SaysWhatIsWrong_InItsOwnWords()
    {
        var client = app.CreateClient();
        var page = await (await client.SubmitAsync("/signup", "signup", new() { ["Input.Email"] = "not-an-address", ["Input.Name"] = "", ["Input.Password"] = "long enough password" })).HtmlAsync();
        Assert.Contains("Enter an email address like name@example.com.", page, StringComparison.Ordinal);
        Assert.Contains("Enter your name.", page, StringComparison.Ordinal);
        Assert.DoesNotContain("field is", page, StringComparison.Ordinal); // the framework's "The Email field is not a valid e-mail address."
    }

    [Fact]
    public async Task Me_Anonymous_Returns401Problem()
    {
        var problem = await Http.AssertProblemAsync(await app.CreateClient().GetAsync("/api/me"), HttpStatusCode.Unauthorized, "unauthorized");
        Assert.StartsWith("Send an agent key", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    /// <summary>Browsers drop tabs and line breaks from a URL: <c>/\t/evil.example</c> would be followed as <c>//evil.example</c>, another host.</summary>
    [Theory]
    [InlineData("/\t/evil.example")]
    [InlineData("/\n/evil.example")]
    [InlineData("/\r/evil.example")]
    [InlineData("/\\evil.example")]
    public async Task AReturnUrlThatBrowsersReadAsAnotherHost_IsNotFollowed_AfterSignInOrSignUp(string returnUrl)
    {
        var user = await app.SignUpAsync();
        using var signingIn = app.CreateClient();
        PageForms.AssertRedirect(await signingIn.SubmitAsync("/signin", "signin", new() { ["Input.Email"] = user.Email, ["Input.Password"] = user.Password, ["returnUrl"] = returnUrl }),
            "/dashboard");

        using var signingUp = app.CreateClient();
        PageForms.AssertRedirect(await signingUp.SubmitAsync("/signup", "signup", new()
        {
            ["Input.Email"] = $"new-{Guid.NewGuid():N}@tests.example",
            ["Input.Name"] = "New",
            ["Input.Password"] = AgentMarketApp.DefaultPassword,
            ["returnUrl"] = returnUrl,
        }), "/dashboard");
    }
}
