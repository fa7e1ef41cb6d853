using System.Net;
using System.Net.Http.Json;
using AgentMarket.Tests.Infrastructure;
using Microsoft.Playwright;

namespace AgentMarket.Tests.Browser;

/// <summary>An operator in Chromium finds an email the mail server refused and sends it again from the console.</summary>
public class EmailConsoleBrowserTests(MailBrowserApp app) : IClassFixture<MailBrowserApp>
{
    [Fact]
    public async Task Operator_SeesWhyAnEmailFailed_AndSendsItAgain()
    {
        var owner = await app.SignUpAsync("Team owner");
        var invitee = $"typo-{Guid.NewGuid():N}@tests.example";
        app.Smtp.RefuseRecipient(invitee);
        await Http.AssertStatusAsync(await owner.Client.PostAsJsonAsync("/api/invitations/", new { email = invitee, role = "member" }), HttpStatusCode.Created);

        await using var context = await app.Browser.NewContextAsync();
        var page = await context.NewPageAsync();
        await app.SignInAsOperatorAsync(page);

        await page.GotoAsync(app.BaseUrl + "/admin");
        await page.GetByRole(AriaRole.Navigation, new() { Name = "Operator console" }).GetByRole(AriaRole.Link, new() { Name = "Emails" }).ClickAsync();
        await page.WaitForPageAsync(app.BaseUrl + "/admin/emails");
        // The sender gives it up within a pass or two; the page is reloaded until it shows so.
        var row = page.GetByRole(AriaRole.Row).Filter(new() { HasText = invitee });
        for (var tries = 0; tries < 40 && !await row.GetByText("550").IsVisibleAsync(); tries++)
        {
            await Task.Delay(250);
            await page.ReloadAsync();
        }
        await Assertions.Expect(row).ToContainTextAsync("550 5.1.1 mailbox unavailable");

        app.Smtp.AcceptRecipient(invitee); // the address was fixed
        await row.GetByRole(AriaRole.Button, new() { Name = $"Send the email to {invitee} again" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Status)).ToHaveTextAsync("The email is queued again.");

        var delivered = await app.Smtp.ReceivedByAsync(invitee);
        Assert.StartsWith("You are invited to join ", delivered.Message.Subject, StringComparison.Ordinal);
    }
}
