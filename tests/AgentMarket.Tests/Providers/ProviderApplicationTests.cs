using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AgentMarket.Tests.Buyer;
using AgentMarket.Tests.Infrastructure;

namespace AgentMarket.Tests.Providers;

public class ProviderApplicationTests(AgentMarketApp app) : IClassFixture<AgentMarketApp>
{
    [Fact]
    public async Task Apply_WithAutoApproval_IsApprovedAtOnce_AndHasAPublicProfile()
    {
        var user = await app.SignUpAsync();
        var handle = $"acme-{Guid.NewGuid():N}"[..20];
        var created = await Http.ReadJsonAsync(await user.Client.PostAsJsonAsync("/api/providers/", new { handle = "@" + handle.ToUpperInvariant(), name = "Acme AI", bio = "We build agents." }), HttpStatusCode.Created);
        Assert.Equal(handle, created.GetProperty("handle").GetString());
        Assert.Equal("approved", created.GetProperty("state").GetString());

        var profile = await Http.ReadJsonAsync(await app.CreateClient().GetAsync($"/api/providers/{handle}"));
        Assert.Equal("Acme AI", profile.GetProperty("name").GetString());
        var me = await Http.ReadJsonAsync(await user.Client.GetAsync("/api/me"));
        Assert.True(me.GetProperty("organizations")[0].GetProperty("is_provider").GetBoolean());
    }

    [Fact]
    public async Task Apply_TakenHandle_Returns409_AndSecondApplication_Returns409()
    {
        var first = await app.SignUpAsync();
        var second = await app.SignUpAsync();
        var handle = $"h-{Guid.NewGuid():N}"[..16];
        await Http.AssertStatusAsync(await first.Client.PostAsJsonAsync("/api/providers/", new { handle, name = "First" }), HttpStatusCode.Created);

        await Http.AssertProblemAsync(await second.Client.PostAsJsonAsync("/api/providers/", new { handle, name = "Second" }), HttpStatusCode.Conflict, "handle_taken");
        await Http.AssertProblemAsync(await first.Client.PostAsJsonAsync("/api/providers/", new { handle = handle + "x", name = "Again" }), HttpStatusCode.Conflict, "already_provider");
    }

    [Theory]
    [InlineData("a")]
    [InlineData("-leading")]
    [InlineData("trailing-")]
    [InlineData("double--hyphen")]
    [InlineData("has space")]
    [InlineData("../etc")]
    [InlineData("ÜNICODE")]
    public async Task Apply_InvalidHandle_Returns400(string handle)
    {
        var user = await app.SignUpAsync();
        await Http.AssertProblemAsync(await user.Client.PostAsJsonAsync("/api/providers/", new { handle, name = "X" }), HttpStatusCode.BadRequest, "validation_failed");
    }

    [Theory]
    [InlineData("a")] // refused by the form's length check
    [InlineData("-leading")] // refused by the handle pattern behind the API
    public async Task ApplyPage_StatesTheWholeHandleRule_AndSaysWhyAHandleIsRefused_ByTheField(string handle)
    {
        var user = await app.SignUpAsync();
        const string rule = "2–40 lower-case letters, digits or single hyphens, starting and ending with a letter or digit.";
        Assert.Contains($"<small id=\"handle-help\" class=\"muted\">{rule}</small>", await user.Client.HtmlAsync("/provider"), StringComparison.Ordinal);

        var refused = await user.Client.SubmitAsync("/provider", "apply-provider", new() { ["Input.Handle"] = handle, ["Input.Name"] = "Handle Co" });

        await Http.AssertStatusAsync(refused, HttpStatusCode.OK);
        var html = await refused.HtmlAsync();
        var input = System.Text.RegularExpressions.Regex.Match(html, "<input[^>]*\\sid=\"handle\"[^>]*>").Value;
        Assert.Contains("aria-invalid=\"true\"", input, StringComparison.Ordinal);
        Assert.Contains("aria-describedby=\"handle-error handle-help\"", input, StringComparison.Ordinal);
        Assert.Matches("<small id=\"handle-error\" class=\"validation-message\">[^<]*2–40 lower-case letters, digits or single hyphens[^<]*</small>", html);
        Assert.DoesNotContain("role=\"alert\"", html, StringComparison.Ordinal);
        await Http.AssertStatusAsync(await user.Client.GetAsync("/api/providers/mine"), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task ApplyPage_TiesAMissingDisplayNamesMessage_ToItsField()
    {
        var user = await app.SignUpAsync();

        var refused = await user.Client.SubmitAsync("/provider", "apply-provider", new() { ["Input.Handle"] = $"n-{Guid.NewGuid():N}"[..16], ["Input.Name"] = "" });

        await Http.AssertStatusAsync(refused, HttpStatusCode.OK);
        var html = await refused.HtmlAsync();
        var input = System.Text.RegularExpressions.Regex.Match(html, "<input[^>]*\\sid=\"provider-name\"[^>]*>").Value;
        Assert.Contains("aria-invalid=\"true\"", input, StringComparison.Ordinal);
        Assert.Contains("aria-describedby=\"provider-name-error\"", input, StringComparison.Ordinal);
        Assert.Matches("<small id=\"provider-name-error\" class=\"validation-message\">[^<]+</small>", html);
        await Http.AssertStatusAsync(await user.Client.GetAsync("/api/providers/mine"), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task PublicProfile_UnknownHandle_Returns404()
    {
        await Http.AssertProblemAsync(await app.CreateClient().GetAsync("/api/providers/no-such-provider"), HttpStatusCode.NotFound, "not_found");
    }
}

/// <summary>An app where operators decide on provider applications.</summary>
public sealed class ManualApprovalApp : AgentMarketApp
{
    protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings() => [new("Marketplace:AutoApproveProviders", "false")];
}

public class ProviderApprovalTests(ManualApprovalApp app) : IClassFixture<ManualApprovalApp>
{
    [Fact]
    public async Task Apply_WithoutAutoApproval_WaitsForTheOperator_WhoApproves()
    {
        var user = await app.SignUpAsync();
        var handle = $"p-{Guid.NewGuid():N}"[..16];
        var created = await Http.ReadJsonAsync(await user.Client.PostAsJsonAsync("/api/providers/", new { handle, name = "Pending Co" }), HttpStatusCode.Created);
        Assert.Equal("pending", created.GetProperty("state").GetString());
        await Http.AssertStatusAsync(await app.CreateClient().GetAsync($"/api/providers/{handle}"), HttpStatusCode.NotFound);

        var operatorClient = await app.OperatorAsync();
        var queue = await Http.ReadJsonAsync(await operatorClient.GetAsync("/api/admin/providers/?state=pending"));
        var id = queue.GetProperty("items").EnumerateArray().Single(p => p.GetProperty("handle").GetString() == handle).GetProperty("uuid").GetGuid();
        var approved = await Http.ReadJsonAsync(await operatorClient.PostAsync($"/api/admin/providers/{id}/approve", null));
        Assert.Equal("approved", approved.GetProperty("state").GetString());

        await Http.AssertStatusAsync(await app.CreateClient().GetAsync($"/api/providers/{handle}"), HttpStatusCode.OK);
    }

    [Fact]
    public async Task Operator_Rejects_WithAReason_TheApplicantSees()
    {
        var user = await app.SignUpAsync();
        var handle = $"r-{Guid.NewGuid():N}"[..16];
        var created = await Http.ReadJsonAsync(await user.Client.PostAsJsonAsync("/api/providers/", new { handle, name = "Rejected Co" }), HttpStatusCode.Created);
        var operatorClient = await app.OperatorAsync();
        await Http.AssertProblemAsync(await operatorClient.PostAsJsonAsync($"/api/admin/providers/{created.GetProperty("uuid").GetGuid()}/reject", new { reason = "" }), HttpStatusCode.BadRequest, "validation_failed");
        await Http.AssertStatusAsync(await operatorClient.PostAsJsonAsync($"/api/admin/providers/{created.GetProperty("uuid").GetGuid()}/reject", new { reason = "Incomplete profile" }), HttpStatusCode.OK);

        var mine = await Http.ReadJsonAsync(await user.Client.GetAsync("/api/providers/mine"));
        Assert.Equal("rejected", mine.GetProperty("state").GetString());
        Assert.Equal("Incomplete profile", mine.GetProperty("decision_reason").GetString());
    }

    [Fact]
    public async Task ARejectedApplicant_AnswersTheReason_AndAppliesAgain_ThroughTheApiOrItsPage()
    {
        var operatorClient = await app.OperatorAsync();
        var (viaApi, apiUser) = await ApplyAsync();
        var (viaPage, pageUser) = await ApplyAsync();
        await Http.AssertProblemAsync(await apiUser.Client.PostAsJsonAsync("/api/providers/mine/reapply", new { }), HttpStatusCode.Conflict, "provider_not_rejected");
        foreach (var id in new[] { viaApi, viaPage })
        {
            await Http.AssertStatusAsync(await operatorClient.PostAsJsonAsync($"/api/admin/providers/{id}/reject", new { reason = "Tell us what you build" }), HttpStatusCode.OK);
        }

        await Http.AssertProblemAsync(await apiUser.Client.PostAsJsonAsync("/api/providers/mine/reapply", new { name = " " }), HttpStatusCode.BadRequest, "validation_failed");
        var again = await Http.ReadJsonAsync(await apiUser.Client.PostAsJsonAsync("/api/providers/mine/reapply", new { bio = "Support agents for shops." }));
        Assert.NotEqual("rejected", again.GetProperty("state").GetString());
        Assert.Equal(JsonValueKind.Null, again.GetProperty("decision_reason").ValueKind);
        Assert.Equal("Support agents for shops.", again.GetProperty("bio").GetString());

        Assert.Contains("Tell us what you build", await pageUser.Client.HtmlAsync("/provider"), StringComparison.Ordinal);
        // A blank name is refused by the field it is about, which the message is tied to.
        var blank = await (await pageUser.Client.SubmitAsync("/provider", "reapply-provider", new() { ["name"] = " ", ["bio"] = "Agents for clinics." })).HtmlAsync();
        var nameInput = System.Text.RegularExpressions.Regex.Match(blank, "<input[^>]*\\sid=\"reapply-name\"[^>]*>").Value;
        Assert.Contains("aria-invalid=\"true\"", nameInput, StringComparison.Ordinal);
        Assert.Contains("aria-describedby=\"reapply-name-error\"", nameInput, StringComparison.Ordinal);
        Assert.Matches("<small id=\"reapply-name-error\" class=\"validation-message\">Give a display name[^<]*</small>", blank);
        Assert.DoesNotContain("role=\"alert\"", blank, StringComparison.Ordinal);
        PageForms.AssertRedirect(await pageUser.Client.SubmitAsync("/provider", "reapply-provider", new() { ["name"] = "Applicant Co", ["bio"] = "Agents for clinics." }), "/provider");
        var mine = await Http.ReadJsonAsync(await pageUser.Client.GetAsync("/api/providers/mine"));
        Assert.Equal(("Agents for clinics.", false), (mine.GetProperty("bio").GetString(), mine.GetProperty("state").GetString() == "rejected"));
    }

    [Fact]
    public async Task ConsolePage_ApprovesAndRejectsApplications_SaysSo_AndARejectionNeedsItsReason()
    {
        var (approved, _) = await ApplyAsync();
        var (rejected, applicant) = await ApplyAsync();
        var operatorClient = await app.OperatorAsync();

        PageForms.AssertRedirect(await operatorClient.SubmitAsync("/admin", "provider-decision", new() { ["reject"] = rejected.ToString(), [$"reason-{rejected}"] = " " }), "/admin?error=reason_required");
        Assert.Contains("Give a reason of up to 1,000 characters to reject", await operatorClient.HtmlAsync("/admin?error=reason_required"), StringComparison.Ordinal);
        Assert.Equal("pending", await StateAsync(operatorClient, rejected));

        PageForms.AssertRedirect(await operatorClient.SubmitAsync("/admin", "provider-decision", new() { ["approve"] = approved.ToString() }), "/admin?done=provider_approved");
        Assert.Contains("The application is approved", await operatorClient.HtmlAsync("/admin?done=provider_approved"), StringComparison.Ordinal);
        Assert.Equal("approved", await StateAsync(operatorClient, approved));

        PageForms.AssertRedirect(await operatorClient.SubmitAsync("/admin", "provider-decision",
            new() { ["reject"] = rejected.ToString(), [$"reason-{rejected}"] = "Tell us what your agents do." }), "/admin?done=provider_rejected");
        var mine = await Http.ReadJsonAsync(await applicant.Client.GetAsync("/api/providers/mine"));
        Assert.Equal(("rejected", "Tell us what your agents do."), (mine.GetProperty("state").GetString(), mine.GetProperty("decision_reason").GetString()));
    }

    [Fact]
    public async Task ConsolePage_ADecisionOnAnApplicationAnotherOperatorDecidedAfterThePageWasRead_SaysSo_AndChangesNothing()
    {
        var (id, applicant) = await ApplyAsync();
        var operatorClient = await app.OperatorAsync();
        var page = await operatorClient.HtmlAsync("/admin");
        Assert.Contains($"value=\"{id}\"", page, StringComparison.Ordinal);
        await Http.AssertStatusAsync(await (await app.OperatorAsync()).PostAsJsonAsync($"/api/admin/providers/{id}/reject", new { reason = "Incomplete profile" }), HttpStatusCode.OK);

        // The first operator's page still shows the application; its buttons post the section's one form, which the page still has.
        PageForms.AssertRedirect(await operatorClient.SubmitFromPageAsync("/admin", page, "provider-decision", new() { ["approve"] = id.ToString() }), "/admin?error=provider_decided");
        PageForms.AssertRedirect(await operatorClient.SubmitFromPageAsync("/admin", page, "provider-decision",
            new() { ["reject"] = id.ToString(), [$"reason-{id}"] = "Another reason" }), "/admin?error=provider_decided");
        Assert.Contains("Another operator decided on that application first: nothing changed.", await operatorClient.HtmlAsync("/admin?error=provider_decided"), StringComparison.Ordinal);
        var mine = await Http.ReadJsonAsync(await applicant.Client.GetAsync("/api/providers/mine"));
        Assert.Equal(("rejected", "Incomplete profile"), (mine.GetProperty("state").GetString(), mine.GetProperty("decision_reason").GetString()));
    }

    [Fact]
    public async Task ConsolePage_ShowsOnlyItsOwnMessages_NotTheWordsOfACraftedLink()
    {
        var operatorClient = await app.OperatorAsync();
        var crafted = Uri.EscapeDataString("Your session expired: sign in again at evil.example");
        var page = await operatorClient.HtmlAsync($"/admin?error={crafted}&done={crafted}");
        Assert.DoesNotContain("Your session expired", page, StringComparison.Ordinal);
        Assert.DoesNotContain("alert-error", page, StringComparison.Ordinal);
        Assert.DoesNotContain("alert-ok", page, StringComparison.Ordinal);
    }

    async Task<(Guid Id, TestUser Applicant)> ApplyAsync()
    {
        var user = await app.SignUpAsync();
        var handle = $"a{Guid.NewGuid():N}"[..16];
        var created = await Http.ReadJsonAsync(await user.Client.PostAsJsonAsync("/api/providers/", new { handle, name = "Applicant Co" }), HttpStatusCode.Created);
        return (created.GetProperty("uuid").GetGuid(), user);
    }

    static async Task<string?> StateAsync(HttpClient operatorClient, Guid id) =>
        (await Http.ReadJsonAsync(await operatorClient.GetAsync("/api/admin/providers/?limit=200"))).GetProperty("items").EnumerateArray()
            .Single(p => p.GetProperty("uuid").GetGuid() == id).GetProperty("state").GetString();

    [Fact]
    public async Task TheDecisionAProviderAlreadyHas_ChangesNothing_AndIsNotAuditedAgain()
    {
        var operatorClient = await app.OperatorAsync();
        var (approved, _) = await ApplyAsync();
        var (rejected, _) = await ApplyAsync();
        for (var time = 0; time < 2; time++)
        {
            await Http.AssertStatusAsync(await operatorClient.PostAsync($"/api/admin/providers/{approved}/approve", null), HttpStatusCode.OK);
            await Http.AssertStatusAsync(await operatorClient.PostAsJsonAsync($"/api/admin/providers/{rejected}/reject", new { reason = "Incomplete profile" }), HttpStatusCode.OK);
        }
        // A new reason is a change: the applicant reads it.
        await Http.AssertStatusAsync(await operatorClient.PostAsJsonAsync($"/api/admin/providers/{rejected}/reject", new { reason = "Add a website" }), HttpStatusCode.OK);

        Assert.Single(await EntriesAsync(operatorClient, "provider.approved", approved));
        var rejections = await EntriesAsync(operatorClient, "provider.rejected", rejected);
        Assert.Equal(2, rejections.Count);
        Assert.Single(rejections, e => e.GetProperty("before").GetProperty("reason").GetString() == "Incomplete profile"
            && e.GetProperty("after").GetProperty("reason").GetString() == "Add a website");
    }

    static async Task<List<JsonElement>> EntriesAsync(HttpClient operatorClient, string action, Guid provider) =>
        [.. (await Http.ReadJsonAsync(await operatorClient.GetAsync($"/api/admin/audit/?action={action}&target={provider}"))).GetProperty("items").EnumerateArray()];

    [Fact]
    public async Task AdminRoutes_AreNotFound_ForUsersAndVisitors()
    {
        var user = await app.SignUpAsync();
        await Http.AssertProblemAsync(await user.Client.GetAsync("/api/admin/providers/"), HttpStatusCode.NotFound, "not_found");
        await Http.AssertProblemAsync(await app.CreateClient().GetAsync("/api/admin/providers/"), HttpStatusCode.NotFound, "not_found");
    }
}
