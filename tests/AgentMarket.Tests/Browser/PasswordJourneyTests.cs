using System.Text.RegularExpressions;
using AgentMarket.Tests.Infrastructure;
using Microsoft.Playwright;

namespace AgentMarket.Tests.Browser;

public partial class PasswordJourneyTests(MailBrowserApp app) : IClassFixture<MailBrowserApp>
{
    [Fact]
    public async Task AUserWhoForgotTheirPassword_ResetsItFromTheEmailedLink_ThenChangesIt()
    {
        var user = await app.SignUpAsync("Forgetful Fran");
        await using var context = await app.Browser.NewContextAsync();
        var page = await context.NewPageAsync();

        await page.GotoAsync(app.BaseUrl + "/signin");
        await page.GetByRole(AriaRole.Link, new() { Name = "Forgot your password?" }).ClickAsync();
        await page.WaitForPageAsync(app.BaseUrl + "/forgot-password");
        await page.GetByLabel("Email").FillAsync(user.Email);
        await page.GetByRole(AriaRole.Button, new() { Name = "Email me a link" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("we have emailed it a link");

        var email = await app.Smtp.ReceivedByAsync(user.Email);
        var link = ResetLink().Match(email.Message.TextBody ?? "").Value;
        Assert.StartsWith(MailBrowserApp.PublicUrl + "/reset-password?token=", link, StringComparison.Ordinal);
        await page.GotoAsync(app.BaseUrl + link[MailBrowserApp.PublicUrl.Length..]); // the public address is a proxy's, in front of this server
        await page.Locator("#password").FillAsync("my memorable new password");
        await page.Locator("#confirm").FillAsync("my memorable new password");
        await page.GetByRole(AriaRole.Button, new() { Name = "Set the new password" }).ClickAsync();

        await page.WaitForPageAsync(app.BaseUrl + "/signin?reset=done");
        await Assertions.Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("Your password has been changed");
        await page.GetByLabel("Email").FillAsync(user.Email);
        await page.GetByLabel("Password").FillAsync("my memorable new password");
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await page.WaitForPageAsync(app.BaseUrl + "/my-agents");

        // Signed in, the name in the header leads to the account page, and from there to the password page.
        await page.GetByRole(AriaRole.Link, new() { Name = "Forgetful Fran" }).ClickAsync();
        await page.WaitForPageAsync(app.BaseUrl + "/account");
        await page.GetByRole(AriaRole.Link, new() { Name = "Change your password" }).ClickAsync();
        await page.WaitForPageAsync(app.BaseUrl + "/account/password");
        await page.Locator("#current").FillAsync("my memorable new password");
        await page.Locator("#password").FillAsync("an even better password");
        await page.Locator("#confirm").FillAsync("an even better password");
        await page.GetByRole(AriaRole.Button, new() { Name = "Change password" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("Your password has been changed");

        // This session stays signed in with the new cookie.
        await page.GotoAsync(app.BaseUrl + "/my-agents");
        await Assertions.Expect(page.GetByRole(AriaRole.Link, new() { Name = "Forgetful Fran" })).ToBeVisibleAsync();

        // Her account page renames her, and the header says so at once.
        await page.GotoAsync(app.BaseUrl + "/account");
        await page.Locator("#name").FillAsync("Fran Remembers");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();
        await page.WaitForPageAsync(app.BaseUrl + "/account?done=saved");
        await Assertions.Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("Your name has been saved");
        await Assertions.Expect(page.GetByRole(AriaRole.Link, new() { Name = "Fran Remembers" })).ToBeVisibleAsync();
    }

    [Fact]
    public async Task AUsedOrMistypedLink_SaysSo_AndOffersANewOne()
    {
        await using var context = await app.Browser.NewContextAsync();
        var page = await context.NewPageAsync();
        await page.GotoAsync(app.BaseUrl + "/reset-password?token=am_pwr_not-a-real-token");

        // Said before any password is typed: there is no form to fill.
        await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("This reset link does not work");
        await Assertions.Expect(page.Locator("#password")).ToHaveCountAsync(0);
        await Assertions.Expect(page.GetByRole(AriaRole.Link, new() { Name = "Ask for a new link" })).ToBeVisibleAsync();
    }

    [GeneratedRegex(@"https?://\S+/reset-password\?token=\S+")]
    private static partial Regex ResetLink();
}
