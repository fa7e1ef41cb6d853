using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AgentMarket.Tests.Buyer;
using AgentMarket.Tests.Catalog;
using AgentMarket.Tests.Infrastructure;

namespace AgentMarket.Tests.Identity;

/// <summary>The organization settings page, server-rendered: members, invitations, projects and tokens on one page.</summary>
public class OrganizationPageTests(AgentMarketApp app) : IClassFixture<AgentMarketApp>
{
    [Fact]
    public async Task OrganizationPage_ShowsMembersInvitationsProjectsAndTokens()
    {
        var owner = await app.SignUpAsync("Page Owner");
        await Http.AssertStatusAsync(await owner.Client.PostAsJsonAsync("/api/projects/", new { name = "Side project" }), HttpStatusCode.Created);
        await Http.AssertStatusAsync(await owner.Client.PostAsJsonAsync("/api/invitations/", new { email = "invited@tests.example", role = "manager" }), HttpStatusCode.Created);
        await owner.CreateTokenAsync("deploy script");

        for (var attempt = 0; attempt < 5; attempt++)
        {
            var page = await owner.Client.GetAsync("/organization");
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            var html = System.Net.WebUtility.HtmlDecode(await page.Content.ReadAsStringAsync());
            foreach (var expected in new[] { "Page Owner's Organization", owner.Email, "invited@tests.example", "Side project", "deploy script" })
            {
                Assert.Contains(expected, html, StringComparison.Ordinal);
            }
        }
    }

    [Fact]
    public async Task Renaming_OnThePageOrThroughTheApi_IsAudited_AndTheNameItAlreadyHasIsNot()
    {
        var owner = await app.SignUpAsync("Renaming Owner");
        PageForms.AssertRedirect(await owner.Client.SubmitAsync("/organization", "rename-org", new() { ["Rename.Name"] = "Named on the page" }), "/organization");
        await Http.ReadJsonAsync(await owner.Client.PatchAsJsonAsync($"/api/organizations/{owner.OrganizationId}", new { name = "Named through the API" }));
        await Http.ReadJsonAsync(await owner.Client.PatchAsJsonAsync($"/api/organizations/{owner.OrganizationId}", new { name = " Named through the API " }));
        PageForms.AssertRedirect(await owner.Client.SubmitAsync("/organization", "rename-org", new() { ["Rename.Name"] = "Named through the API" }), "/organization");

        var log = await Http.ReadJsonAsync(await owner.Client.GetAsync($"/api/organizations/{owner.OrganizationId}/audit/?action=organization.renamed"));
        var renames = log.GetProperty("items").EnumerateArray()
            .Select(e => (Before: e.GetProperty("before").GetProperty("name").GetString(), After: e.GetProperty("after").GetProperty("name").GetString(),
                Actor: e.GetProperty("actor").GetProperty("email").GetString(), Target: e.GetProperty("target").GetProperty("id").GetString()))
            .OrderBy(r => r.After, StringComparer.Ordinal).ToList();
        Assert.Equal(
            [("Renaming Owner's Organization", "Named on the page", owner.Email, owner.OrganizationId.ToString()),
             ("Named on the page", "Named through the API", owner.Email, owner.OrganizationId.ToString())],
            renames);
    }

    [Fact]
    public async Task InvitingAnAddressThatIsNotOne_SaysWhatAnAddressLooksLike()
    {
        var owner = await app.SignUpAsync();

        var refused = await owner.Client.SubmitAsync("/organization", "invite", new() { ["Input.Email"] = "not-an-address", ["Input.Role"] = "Member" });

        await Http.AssertStatusAsync(refused, HttpStatusCode.OK);
        var html = await refused.HtmlAsync();
        Assert.Contains("Enter an address like name@company.com.", html, StringComparison.Ordinal);
        Assert.DoesNotContain("e-mail address", html, StringComparison.Ordinal);
        var invitations = await Http.ReadJsonAsync(await owner.Client.GetAsync("/api/invitations/"));
        Assert.Empty(invitations.GetProperty("items").EnumerateArray());
    }

    [Fact]
    public async Task InvitePage_TiesTheEmailsMessage_ToItsField_ForABadAddressAndAMember()
    {
        var owner = await app.SignUpAsync();

        foreach (var (email, message) in new[] { ("not-an-address", "Enter an address like name@company.com."), (owner.Email, "This person is already a member.") })
        {
            var refused = await owner.Client.SubmitAsync("/organization", "invite", new() { ["Input.Email"] = email, ["Input.Role"] = "Member" });

            await Http.AssertStatusAsync(refused, HttpStatusCode.OK);
            var html = await refused.HtmlAsync();
            var input = System.Text.RegularExpressions.Regex.Match(html, "<input[^>]*\\sid=\"invite-email\"[^>]*>").Value;
            Assert.Contains("aria-invalid=\"true\"", input, StringComparison.Ordinal);
            Assert.Contains("aria-describedby=\"invite-email-error\"", input, StringComparison.Ordinal);
            Assert.Contains($"<small id=\"invite-email-error\" class=\"validation-message\">{message}</small>", html, StringComparison.Ordinal);
        }
        var invitations = await Http.ReadJsonAsync(await owner.Client.GetAsync("/api/invitations/"));
        Assert.Empty(invitations.GetProperty("items").EnumerateArray());
    }

    [Fact]
    public async Task CreatingATokenOnThePage_ShowsTheSecretOnce()
    {
        var owner = await app.SignUpAsync();
        var form = await owner.Client.GetAsync("/organization");
        var antiforgery = Forms.HiddenValue(await form.Content.ReadAsStringAsync(), "__RequestVerificationToken");
        var created = await owner.Client.PostAsync("/organization", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["_handler"] = "create-token",
            ["__RequestVerificationToken"] = antiforgery,
            ["Input.Name"] = "from the page",
        }));
        Assert.Equal(HttpStatusCode.OK, created.StatusCode);
        var html = await created.Content.ReadAsStringAsync();
        var secret = System.Text.RegularExpressions.Regex.Match(html, "am_pat_[0-9A-Za-z]{38}").Value;
        Assert.NotEmpty(secret);
        await Http.AssertStatusAsync(await app.BearerClient(secret).GetAsync("/api/me"), HttpStatusCode.OK);
        Assert.DoesNotContain(secret, await (await owner.Client.GetAsync("/organization")).Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task TokensFromThePage_ExpireByDefault_OrWhenChosen_AndNeverOnlyWhenNeverIsChosen()
    {
        var owner = await app.SignUpAsync();
        // What a browser posts when nobody touches the choice: the option the page selected.
        var html = await owner.Client.HtmlAsync("/organization");
        var selected = System.Text.RegularExpressions.Regex.Match(html, "<option value=\"(?<days>-?[0-9]+)\" selected");
        Assert.True(selected.Success, "the page preselects no expiry");
        var defaultDays = int.Parse(selected.Groups["days"].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(AgentMarket.Identity.Pages.AccessTokens.TokenInput.DefaultExpiryDays, defaultDays);
        Assert.True(defaultDays > 0, "a token made without a choice must expire");
        // "unchosen": a post without the field (a page from before the choice) gets the default, never "never".
        var choices = new Dictionary<string, int?> { ["by default"] = defaultDays, ["unchosen"] = defaultDays, ["a year"] = 365, ["never"] = null };

        foreach (var (name, days) in choices)
        {
            var fields = new Dictionary<string, string> { ["Input.Name"] = name };
            if (name != "unchosen")
            {
                fields["Input.ExpiresInDays"] = (days ?? AgentMarket.Identity.Pages.AccessTokens.TokenInput.NoExpiry).ToString(System.Globalization.CultureInfo.InvariantCulture);
            }
            var before = app.Clock.GetUtcNow().UtcDateTime;
            await Http.AssertStatusAsync(await owner.Client.SubmitAsync("/organization", "create-token", fields), HttpStatusCode.OK);
            var after = app.Clock.GetUtcNow().UtcDateTime;

            var expires = (await TokenAsync(owner, name)).GetProperty("expires_at");
            if (days is { } d)
            {
                Assert.InRange(expires.GetDateTime(), before.AddDays(d), after.AddDays(d));
            }
            else
            {
                Assert.Equal(JsonValueKind.Null, expires.ValueKind);
            }
        }

        var refused = await owner.Client.SubmitAsync("/organization", "create-token", new() { ["Input.Name"] = "a week", ["Input.ExpiresInDays"] = "7" });
        await Http.AssertStatusAsync(refused, HttpStatusCode.OK);
        Assert.Contains("Choose when the token expires.", await refused.HtmlAsync(), StringComparison.Ordinal);
        var tokens = await Http.ReadJsonAsync(await owner.Client.GetAsync("/api/auth/tokens"));
        Assert.DoesNotContain(tokens.EnumerateArray(), t => t.GetProperty("name").GetString() == "a week");
    }

    static async Task<JsonElement> TokenAsync(TestUser user, string name) =>
        (await Http.ReadJsonAsync(await user.Client.GetAsync("/api/auth/tokens"))).EnumerateArray().Single(t => t.GetProperty("name").GetString() == name);

    [Fact]
    public async Task MembersSection_ChangesARoleAndRemovesAMember_ThroughItsOneForm_AndSaysWhyItRefuses()
    {
        var owner = await app.SignUpAsync();
        var member = await app.JoinAsync(owner, "member");
        var membership = await MembershipAsync(owner, member.UserId);

        PageForms.AssertRedirect(await owner.Client.SubmitAsync("/organization", "member-action",
            new() { ["change-role"] = membership.ToString(), [$"role-{membership}"] = "Manager" }), "/organization");
        Assert.Equal("manager", (await MemberAsync(owner, member.UserId))!.Value.GetProperty("role").GetString());

        var ownMembership = await MembershipAsync(owner, owner.UserId);
        var refused = await owner.Client.SubmitAsync("/organization", "member-action", new() { ["remove"] = ownMembership.ToString() });
        Assert.Equal(HttpStatusCode.OK, refused.StatusCode);
        Assert.Contains("An organization needs at least one owner", await refused.HtmlAsync(), StringComparison.Ordinal);
        var invalid = await owner.Client.SubmitAsync("/organization", "member-action", new() { ["change-role"] = membership.ToString(), [$"role-{membership}"] = "Emperor" });
        Assert.Contains("Choose one of the roles in the list.", await invalid.HtmlAsync(), StringComparison.Ordinal);

        PageForms.AssertRedirect(await owner.Client.SubmitAsync("/organization", "member-action", new() { ["remove"] = membership.ToString() }), "/organization");
        Assert.Null(await MemberAsync(owner, member.UserId));
    }

    [Fact]
    public async Task MembersSection_ARowWhoseMemberLeftAfterThePageWasRead_SaysSo_InsteadOfABlankPage()
    {
        var owner = await app.SignUpAsync();
        var member = await app.JoinAsync(owner, "member");
        var membership = await MembershipAsync(owner, member.UserId);
        var page = await owner.Client.HtmlAsync("/organization");
        Assert.Contains($"value=\"{membership}\"", page, StringComparison.Ordinal);
        await Http.AssertStatusAsync(await member.Client.DeleteAsync($"/api/members/{membership}"), HttpStatusCode.NoContent);

        // The owner's page still shows the row: Remove and Change post the section's one form, which the page still has.
        foreach (var fields in new Dictionary<string, string>[] { new() { ["remove"] = membership.ToString() }, new() { ["change-role"] = membership.ToString(), [$"role-{membership}"] = "Owner" } })
        {
            var response = await owner.Client.SubmitFromPageAsync("/organization", page, "member-action", fields);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Contains("That member is no longer in this organization: they left or another owner removed them.", await response.HtmlAsync(), StringComparison.Ordinal);
        }
        var members = await Http.ReadJsonAsync(await owner.Client.GetAsync("/api/members/"));
        Assert.Equal("owner", Assert.Single(members.GetProperty("items").EnumerateArray()).GetProperty("role").GetString());
    }

    [Fact]
    public async Task InvitationsSection_RevokesThroughItsOneForm_AndARowRevokedOrAcceptedMeanwhile_SaysSo()
    {
        var owner = await app.SignUpAsync();
        var first = await InviteAsync(owner, "first@tests.example");
        var second = await InviteAsync(owner, "second@tests.example");

        var revoked = await owner.Client.SubmitAsync("/organization", "invitation-action", new() { ["revoke"] = first.ToString() });
        Assert.Equal(HttpStatusCode.OK, revoked.StatusCode);
        Assert.DoesNotContain("alert-error", await revoked.HtmlAsync(), StringComparison.Ordinal);
        Assert.Equal("revoked", await InvitationStateAsync(owner, first));

        var page = await owner.Client.HtmlAsync("/organization");
        Assert.Contains($"value=\"{second}\"", page, StringComparison.Ordinal);
        await Http.AssertStatusAsync(await owner.Client.DeleteAsync($"/api/invitations/{second}"), HttpStatusCode.NoContent);
        var stale = await owner.Client.SubmitFromPageAsync("/organization", page, "invitation-action", new() { ["revoke"] = second.ToString() });
        Assert.Equal(HttpStatusCode.OK, stale.StatusCode);
        Assert.Contains("That invitation is no longer pending: it was accepted or revoked meanwhile.", await stale.HtmlAsync(), StringComparison.Ordinal);
        Assert.Equal("revoked", await InvitationStateAsync(owner, second));
    }

    [Fact]
    public async Task InvitationsSection_AManagerDemotedAfterThePageWasRead_IsToldSo_AndRevokesNothing()
    {
        var owner = await app.SignUpAsync();
        var manager = await app.JoinAsync(owner, "manager");
        var invitation = await InviteAsync(owner, "pending@tests.example");
        var page = await manager.Client.HtmlAsync("/organization");
        Assert.Contains($"value=\"{invitation}\"", page, StringComparison.Ordinal);
        await Http.AssertStatusAsync(await owner.Client.PatchAsJsonAsync($"/api/members/{await MembershipAsync(owner, manager.UserId)}", new { role = "member" }), HttpStatusCode.OK);

        var response = await manager.Client.SubmitFromPageAsync("/organization", page, "invitation-action", new() { ["revoke"] = invitation.ToString() });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("Only owners and managers can revoke invitations.", await response.HtmlAsync(), StringComparison.Ordinal);
        Assert.Equal("pending", await InvitationStateAsync(owner, invitation));
    }

    [Fact]
    public async Task TokensSection_RevokesThroughItsOneForm_AndATokenRevokedElsewhereAfterThePageWasRead_SaysSo()
    {
        var owner = await app.SignUpAsync();
        await owner.CreateTokenAsync("first script");
        await owner.CreateTokenAsync("second script");
        var tokens = await Http.ReadJsonAsync(await owner.Client.GetAsync("/api/auth/tokens"));
        Guid Token(string name) => tokens.EnumerateArray().Single(t => t.GetProperty("name").GetString() == name).GetProperty("uuid").GetGuid();
        var (first, second) = (Token("first script"), Token("second script"));

        var revoked = await owner.Client.SubmitAsync("/organization", "token-action", new() { ["revoke"] = first.ToString() });
        Assert.Equal(HttpStatusCode.OK, revoked.StatusCode);
        Assert.DoesNotContain("alert-error", await revoked.HtmlAsync(), StringComparison.Ordinal);
        Assert.True(await TokenRevokedAsync(owner, first));

        var page = await owner.Client.HtmlAsync("/organization");
        Assert.Contains($"value=\"{second}\"", page, StringComparison.Ordinal);
        await Http.AssertStatusAsync(await owner.Client.DeleteAsync($"/api/auth/tokens/{second}"), HttpStatusCode.NoContent);
        var stale = await owner.Client.SubmitFromPageAsync("/organization", page, "token-action", new() { ["revoke"] = second.ToString() });
        Assert.Equal(HttpStatusCode.OK, stale.StatusCode);
        Assert.Contains("That token was already revoked (or is not yours): nothing changed.", await stale.HtmlAsync(), StringComparison.Ordinal);

        // Another user's token is not this page's to revoke.
        var stranger = await app.SignUpAsync();
        await stranger.CreateTokenAsync("theirs");
        var theirs = (await Http.ReadJsonAsync(await stranger.Client.GetAsync("/api/auth/tokens"))).EnumerateArray().Single().GetProperty("uuid").GetGuid();
        var refused = await owner.Client.SubmitAsync("/organization", "token-action", new() { ["revoke"] = theirs.ToString() });
        Assert.Contains("That token was already revoked (or is not yours): nothing changed.", await refused.HtmlAsync(), StringComparison.Ordinal);
        Assert.False(await TokenRevokedAsync(stranger, theirs));
    }

    [Fact]
    public async Task OrganizationPage_ShowsOnlyItsOwnMessages_NotTheWordsOfACraftedLink()
    {
        var owner = await app.SignUpAsync();
        var crafted = Uri.EscapeDataString("Your session expired: sign in again at evil.example");
        var page = await owner.Client.HtmlAsync($"/organization?error={crafted}&done={crafted}");
        Assert.DoesNotContain("Your session expired", page, StringComparison.Ordinal);
        Assert.DoesNotContain("alert-error", page, StringComparison.Ordinal);
    }

    static async Task<JsonElement?> MemberAsync(TestUser owner, Guid userId)
    {
        var members = await Http.ReadJsonAsync(await owner.Client.GetAsync("/api/members/"));
        return members.GetProperty("items").EnumerateArray().Where(m => m.GetProperty("user").GetProperty("uuid").GetGuid() == userId).Cast<JsonElement?>().SingleOrDefault();
    }

    static async Task<Guid> MembershipAsync(TestUser owner, Guid userId) => (await MemberAsync(owner, userId))!.Value.GetProperty("uuid").GetGuid();

    static async Task<Guid> InviteAsync(TestUser owner, string email) =>
        (await Http.ReadJsonAsync(await owner.Client.PostAsJsonAsync("/api/invitations/", new { email, role = "member" }), HttpStatusCode.Created)).GetProperty("uuid").GetGuid();

    static async Task<string?> InvitationStateAsync(TestUser owner, Guid invitation) =>
        (await Http.ReadJsonAsync(await owner.Client.GetAsync("/api/invitations/"))).GetProperty("items").EnumerateArray()
            .Single(i => i.GetProperty("uuid").GetGuid() == invitation).GetProperty("state").GetString();

    static async Task<bool> TokenRevokedAsync(TestUser user, Guid token) =>
        (await Http.ReadJsonAsync(await user.Client.GetAsync("/api/auth/tokens"))).EnumerateArray()
            .Single(t => t.GetProperty("uuid").GetGuid() == token).GetProperty("revoked").GetBoolean();
}
