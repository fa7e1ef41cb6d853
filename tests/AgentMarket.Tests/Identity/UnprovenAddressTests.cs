using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using AgentMarket.Audit;
using AgentMarket.Identity.Sso;
using AgentMarket.Platform.Data;
using AgentMarket.Tests.Buyer;
using AgentMarket.Tests.Infrastructure;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace AgentMarket.Tests.Identity;

/// <summary>
/// Sign-up takes any address without proof, so whoever opens an account on someone else's address must lose it once the
/// address's owner proves it: by single sign-on, or by a reset link (ADR-151).
/// </summary>
public partial class UnprovenAddressTests(MailApp app) : IClassFixture<MailApp>
{
    const string NewPassword = "the owner's own password";

    [Fact]
    public async Task ASquatter_LosesPasswordSessionAndTokens_WhenTheAddressOwnerFirstSignsInThroughSso()
    {
        // The squatter signs up with the victim's address and their own password, and mints a token.
        var squatter = await app.SignUpAsync("Squatter");
        var token = await squatter.CreateTokenAsync("backdoor");
        var provider = await AddIdentityProviderAsync();

        // The address's owner signs in through their company's provider, which verified the address: same account.
        Assert.Equal(squatter.UserId, await SsoSignInAsync(provider, Guid.NewGuid().ToString(), squatter.Email));

        await Http.AssertProblemAsync(await squatter.Client.GetAsync("/api/me"), HttpStatusCode.Unauthorized, "unauthorized");
        await Http.AssertStatusAsync(await app.BearerClient(token).GetAsync("/api/me"), HttpStatusCode.Unauthorized);
        using var anonymous = Anonymous();
        await Http.AssertProblemAsync(await anonymous.PostAsJsonAsync("/api/auth/signin", new { email = squatter.Email, password = squatter.Password }),
            HttpStatusCode.Unauthorized, "invalid_credentials");
        var operatorClient = await app.OperatorAsync();
        var entry = (await Http.ReadJsonAsync(await operatorClient.GetAsync($"/api/admin/audit/?action={AuditActions.UnprovenAccountClaimed}&target={squatter.UserId}")))
            .GetProperty("items").EnumerateArray().Single();
        Assert.Contains("\"personal_tokens\":1", entry.GetProperty("before").ToString(), StringComparison.Ordinal);

        // An account whose address was proven (a used reset link) keeps its password and session when SSO first reaches it.
        var owner = await app.SignUpAsync("Owner");
        using var ownerClient = await ResetAndSignInAsync(owner.Email);
        Assert.Equal(owner.UserId, await SsoSignInAsync(provider, Guid.NewGuid().ToString(), owner.Email));
        await Http.AssertStatusAsync(await ownerClient.GetAsync("/api/me"), HttpStatusCode.OK);
        await Http.AssertStatusAsync(await anonymous.PostAsJsonAsync("/api/auth/signin", new { email = owner.Email, password = NewPassword }), HttpStatusCode.OK);
    }

    [Fact]
    public async Task APasswordReset_RevokesThePersonalTokensMintedWithTheOldPassword()
    {
        // A squatter (or a thief with the password) mints a token; the address's owner resets the password.
        var user = await app.SignUpAsync();
        var token = await user.CreateTokenAsync("backdoor");
        await Http.AssertStatusAsync(await app.BearerClient(token).GetAsync("/api/me"), HttpStatusCode.OK);

        using var owner = await ResetAndSignInAsync(user.Email);

        await Http.AssertStatusAsync(await app.BearerClient(token).GetAsync("/api/me"), HttpStatusCode.Unauthorized);
        Assert.Contains("personal access tokens revoked", (await app.Smtp.ReceivedByAsync(user.Email, "Your password was changed")).Message.TextBody, StringComparison.Ordinal);
        var listed = (await Http.ReadJsonAsync(await owner.GetAsync("/api/auth/tokens"))).EnumerateArray().Single();
        Assert.True(listed.GetProperty("revoked").GetBoolean());
    }

    [Fact]
    public async Task CreatingAToken_ThroughTheApiOrThePage_EmailsTheAccountsAddress()
    {
        var user = await app.SignUpAsync();
        await user.CreateTokenAsync("minted by api");
        var fromApi = (await app.Smtp.ReceivedByAsync(user.Email, "A personal access token was created")).Message.TextBody;
        Assert.Contains("\"minted by api\"", fromApi, StringComparison.Ordinal);

        var other = await app.SignUpAsync();
        await Http.AssertStatusAsync(await other.Client.SubmitAsync("/organization", "create-token", new() { ["Input.Name"] = "minted on page" }), HttpStatusCode.OK);
        var fromPage = (await app.Smtp.ReceivedByAsync(other.Email, "A personal access token was created")).Message.TextBody;
        Assert.Contains("\"minted on page\"", fromPage, StringComparison.Ordinal);
    }

    /// <summary>Proves the mailbox with a reset link, then signs in with the password it set.</summary>
    async Task<HttpClient> ResetAndSignInAsync(string email)
    {
        using var anonymous = Anonymous();
        await Http.AssertStatusAsync(await anonymous.PostAsJsonAsync("/api/auth/password-reset", new { email }), HttpStatusCode.Accepted);
        var token = ResetTokenIn((await app.Smtp.ReceivedByAsync(email, "Reset your password")).Message.TextBody);
        await Http.AssertStatusAsync(await anonymous.PostAsJsonAsync("/api/auth/password-reset/confirm", new { token, password = NewPassword }), HttpStatusCode.NoContent);
        var client = app.CreateClient();
        await Http.AssertStatusAsync(await client.PostAsJsonAsync("/api/auth/signin", new { email, password = NewPassword }), HttpStatusCode.OK);
        return client;
    }

    Task<IdentityProvider> AddIdentityProviderAsync() => app.InScopeAsync(null, async services =>
    {
        var db = services.GetRequiredService<AppDbContext>();
        var provider = new IdentityProvider { Name = $"Corp SSO {Guid.NewGuid():N}"[..20], Issuer = "https://sso.corp.example", ClientId = "market", ClientSecretProtected = "-", Scopes = "openid email" };
        db.IdentityProviders.Add(provider);
        await db.SaveChangesAsync();
        return provider;
    });

    /// <summary>A single sign-on whose provider vouched for <paramref name="email"/>: the account it reaches.</summary>
    Task<Guid> SsoSignInAsync(IdentityProvider provider, string subject, string email) => app.InScopeAsync(null, async services =>
        (await services.GetRequiredService<SsoAccounts>().SignInAsync(provider, new SsoProfile(subject, email, EmailVerified: true, "Someone"), CancellationToken.None)).Id);

    HttpClient Anonymous() => app.CreateClient(new WebApplicationFactoryClientOptions { HandleCookies = false });

    static string ResetTokenIn(string? body) =>
        ResetLink().Match(body ?? "") is { Success: true } match ? match.Groups[1].Value : throw new InvalidOperationException("No reset link in: " + body);

    [GeneratedRegex("token=(am_pwr_[0-9A-Za-z]+)")]
    private static partial Regex ResetLink();
}
