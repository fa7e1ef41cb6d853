using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using AgentMarket.Platform.Data;
using AgentMarket.Providers;
using AgentMarket.Tests.Buyer;
using AgentMarket.Tests.Catalog;
using AgentMarket.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace AgentMarket.Tests.Providers;

/// <summary>
/// With provider auto-approval off, an approved provider's edit of its public profile waits for an operator: buyers keep
/// seeing the approved profile, the provider sees the pending edit and can withdraw it, and the operator approves or
/// rejects it from the provider queue (ADR-170).
/// </summary>
public class ProviderProfileReviewTests(ManualApprovalApp app) : IClassFixture<ManualApprovalApp>
{
    [Fact]
    public async Task RenamingAnApprovedProvider_WaitsForTheOperator_WhoseApprovalMakesTheNewNamePublic_AndTellsTheOwners()
    {
        var (seller, handle, operatorClient) = await ApprovedAsync();
        var oldName = await PublicNameAsync(handle);
        var newName = $"Renamed {CatalogIntents.UniqueWord()}";

        var edited = await Http.ReadJsonAsync(await seller.Client.PatchAsJsonAsync("/api/providers/mine", new { name = newName }));

        Assert.Equal(oldName, edited.GetProperty("name").GetString());
        Assert.Equal(newName, edited.GetProperty("pending_change").GetProperty("name").GetString());
        Assert.Equal(JsonValueKind.Null, edited.GetProperty("pending_change").GetProperty("bio").ValueKind);
        Assert.Equal(oldName, await PublicNameAsync(handle));
        var publicPage = await app.CreateClient().HtmlAsync($"/providers/{handle}");
        Assert.Contains(oldName, publicPage, StringComparison.Ordinal);
        Assert.DoesNotContain(newName, publicPage, StringComparison.Ordinal);
        var mine = await Http.ReadJsonAsync(await seller.Client.GetAsync("/api/providers/mine"));
        Assert.Equal(newName, mine.GetProperty("pending_change").GetProperty("name").GetString());
        var dashboard = await seller.Client.HtmlAsync("/provider");
        Assert.Contains("awaits an operator's review", dashboard, StringComparison.Ordinal);
        Assert.Contains(newName, dashboard, StringComparison.Ordinal);

        var waiting = await WaitingAsync(operatorClient, handle);
        var field = waiting.GetProperty("fields").EnumerateArray().Single();
        Assert.Equal(("name", oldName, newName), (field.GetProperty("field").GetString(), field.GetProperty("live").GetString(), field.GetProperty("proposed").GetString()));
        Assert.Contains(newName, await operatorClient.HtmlAsync("/admin"), StringComparison.Ordinal);

        var approved = await Http.ReadJsonAsync(await operatorClient.PostAsJsonAsync($"/api/admin/providers/{waiting.GetProperty("provider").GetGuid()}/profile-change/approve",
            new { revision = waiting.GetProperty("revision").GetString() }));
        Assert.Equal(newName, approved.GetProperty("name").GetString());
        Assert.Equal(newName, await PublicNameAsync(handle));
        Assert.Contains(newName, await app.CreateClient().HtmlAsync($"/providers/{handle}"), StringComparison.Ordinal);
        Assert.Equal(JsonValueKind.Null, (await Http.ReadJsonAsync(await seller.Client.GetAsync("/api/providers/mine"))).GetProperty("pending_change").ValueKind);
        Assert.Equal(1, await EmailsAsync(seller.Email, "approved"));
    }

    [Fact]
    public async Task SuccessiveEdits_AreMergedIntoTheWaitingChange_AndAFieldSetBackToItsLiveValueLeavesIt()
    {
        var (seller, handle, operatorClient) = await ApprovedAsync();
        var oldName = await PublicNameAsync(handle);
        var newName = $"Merged {CatalogIntents.UniqueWord()}";

        await Http.ReadJsonAsync(await seller.Client.PatchAsJsonAsync("/api/providers/mine", new { bio = "We build research agents." }));
        var both = (await Http.ReadJsonAsync(await seller.Client.PatchAsJsonAsync("/api/providers/mine", new { name = newName }))).GetProperty("pending_change");
        Assert.Equal((newName, "We build research agents."), (both.GetProperty("name").GetString(), both.GetProperty("bio").GetString()));
        Assert.Equal(["bio", "name"], (await WaitingAsync(operatorClient, handle)).GetProperty("fields").EnumerateArray().Select(f => f.GetProperty("field").GetString()).Order());

        var bioOnly = (await Http.ReadJsonAsync(await seller.Client.PatchAsJsonAsync("/api/providers/mine", new { name = oldName }))).GetProperty("pending_change");
        Assert.Equal((JsonValueKind.Null, "We build research agents."), (bioOnly.GetProperty("name").ValueKind, bioOnly.GetProperty("bio").GetString()));
    }

    [Fact]
    public async Task RejectingAProfileEdit_KeepsTheLiveProfile_AndTheProviderReadsTheNote()
    {
        var (seller, handle, operatorClient) = await ApprovedAsync();
        var oldName = await PublicNameAsync(handle);
        await Http.ReadJsonAsync(await seller.Client.PatchAsJsonAsync("/api/providers/mine", new { name = "Official Support Team", bio = "Trust us." }));
        var waiting = await WaitingAsync(operatorClient, handle);

        await Http.AssertProblemAsync(await operatorClient.PostAsJsonAsync($"/api/admin/providers/{waiting.GetProperty("provider").GetGuid()}/profile-change/reject",
            new { reason = "", revision = waiting.GetProperty("revision").GetString() }), HttpStatusCode.BadRequest, "validation_failed");
        await Http.ReadJsonAsync(await operatorClient.PostAsJsonAsync($"/api/admin/providers/{waiting.GetProperty("provider").GetGuid()}/profile-change/reject",
            new { reason = "Impersonates the platform.", revision = waiting.GetProperty("revision").GetString() }));

        Assert.Equal(oldName, await PublicNameAsync(handle));
        var mine = await Http.ReadJsonAsync(await seller.Client.GetAsync("/api/providers/mine"));
        Assert.Equal(JsonValueKind.Null, mine.GetProperty("pending_change").ValueKind);
        Assert.Equal(("Official Support Team", "Impersonates the platform."),
            (mine.GetProperty("rejected_change").GetProperty("name").GetString(), mine.GetProperty("rejected_change").GetProperty("rejection_note").GetString()));
        Assert.Contains("Impersonates the platform.", await seller.Client.HtmlAsync("/provider"), StringComparison.Ordinal);
        Assert.DoesNotContain((await Http.ReadJsonAsync(await operatorClient.GetAsync("/api/admin/providers/profile-changes"))).EnumerateArray(),
            c => c.GetProperty("handle").GetString() == handle);
        Assert.Equal(1, await EmailsAsync(seller.Email, "Impersonates the platform."));
    }

    [Fact]
    public async Task ADecisionOnARevisionTheProviderEditedSince_Returns409_AndChangesNothing()
    {
        var (seller, handle, operatorClient) = await ApprovedAsync();
        var oldName = await PublicNameAsync(handle);
        await Http.ReadJsonAsync(await seller.Client.PatchAsJsonAsync("/api/providers/mine", new { name = "First proposal" }));
        var read = await WaitingAsync(operatorClient, handle);
        app.Clock.Advance(TimeSpan.FromSeconds(1));
        await Http.ReadJsonAsync(await seller.Client.PatchAsJsonAsync("/api/providers/mine", new { name = "Second proposal" }));
        var provider = read.GetProperty("provider").GetGuid();

        await Http.AssertProblemAsync(await operatorClient.PostAsJsonAsync($"/api/admin/providers/{provider}/profile-change/approve",
            new { revision = read.GetProperty("revision").GetString() }), HttpStatusCode.Conflict, "provider_profile_changed");
        await Http.AssertProblemAsync(await operatorClient.PostAsJsonAsync($"/api/admin/providers/{provider}/profile-change/reject",
            new { reason = "No.", revision = read.GetProperty("revision").GetString() }), HttpStatusCode.Conflict, "provider_profile_changed");
        Assert.Equal(oldName, await PublicNameAsync(handle));
        Assert.Equal("Second proposal", (await Http.ReadJsonAsync(await seller.Client.GetAsync("/api/providers/mine"))).GetProperty("pending_change").GetProperty("name").GetString());

        // The console page says so too, from a page read before the edit.
        var page = await operatorClient.HtmlAsync("/admin");
        app.Clock.Advance(TimeSpan.FromSeconds(1));
        await Http.ReadJsonAsync(await seller.Client.PatchAsJsonAsync("/api/providers/mine", new { name = "Third proposal" }));
        PageForms.AssertRedirect(await operatorClient.SubmitFromPageAsync("/admin", page, "provider-profile-decision", new() { ["approve"] = provider.ToString(), [$"revision-{provider}"] = Forms.HiddenValue(page, $"revision-{provider}") }),
            "/admin?profile_edit=changed");
        Assert.Equal(oldName, await PublicNameAsync(handle));
    }

    [Fact]
    public async Task UnknownProviderOrNothingWaiting_Returns404_AndAMissingRevision400()
    {
        var (_, handle, operatorClient) = await ApprovedAsync();
        var provider = (await Http.ReadJsonAsync(await operatorClient.GetAsync("/api/admin/providers/?state=approved&limit=200"))).GetProperty("items").EnumerateArray()
            .Single(p => p.GetProperty("handle").GetString() == handle).GetProperty("uuid").GetGuid();

        await Http.AssertProblemAsync(await operatorClient.PostAsJsonAsync($"/api/admin/providers/{Guid.NewGuid()}/profile-change/approve", new { revision = "abc" }), HttpStatusCode.NotFound, "not_found");
        await Http.AssertProblemAsync(await operatorClient.PostAsJsonAsync($"/api/admin/providers/{provider}/profile-change/approve", new { revision = "abc" }), HttpStatusCode.NotFound, "not_found");
        await Http.AssertProblemAsync(await operatorClient.PostAsJsonAsync($"/api/admin/providers/{provider}/profile-change/approve", new { }), HttpStatusCode.BadRequest, "validation_failed");
    }

    [Fact]
    public async Task TheProviderWithdrawsItsEdit_ThroughTheApiOrItsPage()
    {
        var (seller, handle, operatorClient) = await ApprovedAsync();
        await Http.ReadJsonAsync(await seller.Client.PatchAsJsonAsync("/api/providers/mine", new { bio = "A new bio." }));

        await Http.AssertStatusAsync(await seller.Client.DeleteAsync("/api/providers/mine/pending-change"), HttpStatusCode.NoContent);
        Assert.Equal(JsonValueKind.Null, (await Http.ReadJsonAsync(await seller.Client.GetAsync("/api/providers/mine"))).GetProperty("pending_change").ValueKind);
        await Http.AssertProblemAsync(await seller.Client.DeleteAsync("/api/providers/mine/pending-change"), HttpStatusCode.NotFound, "not_found");
        Assert.DoesNotContain((await Http.ReadJsonAsync(await operatorClient.GetAsync("/api/admin/providers/profile-changes"))).EnumerateArray(),
            c => c.GetProperty("handle").GetString() == handle);

        // The page's form makes an edit, and its button withdraws it.
        PageForms.AssertRedirect(await seller.Client.SubmitAsync("/provider", "edit-provider-profile", new() { ["name"] = "Page proposal", ["bio"] = "" }), "/provider");
        Assert.Equal("Page proposal", (await Http.ReadJsonAsync(await seller.Client.GetAsync("/api/providers/mine"))).GetProperty("pending_change").GetProperty("name").GetString());
        PageForms.AssertRedirect(await seller.Client.SubmitAsync("/provider", "withdraw-profile-change"), "/provider");
        Assert.Equal(JsonValueKind.Null, (await Http.ReadJsonAsync(await seller.Client.GetAsync("/api/providers/mine"))).GetProperty("pending_change").ValueKind);
    }

    [Fact]
    public async Task SimultaneousFirstEdits_AllSucceed_AndLeaveOneWaitingEdit()
    {
        var (seller, handle, operatorClient) = await ApprovedAsync();

        var responses = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => seller.Client.PatchAsJsonAsync("/api/providers/mine", new { name = $"Parallel {i}" })));

        foreach (var response in responses)
        {
            await Http.AssertStatusAsync(response, HttpStatusCode.OK);
        }
        Assert.Single((await Http.ReadJsonAsync(await operatorClient.GetAsync("/api/admin/providers/profile-changes"))).EnumerateArray(),
            c => c.GetProperty("handle").GetString() == handle);
    }

    [Fact]
    public async Task ConsolePage_ApprovesAndRejectsProfileEdits_AndARejectionNeedsItsReason()
    {
        var (approvedSeller, approvedHandle, operatorClient) = await ApprovedAsync();
        var (rejectedSeller, rejectedHandle, _) = await ApprovedAsync();
        await Http.ReadJsonAsync(await approvedSeller.Client.PatchAsJsonAsync("/api/providers/mine", new { name = "Approved on the page" }));
        await Http.ReadJsonAsync(await rejectedSeller.Client.PatchAsJsonAsync("/api/providers/mine", new { name = "Rejected on the page" }));
        var page = await operatorClient.HtmlAsync("/admin");
        var approved = (await WaitingAsync(operatorClient, approvedHandle)).GetProperty("provider").GetGuid();
        var rejected = (await WaitingAsync(operatorClient, rejectedHandle)).GetProperty("provider").GetGuid();

        PageForms.AssertRedirect(await operatorClient.SubmitFromPageAsync("/admin", page, "provider-profile-decision", new() { ["reject"] = rejected.ToString(), [$"reason-{rejected}"] = " " }),
            "/admin?profile_edit=reason_required");
        PageForms.AssertRedirect(await operatorClient.SubmitFromPageAsync("/admin", page, "provider-profile-decision", new() { ["approve"] = approved.ToString(), [$"revision-{approved}"] = Forms.HiddenValue(page, $"revision-{approved}") }),
            "/admin?profile_edit=approved");
        Assert.Contains("The profile edit is approved", await operatorClient.HtmlAsync("/admin?profile_edit=approved"), StringComparison.Ordinal);
        PageForms.AssertRedirect(await operatorClient.SubmitFromPageAsync("/admin", page, "provider-profile-decision",
            new() { ["reject"] = rejected.ToString(), [$"reason-{rejected}"] = "Say who you are.", [$"revision-{rejected}"] = Forms.HiddenValue(page, $"revision-{rejected}") }),
            "/admin?profile_edit=rejected");

        Assert.Equal("Approved on the page", await PublicNameAsync(approvedHandle));
        Assert.Equal("Say who you are.", (await Http.ReadJsonAsync(await rejectedSeller.Client.GetAsync("/api/providers/mine"))).GetProperty("rejected_change").GetProperty("rejection_note").GetString());
    }

    [Fact]
    public async Task AnAvatarUploadedOnTheProfileForm_WaitsForTheOperator_WhoseApprovalPutsItOnThePublicPage()
    {
        var (seller, handle, operatorClient) = await ApprovedAsync();
        var live = await Http.ReadJsonAsync(await seller.Client.GetAsync("/api/providers/mine"));

        PageForms.AssertRedirect(await seller.Client.SubmitWithFileAsync("/provider", "edit-provider-profile", ProfileForm(live), "avatar", Images.OnePixelPng, "me.png"),
            "/provider");

        var mine = await Http.ReadJsonAsync(await seller.Client.GetAsync("/api/providers/mine"));
        var proposed = mine.GetProperty("pending_change").GetProperty("avatar_url").GetString()!;
        Assert.StartsWith("/media/images/", proposed, StringComparison.Ordinal);
        Assert.Equal(JsonValueKind.Null, mine.GetProperty("avatar_url").ValueKind);
        Assert.DoesNotContain(proposed, await app.CreateClient().HtmlAsync($"/providers/{handle}"), StringComparison.Ordinal);
        var dashboard = await seller.Client.HtmlAsync("/provider");
        Assert.Contains("<p class=\"muted\">No avatar</p>", dashboard, StringComparison.Ordinal);
        Assert.Matches($"<p data-proposed-avatar><img class=\"avatar\" src=\"{Regex.Escape(proposed)}\"[^>]*>\\s*<span class=\"muted\">Proposed avatar \\(waiting for review\\)</span>", dashboard);
        var waiting = await WaitingAsync(operatorClient, handle);
        var field = Assert.Single(waiting.GetProperty("fields").EnumerateArray());
        Assert.Equal(("avatar_url", proposed), (field.GetProperty("field").GetString(), field.GetProperty("proposed").GetString()));
        Assert.Contains($"src=\"{proposed}\" alt=\"Proposed avatar\"", await operatorClient.HtmlAsync("/admin"), StringComparison.Ordinal);
        // The waiting avatar is in use: deleting it from the image library would leave the approved profile a broken image.
        var image = Guid.Parse(Path.GetFileNameWithoutExtension(proposed));
        var use = Assert.Single((await Http.ReadJsonAsync(await seller.Client.GetAsync("/api/catalog-images/"))).GetProperty("items").EnumerateArray()
            .Single(i => i.GetProperty("uuid").GetGuid() == image).GetProperty("used_by").EnumerateArray());
        Assert.Equal(("avatar", true), (use.GetProperty("kind").GetString(), use.GetProperty("waiting_for_review").GetBoolean()));
        await Http.AssertProblemAsync(await seller.Client.DeleteAsync($"/api/catalog-images/{image}"), HttpStatusCode.Conflict, "image_in_use");

        await Http.ReadJsonAsync(await operatorClient.PostAsJsonAsync($"/api/admin/providers/{waiting.GetProperty("provider").GetGuid()}/profile-change/approve",
            new { revision = waiting.GetProperty("revision").GetString() }));
        Assert.Equal(proposed, (await Http.ReadJsonAsync(await app.CreateClient().GetAsync($"/api/providers/{handle}"))).GetProperty("avatar_url").GetString());
        Assert.Contains($"<img class=\"avatar\" src=\"{proposed}\"", await app.CreateClient().HtmlAsync($"/providers/{handle}"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RemovingTheAvatar_OnTheProfileFormOrThroughTheApi_WaitsForTheOperator_WhoSeesItRemoved()
    {
        var (seller, handle, operatorClient) = await ApprovedAsync();
        var image = await Http.ReadJsonAsync(await seller.Client.PostAsync("/api/catalog-images/", Images.Png()), HttpStatusCode.Created);
        var avatar = image.GetProperty("url").GetString()!;
        await Http.ReadJsonAsync(await seller.Client.PatchAsJsonAsync("/api/providers/mine", new { avatar_image = image.GetProperty("uuid").GetGuid() }));
        await ApproveAsync(operatorClient, handle);
        var live = await Http.ReadJsonAsync(await seller.Client.GetAsync("/api/providers/mine"));
        Assert.Equal(avatar, live.GetProperty("avatar_url").GetString());

        PageForms.AssertRedirect(await seller.Client.SubmitAsync("/provider", "edit-provider-profile", new(ProfileForm(live)) { ["remove_avatar"] = "true" }), "/provider");

        Assert.Equal("", (await Http.ReadJsonAsync(await seller.Client.GetAsync("/api/providers/mine"))).GetProperty("pending_change").GetProperty("avatar_url").GetString());
        Assert.Contains($"<img class=\"avatar\" src=\"{avatar}\"", await app.CreateClient().HtmlAsync($"/providers/{handle}"), StringComparison.Ordinal);
        Assert.Contains("Removing the avatar waits for review.", await seller.Client.HtmlAsync("/provider"), StringComparison.Ordinal);
        var field = Assert.Single((await WaitingAsync(operatorClient, handle)).GetProperty("fields").EnumerateArray());
        Assert.Equal(("avatar_url", avatar, ""), (field.GetProperty("field").GetString(), field.GetProperty("live").GetString(), field.GetProperty("proposed").GetString()));
        Assert.Contains("<ins>(avatar removed)</ins>", await operatorClient.HtmlAsync("/admin"), StringComparison.Ordinal);
        await Http.AssertStatusAsync(await seller.Client.DeleteAsync("/api/providers/mine/pending-change"), HttpStatusCode.NoContent);

        var edited = await Http.ReadJsonAsync(await seller.Client.PatchAsJsonAsync("/api/providers/mine", new { avatar_image = "" }));

        Assert.Equal((avatar, ""), (edited.GetProperty("avatar_url").GetString(), edited.GetProperty("pending_change").GetProperty("avatar_url").GetString()));
        await ApproveAsync(operatorClient, handle);
        Assert.Equal(JsonValueKind.Null, (await Http.ReadJsonAsync(await app.CreateClient().GetAsync($"/api/providers/{handle}"))).GetProperty("avatar_url").ValueKind);
        Assert.DoesNotContain(avatar, await app.CreateClient().HtmlAsync($"/providers/{handle}"), StringComparison.Ordinal);
        Assert.Contains("<p class=\"muted\">No avatar</p>", await seller.Client.HtmlAsync("/provider"), StringComparison.Ordinal);
    }

    /// <summary>The profile form's fields as the page fills them in for <paramref name="mine"/>: nothing changed.</summary>
    internal static Dictionary<string, string> ProfileForm(JsonElement mine) =>
        new() { ["name"] = mine.GetProperty("name").GetString()!, ["bio"] = mine.GetProperty("bio").GetString() ?? "" };

    static async Task ApproveAsync(HttpClient operatorClient, string handle)
    {
        var waiting = await WaitingAsync(operatorClient, handle);
        await Http.ReadJsonAsync(await operatorClient.PostAsJsonAsync($"/api/admin/providers/{waiting.GetProperty("provider").GetGuid()}/profile-change/approve",
            new { revision = waiting.GetProperty("revision").GetString() }));
    }

    async Task<(TestUser Seller, string Handle, HttpClient Operator)> ApprovedAsync()
    {
        var (seller, handle) = await app.SellerAsync();
        var operatorClient = await app.OperatorAsync();
        var id = (await Http.ReadJsonAsync(await seller.Client.GetAsync("/api/providers/mine"))).GetProperty("uuid").GetGuid();
        await Http.ReadJsonAsync(await operatorClient.PostAsync($"/api/admin/providers/{id}/approve", null));
        return (seller, handle, operatorClient);
    }

    async Task<string> PublicNameAsync(string handle) =>
        (await Http.ReadJsonAsync(await app.CreateClient().GetAsync($"/api/providers/{handle}"))).GetProperty("name").GetString()!;

    static async Task<JsonElement> WaitingAsync(HttpClient operatorClient, string handle) =>
        (await Http.ReadJsonAsync(await operatorClient.GetAsync("/api/admin/providers/profile-changes"))).EnumerateArray().Single(c => c.GetProperty("handle").GetString() == handle);

    Task<int> EmailsAsync(string recipient, string saying) =>
        app.InScopeAsync(null, services => services.GetRequiredService<AppDbContext>().OutboxEmails.CountAsync(e => e.Recipient == recipient && e.Body.Contains(saying)));
}

/// <summary>Under auto-approval a provider's profile edit is live at once, as it always was.</summary>
public class ProviderProfileAutoApprovalTests(AgentMarketApp app) : IClassFixture<AgentMarketApp>
{
    [Fact]
    public async Task RenamingAProvider_UnderAutoApproval_IsPublicAtOnce()
    {
        var (seller, handle) = await app.SellerAsync();
        var newName = $"Renamed {CatalogIntents.UniqueWord()}";

        var edited = await Http.ReadJsonAsync(await seller.Client.PatchAsJsonAsync("/api/providers/mine", new { name = newName }));

        Assert.Equal(JsonValueKind.Null, edited.GetProperty("pending_change").ValueKind);
        Assert.Equal(newName, (await Http.ReadJsonAsync(await app.CreateClient().GetAsync($"/api/providers/{handle}"))).GetProperty("name").GetString());
    }

    [Fact]
    public async Task AnAvatarUploadedOnTheProfileForm_UnderAutoApproval_IsOnThePublicPageAtOnce_AndRemovedTheSameWay()
    {
        var (seller, handle) = await app.SellerAsync();
        var mine = await Http.ReadJsonAsync(await seller.Client.GetAsync("/api/providers/mine"));

        PageForms.AssertRedirect(await seller.Client.SubmitWithFileAsync("/provider", "edit-provider-profile", ProviderProfileReviewTests.ProfileForm(mine),
            "avatar", Images.OnePixelWebp, "me.webp"), "/provider");

        var avatar = (await Http.ReadJsonAsync(await seller.Client.GetAsync("/api/providers/mine"))).GetProperty("avatar_url").GetString()!;
        Assert.Matches("^/media/images/[0-9a-f-]{36}\\.webp$", avatar);
        Assert.Contains($"<img class=\"avatar\" src=\"{avatar}\"", await app.CreateClient().HtmlAsync($"/providers/{handle}"), StringComparison.Ordinal);
        Assert.Contains($"<img class=\"avatar\" src=\"{avatar}\" alt=\"Your avatar\"", await seller.Client.HtmlAsync("/provider"), StringComparison.Ordinal);

        PageForms.AssertRedirect(await seller.Client.SubmitAsync("/provider", "edit-provider-profile", new(ProviderProfileReviewTests.ProfileForm(mine)) { ["remove_avatar"] = "true" }),
            "/provider");

        Assert.Equal(JsonValueKind.Null, (await Http.ReadJsonAsync(await seller.Client.GetAsync("/api/providers/mine"))).GetProperty("avatar_url").ValueKind);
        Assert.DoesNotContain(avatar, await app.CreateClient().HtmlAsync($"/providers/{handle}"), StringComparison.Ordinal);
        Assert.Contains("<p class=\"muted\">No avatar</p>", await seller.Client.HtmlAsync("/provider"), StringComparison.Ordinal);
        var restored = await Http.ReadJsonAsync(await seller.Client.PatchAsJsonAsync("/api/providers/mine", new { avatar_image = avatar }));
        Assert.Equal(avatar, restored.GetProperty("avatar_url").GetString());
        var removed = await Http.ReadJsonAsync(await seller.Client.PatchAsJsonAsync("/api/providers/mine", new { avatar_image = "" }));
        Assert.Equal((JsonValueKind.Null, JsonValueKind.Null), (removed.GetProperty("avatar_url").ValueKind, removed.GetProperty("pending_change").ValueKind));
    }

    [Fact]
    public async Task AnOversizedOrNonImageAvatar_IsRefusedByItsField_KeepingWhatTheSellerTyped_AndStoringNothing()
    {
        var (seller, _) = await app.SellerAsync();
        var before = await Http.ReadJsonAsync(await seller.Client.GetAsync("/api/providers/mine"));
        var oversized = new byte[app.Services.GetRequiredService<IOptions<MarketplaceOptions>>().Value.MaxImageBytes + 1];
        Images.OnePixelPng.CopyTo(oversized, 0);
        var typed = new Dictionary<string, string> { ["name"] = "Typed Name", ["bio"] = "Typed bio." };

        foreach (var (file, says) in new[] { (oversized, "Images can be at most"), ("<svg onload=alert(1)>"u8.ToArray(), "Upload a PNG, JPEG, GIF or WebP image.") })
        {
            var refused = await seller.Client.SubmitWithFileAsync("/provider", "edit-provider-profile", typed, "avatar", file, "avatar.png");

            Assert.Equal(HttpStatusCode.OK, refused.StatusCode);
            var page = await refused.HtmlAsync();
            Assert.Matches($"id=\"profile-avatar-error\" class=\"validation-message\">{Regex.Escape(says)}", page);
            Assert.Contains("aria-invalid=\"true\" aria-describedby=\"profile-avatar-error\"", page, StringComparison.Ordinal);
            Assert.Contains("value=\"Typed Name\"", page, StringComparison.Ordinal);
            Assert.Contains(">Typed bio.</textarea>", page, StringComparison.Ordinal);
        }
        var bothChoices = await (await seller.Client.SubmitWithFileAsync("/provider", "edit-provider-profile", new(typed) { ["remove_avatar"] = "true" },
            "avatar", Images.OnePixelPng, "me.png")).HtmlAsync();
        Assert.Contains("Choose a new avatar or remove it, not both.", bothChoices, StringComparison.Ordinal);

        var after = await Http.ReadJsonAsync(await seller.Client.GetAsync("/api/providers/mine"));
        Assert.Equal((before.GetProperty("name").GetString(), JsonValueKind.Null), (after.GetProperty("name").GetString(), after.GetProperty("avatar_url").ValueKind));
        Assert.Empty((await Http.ReadJsonAsync(await seller.Client.GetAsync("/api/catalog-images/"))).GetProperty("items").EnumerateArray());
    }
}
