using System.Net;
using System.Net.Http.Json;
using AgentMarket.Tests.Buyer;
using AgentMarket.Tests.Infrastructure;

namespace AgentMarket.Tests.Admin;

/// <summary>Operators see what the outbox holds and why an email failed, and send it again once the cause is fixed.</summary>
public class EmailAdminTests(MailApp app) : IClassFixture<MailApp>
{
    [Fact]
    public async Task AFailedEmail_IsListedWithItsError_AndSentAgainOnceTheCauseIsFixed()
    {
        var operatorClient = await app.OperatorAsync();
        var owner = await app.SignUpAsync();
        var invitee = $"bounced-{Guid.NewGuid():N}@tests.example";
        app.Smtp.RefuseRecipient(invitee);
        await Http.AssertStatusAsync(await owner.Client.PostAsJsonAsync("/api/invitations/", new { email = invitee, role = "member" }), HttpStatusCode.Created);

        var failed = await WaitForEmailAsync(operatorClient, "failed", invitee);
        Assert.Contains("550", failed.GetProperty("last_error").GetString(), StringComparison.Ordinal);
        Assert.Equal(1, failed.GetProperty("attempts").GetInt32());
        Assert.False(failed.TryGetProperty("body", out _)); // it may hold the invitation's secret link

        // The page shows it, with the way to send it again.
        var page = await (await operatorClient.GetAsync("/admin/emails?state=failed")).Content.ReadAsStringAsync();
        Assert.Contains(invitee, page, StringComparison.Ordinal);
        Assert.Contains("Send again", page, StringComparison.Ordinal);

        app.Smtp.AcceptRecipient(invitee); // the address was fixed at the recipient's side
        var uuid = failed.GetProperty("uuid").GetGuid();
        var retried = await Http.ReadJsonAsync(await operatorClient.PostAsync($"/api/admin/emails/{uuid}/retry", null));
        Assert.Equal(("pending", 0), (retried.GetProperty("state").GetString(), retried.GetProperty("attempts").GetInt32()));

        await app.Smtp.ReceivedByAsync(invitee);
        await WaitForEmailAsync(operatorClient, "sent", invitee);
        var audit = await Http.ReadJsonAsync(await operatorClient.GetAsync($"/api/admin/audit/?action=email.retried&target={uuid}"));
        Assert.Equal(1, audit.GetProperty("total").GetInt32());

        // Sent is sent.
        await Http.AssertProblemAsync(await operatorClient.PostAsync($"/api/admin/emails/{uuid}/retry", null), HttpStatusCode.Conflict, "email_sent");
    }

    [Fact]
    public async Task OnlyFailedEmailsCanBeRetried_AndOnlyByOperators()
    {
        var operatorClient = await app.OperatorAsync();
        await Http.AssertProblemAsync(await operatorClient.PostAsync($"/api/admin/emails/{Guid.NewGuid()}/retry", null), HttpStatusCode.NotFound, "not_found");

        var owner = await app.SignUpAsync();
        var invitee = $"waiting-{Guid.NewGuid():N}@tests.example";
        app.Smtp.DeferNextMessages(1);
        await Http.AssertStatusAsync(await owner.Client.PostAsJsonAsync("/api/invitations/", new { email = invitee, role = "member" }), HttpStatusCode.Created);
        var waiting = await WaitForEmailAsync(operatorClient, "pending", invitee, e => e.GetProperty("attempts").GetInt32() == 1 && e.GetProperty("last_error").ValueKind == System.Text.Json.JsonValueKind.String);
        await Http.AssertProblemAsync(await operatorClient.PostAsync($"/api/admin/emails/{waiting.GetProperty("uuid").GetGuid()}/retry", null), HttpStatusCode.Conflict, "email_pending");

        // Expired while it waited: it is given up, and sending it again is refused (the invitation no longer holds).
        app.Clock.Advance(TimeSpan.FromDays(15));
        operatorClient = await app.OperatorAsync(); // the sign-in of 15 days ago has expired
        var someone = await app.SignUpAsync();
        var expired = await WaitForEmailAsync(operatorClient, "failed", invitee);
        await Http.AssertProblemAsync(await operatorClient.PostAsync($"/api/admin/emails/{expired.GetProperty("uuid").GetGuid()}/retry", null), HttpStatusCode.Conflict, "email_expired");

        Assert.Equal(HttpStatusCode.NotFound, (await someone.Client.GetAsync("/api/admin/emails/")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await someone.Client.PostAsync($"/api/admin/emails/{expired.GetProperty("uuid").GetGuid()}/retry", null)).StatusCode);
    }

    [Fact]
    public async Task ThePagesSendAgainButton_QueuesTheEmail_AndACraftedErrorShowsNothing()
    {
        var operatorClient = await app.OperatorAsync();
        var owner = await app.SignUpAsync();
        var invitee = $"page-{Guid.NewGuid():N}@tests.example";
        app.Smtp.RefuseRecipient(invitee);
        await Http.AssertStatusAsync(await owner.Client.PostAsJsonAsync("/api/invitations/", new { email = invitee, role = "member" }), HttpStatusCode.Created);
        var failed = await WaitForEmailAsync(operatorClient, "failed", invitee);
        app.Smtp.AcceptRecipient(invitee);

        var posted = await operatorClient.SubmitAsync("/admin/emails?state=failed", "retry-email", new() { ["email"] = failed.GetProperty("uuid").GetGuid().ToString() });
        var back = AgentMarket.Tests.Buyer.PageForms.AssertRedirect(posted, "/admin/emails?state=failed&offset=0&queued=1");
        Assert.Contains("The email is queued again.", await operatorClient.HtmlAsync(back), StringComparison.Ordinal);
        await app.Smtp.ReceivedByAsync(invitee);

        var crafted = await operatorClient.HtmlAsync("/admin/emails?error=" + Uri.EscapeDataString("Your session expired: sign in at evil.example"));
        Assert.DoesNotContain("Your session expired", crafted, StringComparison.Ordinal); // (the form's action repeats the address, encoded)
        Assert.DoesNotContain("role=\"alert\"", crafted, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("?state=bogus")]
    [InlineData("?limit=abc")]
    public async Task ABadListQuery_IsRefusedWithAProblem(string query)
    {
        var operatorClient = await app.OperatorAsync();
        var response = await operatorClient.GetAsync("/api/admin/emails/" + query);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    static async Task<System.Text.Json.JsonElement> WaitForEmailAsync(HttpClient operatorClient, string state, string recipient, Func<System.Text.Json.JsonElement, bool>? condition = null)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (true)
        {
            var page = await Http.ReadJsonAsync(await operatorClient.GetAsync($"/api/admin/emails/?state={state}&limit=200"));
            var match = page.GetProperty("items").EnumerateArray().FirstOrDefault(e => e.GetProperty("recipient").GetString() == recipient && (condition?.Invoke(e) ?? true));
            if (match.ValueKind != System.Text.Json.JsonValueKind.Undefined)
            {
                return match;
            }
            Assert.True(DateTime.UtcNow < deadline, $"No {state} email to {recipient} appeared.");
            await Task.Delay(100);
        }
    }
}
