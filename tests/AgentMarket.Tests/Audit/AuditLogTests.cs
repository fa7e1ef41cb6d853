using System.Net;
using System.Net.Http.Json;
using System.Reflection;
using System.Text.Json;
using AgentMarket.Audit;
using AgentMarket.Platform.Data;
using AgentMarket.Tests.Catalog;
using AgentMarket.Tests.Credits;
using AgentMarket.Tests.Gateway;
using AgentMarket.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace AgentMarket.Tests.Audit;

/// <summary>
/// The app as it runs behind Kestrel, where every request has the client's address: the in-memory test server leaves
/// <c>Connection.RemoteIpAddress</c> empty, so this sets it as Kestrel would.
/// </summary>
public sealed class ClientAddressApp : AgentMarketApp
{
    public const string ClientAddress = "203.0.113.7";

    /// <summary>A webhook receiver's host, on the outbound allow-list so that saving the URL needs no DNS.</summary>
    public const string WebhookHost = "hooks.audit.test";

    protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings() =>
    [
        new("Marketplace:PublicUrl", "http://market.test"), // reset links need it; http like the test server, or the cookies would be Secure (ADR-165)
        new("Flows:OutboundAllowList:0", WebhookHost),
    ];

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureTestServices(services => services.AddTransient<IStartupFilter, ClientAddressFilter>());
    }

    sealed class ClientAddressFilter : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use((context, following) =>
            {
                context.Connection.RemoteIpAddress = IPAddress.Parse(ClientAddress);
                return following(context);
            });
            next(app);
        };
    }
}

/// <summary>The audit log records every security- and money-relevant action, and nothing can change or delete an entry.</summary>
public class AuditLogTests(ClientAddressApp app) : IClassFixture<ClientAddressApp>
{
    /// <summary>
    /// Payouts need a month of earnings first (<c>Payouts.PayoutTests.ManualPayout_IsMarkedPaidByAnOperator_WithAReference</c>
    /// proves created and paid, <c>Payouts.StripeConnectTests</c> a reversal); an email sent again needs one the mail server
    /// refused (<c>Admin.EmailAdminTests</c>); the platform disables a webhook endpoint only after hours of failures
    /// (<c>Webhooks.WebhookRetryTests.EndpointFailingEveryAttemptForLong_IsDisabled_WithTheReason_AndCanBeEnabledAgain</c>);
    /// a refund the payment provider refuses needs Stripe (<c>Payments.StripeDeclinedRefundTests</c>); auto top-up pauses
    /// only at the daily cap of automatic purchases
    /// (<c>Credits.AutoTopUpDailyCapTests.CrossingsPastTheDailyCap_PauseAutoTopUp_OnTheApiAndThePage_AndTellTheOwnersOnce</c>);
    /// an unproven account is claimed by a single sign-on, which needs an identity provider
    /// (<c>Identity.UnprovenAddressTests.ASquatter_LosesPasswordSessionAndTokens_WhenTheAddressOwnerFirstSignsInThroughSso</c>).
    /// </summary>
    static readonly string[] RecordedByOtherAreas =
    [
        AuditActions.PayoutCreated, AuditActions.PayoutPaid, AuditActions.PayoutReversed, AuditActions.EmailRetried, AuditActions.WebhookEndpointDisabled,
        AuditActions.PaymentRefundFailed, AuditActions.AutoTopUpPaused, AuditActions.UnprovenAccountClaimed,
    ];

    static readonly string[] ShopOrigin = ["https://shop.example"];
    static readonly string[] ShopAndBlogOrigins = ["https://shop.example", "https://blog.example"];
    static readonly string[] OrderEvents = ["order.created"];
    static readonly string[] OrderAndRunEvents = ["order.created", "run.failed"];

    [Fact]
    public async Task EveryAuditedAction_PerformedThroughHttp_LeavesAnEntry()
    {
        var operatorClient = await app.OperatorAsync();

        // Settings: switch auto-approval off, so approvals below go through the operator.
        await Http.ReadJsonAsync(await operatorClient.PatchAsJsonAsync("/api/admin/settings", new { auto_approve_providers = false, auto_approve_listings = false }));

        // Provider applications: one approved, one rejected.
        var (seller, handle) = await app.SellerAsync();
        var sellerProvider = await ProviderIdAsync(operatorClient, handle);
        await Http.ReadJsonAsync(await operatorClient.PostAsync($"/api/admin/providers/{sellerProvider}/approve", null));
        var (_, rejectedHandle) = await app.SellerAsync();
        await Http.ReadJsonAsync(await operatorClient.PostAsJsonAsync($"/api/admin/providers/{await ProviderIdAsync(operatorClient, rejectedHandle)}/reject", new { reason = "Incomplete profile" }));

        // Profile edits of the approved provider: one rejected, one approved, one withdrawn (ADR-170).
        foreach (var decision in new[] { "reject", "approve" })
        {
            await Http.ReadJsonAsync(await seller.Client.PatchAsJsonAsync("/api/providers/mine", new { name = $"Audited {decision} {CatalogIntents.UniqueWord()}" }));
            var waiting = (await Http.ReadJsonAsync(await operatorClient.GetAsync("/api/admin/providers/profile-changes"))).EnumerateArray()
                .Single(c => c.GetProperty("provider").GetGuid() == sellerProvider);
            await Http.ReadJsonAsync(await operatorClient.PostAsJsonAsync($"/api/admin/providers/{sellerProvider}/profile-change/{decision}",
                new { revision = waiting.GetProperty("revision").GetString(), reason = "Audited" }));
        }
        await Http.ReadJsonAsync(await seller.Client.PatchAsJsonAsync("/api/providers/mine", new { bio = "Audited bio" }));
        await Http.AssertStatusAsync(await seller.Client.DeleteAsync("/api/providers/mine/pending-change"), HttpStatusCode.NoContent);

        // A listing rejected, resubmitted and approved; taken down and restored.
        var agentId = await seller.CreateAgentAsync($"Audited agent {CatalogIntents.UniqueWord()}");
        await seller.ImportExampleAsync(agentId);
        var slug = $"audit-{Guid.NewGuid():N}"[..20];
        var listing = (await Http.ReadJsonAsync(await seller.Client.PostAsJsonAsync($"/api/provider-agents/{agentId}/publish/", CatalogIntents.PublishBody(slug)), HttpStatusCode.Created))
            .GetProperty("uuid").GetGuid();
        await Http.AssertStatusAsync(await operatorClient.PostAsJsonAsync($"/api/admin/listings/{listing}/reject/", new { reason = "Say what it does." }), HttpStatusCode.NoContent);
        await Http.ReadJsonAsync(await seller.Client.PostAsync($"/api/provider-agents/{agentId}/listing/submit/", null));
        await Http.AssertStatusAsync(await operatorClient.PostAsync($"/api/admin/listings/{listing}/approve/", null), HttpStatusCode.NoContent);
        await Http.AssertStatusAsync(await operatorClient.PostAsJsonAsync($"/api/admin/listings/{listing}/take-down", new { reason = "Reported as misleading." }), HttpStatusCode.NoContent);
        await Http.AssertStatusAsync(await operatorClient.PostAsync($"/api/admin/listings/{listing}/restore", null), HttpStatusCode.NoContent);
        // An image the seller uploaded and deleted.
        var image = (await Http.ReadJsonAsync(await seller.Client.PostAsync("/api/catalog-images/", Images.Png()), HttpStatusCode.Created)).GetProperty("uuid").GetGuid();
        await Http.AssertStatusAsync(await seller.Client.DeleteAsync($"/api/catalog-images/{image}"), HttpStatusCode.NoContent);
        // Edits of the live listing's presentation: one withdrawn, one rejected, one approved (ADR-163).
        var ownListing = $"/api/provider-agents/{agentId}/listing/";
        await Http.ReadJsonAsync(await seller.Client.PatchAsJsonAsync(ownListing, new { short_description = "Withdrawn wording." }));
        await Http.ReadJsonAsync(await seller.Client.DeleteAsync($"{ownListing}pending-change"));
        await Http.ReadJsonAsync(await seller.Client.PatchAsJsonAsync(ownListing, new { short_description = "Rejected wording." }));
        await Http.AssertStatusAsync(await operatorClient.PostAsJsonAsync($"/api/admin/listings/{listing}/reject/", new { reason = "Not what it does." }), HttpStatusCode.NoContent);
        await Http.ReadJsonAsync(await seller.Client.PatchAsJsonAsync(ownListing, new { short_description = "Approved wording." }));
        await Http.AssertStatusAsync(await operatorClient.PostAsync($"/api/admin/listings/{listing}/approve/", null), HttpStatusCode.NoContent);

        // A buyer: a wrong password, a token created and revoked, an agent key created, rotated and revoked.
        var buyer = await app.SignUpAsync("Audited buyer");
        using (var anonymous = app.CreateClient())
        {
            await Http.AssertStatusAsync(await anonymous.PostAsJsonAsync("/api/auth/signin", new { email = buyer.Email, password = "not the password" }), HttpStatusCode.Unauthorized);
            await Http.AssertStatusAsync(await anonymous.PostAsJsonAsync("/api/auth/signin", new { email = buyer.Email, password = buyer.Password }), HttpStatusCode.OK);
        }
        await Http.ReadJsonAsync(await buyer.Client.PatchAsJsonAsync("/api/me", new { name = "Audited buyer, renamed" }));
        // Sessions: the one just signed in ended from the sign-up's; then, with another signed in, all but the sign-up's.
        var otherSession = (await Http.ReadJsonAsync(await buyer.Client.GetAsync("/api/auth/sessions"))).EnumerateArray()
            .Single(s => !s.GetProperty("current").GetBoolean()).GetProperty("uuid").GetGuid();
        await Http.AssertStatusAsync(await buyer.Client.DeleteAsync($"/api/auth/sessions/{otherSession}"), HttpStatusCode.NoContent);
        using (var elsewhere = app.CreateClient())
        {
            await Http.AssertStatusAsync(await elsewhere.PostAsJsonAsync("/api/auth/signin", new { email = buyer.Email, password = buyer.Password }), HttpStatusCode.OK);
        }
        await Http.AssertStatusAsync(await buyer.Client.PostAsync("/api/auth/sessions/revoke-others", null), HttpStatusCode.NoContent);
        await buyer.CreateTokenAsync("ci");
        var token = (await Http.ReadJsonAsync(await buyer.Client.GetAsync("/api/auth/tokens"))).EnumerateArray().Single().GetProperty("uuid").GetGuid();
        await Http.AssertStatusAsync(await buyer.Client.DeleteAsync($"/api/auth/tokens/{token}"), HttpStatusCode.NoContent);
        var config = await buyer.SubscribeAsync(new PublishedAgent(seller, agentId, listing, slug, "Audited agent", handle));
        var (key, _) = await buyer.CreateKeyAsync(config);
        await Http.ReadJsonAsync(await buyer.Client.PostAsJsonAsync($"/api/agent-api-keys/{key}/regenerate/", new { grace_hours = 0 }));
        await Http.AssertStatusAsync(await buyer.Client.DeleteAsync($"/api/agent-api-keys/{key}/"), HttpStatusCode.NoContent);
        // The seller drops a configurable field the buyer set, confirming it.
        var botName = new { key = "bot_name", node_id = "ChatOutput-hJNhd", field_name = "sender_name", label = "Bot name", kind = "text" };
        await Http.AssertStatusAsync(await seller.Client.PutAsJsonAsync($"/api/provider-agents/{agentId}/configurable_fields/", new { fields = new[] { botName } }), HttpStatusCode.OK);
        await Http.AssertStatusAsync(await buyer.Client.PatchAsJsonAsync($"/api/customer-agent-configs/{config}/", new { settings = new { bot_name = "Rex" } }), HttpStatusCode.OK);
        await Http.AssertStatusAsync(await seller.Client.PutAsJsonAsync($"/api/provider-agents/{agentId}/configurable_fields/",
            new { fields = Array.Empty<object>(), drop_subscriber_settings = true }), HttpStatusCode.OK);
        var (widgetKey, _) = await buyer.CreateKeyAsync(config, new { kind = "publishable", allowed_origins = ShopOrigin });
        await Http.ReadJsonAsync(await buyer.Client.PatchAsJsonAsync($"/api/agent-api-keys/{widgetKey}", new { allowed_origins = ShopAndBlogOrigins }));

        // Passwords: one changed, one reset through its emailed link (this app sends no mail: the link is in the outbox).
        var forgetful = await app.SignUpAsync("Forgetful buyer");
        await Http.AssertStatusAsync(await forgetful.Client.PostAsJsonAsync("/api/auth/password", new { current_password = forgetful.Password, new_password = "a changed password" }), HttpStatusCode.NoContent);
        using (var anonymous = app.CreateClient())
        {
            await Http.AssertStatusAsync(await anonymous.PostAsJsonAsync("/api/auth/password-reset", new { email = forgetful.Email }), HttpStatusCode.Accepted);
            var resetEmail = await app.InScopeAsync(null, services => services.GetRequiredService<AppDbContext>().OutboxEmails
                .Where(e => e.Recipient == forgetful.Email && e.Subject == "Reset your password").Select(e => e.Body).SingleAsync());
            var resetToken = System.Text.RegularExpressions.Regex.Match(resetEmail, "token=(am_pwr_[0-9A-Za-z]+)").Groups[1].Value;
            await Http.AssertStatusAsync(await anonymous.PostAsJsonAsync("/api/auth/password-reset/confirm", new { token = resetToken, password = "a reset password" }), HttpStatusCode.NoContent);
        }

        // An email change asked for, then confirmed through its link (in the outbox too).
        var mover = await app.SignUpAsync("Moving buyer");
        var movedTo = $"moved-{Guid.NewGuid():N}@tests.example";
        await Http.AssertStatusAsync(await mover.Client.PostAsJsonAsync("/api/me/email", new { email = movedTo, password = mover.Password }), HttpStatusCode.Accepted);
        var changeEmail = await app.InScopeAsync(null, services => services.GetRequiredService<AppDbContext>().OutboxEmails
            .Where(e => e.Recipient == movedTo).Select(e => e.Body).SingleAsync());
        var changeToken = System.Text.RegularExpressions.Regex.Match(changeEmail, "token=(am_emc_[0-9A-Za-z]+)").Groups[1].Value;
        await Http.AssertStatusAsync(await mover.Client.PostAsJsonAsync("/api/auth/email-change/confirm", new { token = changeToken }), HttpStatusCode.NoContent);
        // And undone by the link in the notice to the old address.
        var changedNotice = await app.InScopeAsync(null, services => services.GetRequiredService<AppDbContext>().OutboxEmails
            .Where(e => e.Recipient == mover.Email && e.Subject == "Your email address was changed").Select(e => e.Body).SingleAsync());
        var revertToken = System.Text.RegularExpressions.Regex.Match(changedNotice, "token=(am_emr_[0-9A-Za-z]+)").Groups[1].Value;
        using (var anonymous = app.CreateClient())
        {
            await Http.AssertStatusAsync(await anonymous.PostAsJsonAsync("/api/auth/email-change/revert", new { token = revertToken }), HttpStatusCode.NoContent);
        }

        // Team: an invitation accepted, one revoked, a role changed, a member removed.
        var member = await app.JoinAsync(buyer, "member");
        var pending = await Http.ReadJsonAsync(await buyer.Client.PostAsJsonAsync("/api/invitations/", new { email = "later@tests.example" }), HttpStatusCode.Created);
        await Http.AssertStatusAsync(await buyer.Client.DeleteAsync($"/api/invitations/{pending.GetProperty("uuid").GetGuid()}"), HttpStatusCode.NoContent);
        var membership = (await Http.ReadJsonAsync(await buyer.Client.GetAsync("/api/members/"))).GetProperty("items").EnumerateArray()
            .Single(m => m.GetProperty("user").GetProperty("uuid").GetGuid() == member.UserId).GetProperty("uuid").GetGuid();
        await Http.ReadJsonAsync(await buyer.Client.PatchAsJsonAsync($"/api/members/{membership}", new { role = "manager" }));
        await Http.AssertStatusAsync(await buyer.Client.DeleteAsync($"/api/members/{membership}"), HttpStatusCode.NoContent);

        // An organization's own settings: its name, its spend controls (auto top-up switched on and off), a webhook endpoint's life.
        var owner = await app.SignUpAsync("Audited owner");
        await Http.ReadJsonAsync(await owner.Client.PatchAsJsonAsync($"/api/organizations/{owner.OrganizationId}", new { name = "Audited and renamed" }));
        await owner.UpgradeAsync("plus");
        await Http.ReadJsonAsync(await owner.Client.PatchAsJsonAsync("/api/credits/settings/", new { session_credit_cap = 40 }));
        await Http.ReadJsonAsync(await owner.Client.PatchAsJsonAsync("/api/credits/settings/", new { auto_top_up_package_uuid = await owner.PackageIdAsync("Starter"), auto_top_up_threshold = 100 }));
        await Http.ReadJsonAsync(await owner.Client.PatchAsJsonAsync("/api/credits/settings/", new Dictionary<string, object?> { ["auto_top_up_package_uuid"] = null }));
        var endpoint = (await Http.ReadJsonAsync(await owner.Client.PostAsJsonAsync("/api/webhook-endpoints/",
            new { url = $"https://{ClientAddressApp.WebhookHost}/orders", events = OrderEvents }), HttpStatusCode.Created)).GetProperty("uuid").GetGuid();
        await Http.ReadJsonAsync(await owner.Client.PatchAsJsonAsync($"/api/webhook-endpoints/{endpoint}", new { events = OrderAndRunEvents }));
        await Http.ReadJsonAsync(await owner.Client.PostAsync($"/api/webhook-endpoints/{endpoint}/rotate-secret", null));
        await Http.AssertStatusAsync(await owner.Client.DeleteAsync($"/api/webhook-endpoints/{endpoint}"), HttpStatusCode.NoContent);

        // Single sign-on: a provider created, given a new client secret and disabled, deleted.
        var identityProvider = (await Http.ReadJsonAsync(await operatorClient.PostAsJsonAsync("/api/admin/identity-providers/", IdentityProviderBody("first-secret", enabled: true)),
            HttpStatusCode.Created)).GetProperty("uuid").GetGuid();
        await Http.ReadJsonAsync(await operatorClient.PutAsJsonAsync($"/api/admin/identity-providers/{identityProvider}", IdentityProviderBody("second-secret", enabled: false)));
        await Http.AssertStatusAsync(await operatorClient.DeleteAsync($"/api/admin/identity-providers/{identityProvider}"), HttpStatusCode.NoContent);

        // Money: a plan change paid for, refunded by the operator; a manual adjustment.
        var payment = await buyer.UpgradeAsync("plus");
        await Http.ReadJsonAsync(await operatorClient.PostAsJsonAsync($"/api/admin/payments/{payment.GetProperty("uuid").GetGuid()}/refund", new { }));
        await Http.ReadJsonAsync(await operatorClient.PostAsJsonAsync($"/api/admin/organizations/{buyer.OrganizationId}/credits/adjust", new { credits = 25, reason = "Goodwill" }));

        // Suspension and reactivation; a user's access ended; a category.
        await Http.ReadJsonAsync(await operatorClient.PostAsJsonAsync($"/api/admin/organizations/{buyer.OrganizationId}/suspend", new { reason = "Chargeback" }));
        await Http.ReadJsonAsync(await operatorClient.PostAsync($"/api/admin/organizations/{buyer.OrganizationId}/reactivate", null));
        var departing = await app.SignUpAsync();
        await Http.ReadJsonAsync(await operatorClient.PostAsync($"/api/admin/users/{departing.UserId}/end-sessions", null));
        await Http.ReadJsonAsync(await operatorClient.PostAsJsonAsync("/api/admin/categories/", new { slug = $"c-{Guid.NewGuid():N}"[..12], name = "Research", icon = "flask" }), HttpStatusCode.Created);

        // Catalog: the listing featured and unfeatured; one review hidden, another's reports dismissed.
        await Http.ReadJsonAsync(await operatorClient.PutAsJsonAsync($"/api/admin/featured-listings/{listing}", new { position = 1 }));
        await Http.AssertStatusAsync(await operatorClient.DeleteAsync($"/api/admin/featured-listings/{listing}"), HttpStatusCode.NoContent);
        foreach (var decision in new[] { "hide", "dismiss" })
        {
            var reviewer = await app.SignUpAsync();
            await app.RecordCustomerRunAsync(reviewer, listing);
            var review = (await Http.ReadJsonAsync(await reviewer.Client.PostAsJsonAsync($"/api/marketplace/agents/{listing}/reviews/", new { rating = 3, text = "Audited review" }), HttpStatusCode.Created))
                .GetProperty("uuid").GetGuid();
            await Http.AssertStatusAsync(await buyer.Client.PostAsJsonAsync($"/api/reviews/{review}/report/", new { reason = "Off topic" }), HttpStatusCode.Created);
            await Http.AssertStatusAsync(await operatorClient.PostAsJsonAsync($"/api/admin/review-reports/{review}/{decision}", new { reason = "Moderated" }), HttpStatusCode.NoContent);
        }
        await Http.ReadJsonAsync(await operatorClient.PatchAsJsonAsync("/api/admin/settings", new { auto_approve_providers = true, auto_approve_listings = true }));

        var missing = new List<string>();
        foreach (var action in AllActions().Except(RecordedByOtherAreas))
        {
            var found = await Http.ReadJsonAsync(await operatorClient.GetAsync($"/api/admin/audit/?action={action}&limit=1"));
            if (found.GetProperty("total").GetInt32() == 0)
            {
                missing.Add(action);
            }
        }
        Assert.True(missing.Count == 0, "actions performed without an audit entry: " + string.Join(", ", missing));

        // Who, what, where and the before/after of one of them.
        var roleChange = (await EntriesAsync(operatorClient, $"action={AuditActions.MemberRoleChanged}&organization={buyer.OrganizationId}")).Single();
        Assert.Equal(buyer.UserId, roleChange.GetProperty("actor").GetProperty("uuid").GetGuid());
        Assert.Equal(buyer.Email, roleChange.GetProperty("actor").GetProperty("email").GetString());
        Assert.Equal(("membership", membership.ToString()), (roleChange.GetProperty("target").GetProperty("type").GetString(), roleChange.GetProperty("target").GetProperty("id").GetString()));
        Assert.Equal("member", roleChange.GetProperty("before").GetProperty("role").GetString());
        Assert.Equal("manager", roleChange.GetProperty("after").GetProperty("role").GetString());
        Assert.Equal(ClientAddressApp.ClientAddress, roleChange.GetProperty("client_ip").GetString());
        var failedSignIn = (await EntriesAsync(operatorClient, $"action={AuditActions.SignInFailed}&actor={buyer.Email}")).Single();
        Assert.Equal("wrong_password", failedSignIn.GetProperty("after").GetProperty("reason").GetString());
        var adjustment = (await EntriesAsync(operatorClient, $"action={AuditActions.CreditAdjusted}&organization={buyer.OrganizationId}")).Single();
        Assert.Equal(AgentMarketApp.OperatorEmail, adjustment.GetProperty("actor").GetProperty("email").GetString());
        Assert.Equal(("Goodwill", 25), (adjustment.GetProperty("after").GetProperty("reason").GetString(), adjustment.GetProperty("after").GetProperty("credits").GetInt32()));

        // The owner's own log shows what was done to the organization's settings.
        var ownLog = await Http.ReadJsonAsync(await owner.Client.GetAsync($"/api/organizations/{owner.OrganizationId}/audit/?limit=200"));
        HashSet<string> ownSettings = [AuditActions.OrganizationRenamed, AuditActions.SpendLimitChanged, AuditActions.AutoTopUpEnabled, AuditActions.AutoTopUpDisabled,
            AuditActions.WebhookEndpointCreated, AuditActions.WebhookEndpointUpdated, AuditActions.WebhookEndpointSecretRotated, AuditActions.WebhookEndpointDeleted];
        Assert.Superset(ownSettings, ownLog.GetProperty("items").EnumerateArray().Select(e => e.GetProperty("action").GetString()!).ToHashSet());
    }

    [Fact]
    public async Task Filters_NarrowByOrganizationActorActionTargetAndTime()
    {
        var operatorClient = await app.OperatorAsync();
        var owner = await app.SignUpAsync();
        var other = await app.SignUpAsync();
        var first = await Http.ReadJsonAsync(await owner.Client.PostAsJsonAsync("/api/invitations/", new { email = $"a-{Guid.NewGuid():N}@tests.example" }), HttpStatusCode.Created);
        app.Clock.Advance(TimeSpan.FromMinutes(5));
        var between = app.Clock.GetUtcNow().UtcDateTime;
        app.Clock.Advance(TimeSpan.FromMinutes(5));
        await Http.ReadJsonAsync(await owner.Client.PostAsJsonAsync("/api/invitations/", new { email = $"b-{Guid.NewGuid():N}@tests.example" }), HttpStatusCode.Created);
        await Http.ReadJsonAsync(await other.Client.PostAsJsonAsync("/api/invitations/", new { email = $"c-{Guid.NewGuid():N}@tests.example" }), HttpStatusCode.Created);

        var owners = await EntriesAsync(operatorClient, $"organization={owner.OrganizationId}&action=invitation");
        Assert.Equal(2, owners.Count);
        Assert.All(owners, e => Assert.Equal(owner.OrganizationId, e.GetProperty("organization").GetGuid()));
        Assert.True(owners[0].GetProperty("occurred_at").GetDateTime() >= owners[1].GetProperty("occurred_at").GetDateTime(), "newest first");
        Assert.Equal(2, (await EntriesAsync(operatorClient, $"actor={owner.UserId}&action={AuditActions.InvitationCreated}")).Count);
        var byTarget = Assert.Single(await EntriesAsync(operatorClient, $"target_type=invitation&target={first.GetProperty("uuid").GetGuid()}"));
        Assert.Equal(AuditActions.InvitationCreated, byTarget.GetProperty("action").GetString());
        var stamp = Uri.EscapeDataString(between.ToString("O"));
        Assert.Single(await EntriesAsync(operatorClient, $"organization={owner.OrganizationId}&action=invitation&to={stamp}"));
        Assert.Single(await EntriesAsync(operatorClient, $"organization={owner.OrganizationId}&action=invitation&from={stamp}"));
        var paged = await Http.ReadJsonAsync(await operatorClient.GetAsync($"/api/admin/audit/?organization={owner.OrganizationId}&action=invitation&limit=1&offset=1"));
        Assert.Equal((2, 1), (paged.GetProperty("total").GetInt32(), paged.GetProperty("items").GetArrayLength()));
        await Http.AssertProblemAsync(await operatorClient.GetAsync($"/api/admin/audit/?from={stamp}&to=2000-01-01T00:00:00Z"), HttpStatusCode.BadRequest, "validation_failed");
    }

    [Fact]
    public async Task OrganizationLog_ShowsOwnersTheirOwnEntriesOnly()
    {
        var owner = await app.SignUpAsync();
        var stranger = await app.SignUpAsync();
        await Http.ReadJsonAsync(await stranger.Client.PostAsJsonAsync("/api/invitations/", new { email = $"s-{Guid.NewGuid():N}@tests.example" }), HttpStatusCode.Created);
        var member = await app.JoinAsync(owner, "manager");

        var log = await Http.ReadJsonAsync(await owner.Client.GetAsync($"/api/organizations/{owner.OrganizationId}/audit/"));
        var actions = log.GetProperty("items").EnumerateArray().Select(e => e.GetProperty("action").GetString()).ToList();
        Assert.Contains(AuditActions.InvitationCreated, actions);
        Assert.Contains(AuditActions.InvitationAccepted, actions);
        Assert.All(log.GetProperty("items").EnumerateArray(), e => Assert.Equal(owner.OrganizationId, e.GetProperty("organization").GetGuid()));

        await Http.AssertProblemAsync(await member.Client.GetAsync($"/api/organizations/{owner.OrganizationId}/audit/"), HttpStatusCode.Forbidden, "insufficient_role");
        await Http.AssertProblemAsync(await stranger.Client.GetAsync($"/api/organizations/{owner.OrganizationId}/audit/"), HttpStatusCode.NotFound, "not_found");
        await Http.AssertStatusAsync(await owner.Client.GetAsync("/api/admin/audit/"), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Entries_CannotBeChangedOrDeleted_ThroughTheApi_TheContext_OrSql()
    {
        var user = await app.SignUpAsync();
        await Http.ReadJsonAsync(await user.Client.PostAsJsonAsync("/api/invitations/", new { email = $"x-{Guid.NewGuid():N}@tests.example" }), HttpStatusCode.Created);

        // No route writes to the log: every audit route is a GET.
        var auditRoutes = ApiRoute.All(app.Services).Where(r => r.Pattern.Contains("audit", StringComparison.OrdinalIgnoreCase)).ToList();
        Assert.Equal(2, auditRoutes.Count);
        Assert.All(auditRoutes, r => Assert.Equal("GET", r.Method));

        var before = await app.InScopeAsync(null, services => services.GetRequiredService<AppDbContext>().AuditEntries.CountAsync());
        await app.InScopeAsync(null, async services =>
        {
            var db = services.GetRequiredService<AppDbContext>();
            var entry = await db.AuditEntries.FirstAsync(e => e.OrganizationId == user.OrganizationId);
            db.Entry(entry).Property(e => e.Action).CurrentValue = "nothing.happened";
            await Assert.ThrowsAsync<AuditLogIsAppendOnlyException>(() => db.SaveChangesAsync());
            db.ChangeTracker.Clear();
            db.AuditEntries.Remove(await db.AuditEntries.FirstAsync(e => e.OrganizationId == user.OrganizationId));
            await Assert.ThrowsAsync<AuditLogIsAppendOnlyException>(() => db.SaveChangesAsync());
            return 0;
        });
        await app.InScopeAsync(null, async services =>
        {
            // Bulk statements skip the context's checks; the database's triggers refuse them.
            var db = services.GetRequiredService<AppDbContext>();
            await Assert.ThrowsAnyAsync<System.Data.Common.DbException>(() =>
                db.AuditEntries.Where(e => e.OrganizationId == user.OrganizationId).ExecuteUpdateAsync(s => s.SetProperty(e => e.Action, "nothing.happened")));
            await Assert.ThrowsAnyAsync<System.Data.Common.DbException>(() => db.AuditEntries.ExecuteDeleteAsync());
            return 0;
        });
        var after = await app.InScopeAsync(null, services => services.GetRequiredService<AppDbContext>().AuditEntries.CountAsync());
        Assert.Equal(before, after);
        Assert.Equal(AuditActions.InvitationCreated, (await app.InScopeAsync(null, services =>
            services.GetRequiredService<AppDbContext>().AuditEntries.Where(e => e.OrganizationId == user.OrganizationId).Select(e => e.Action).FirstAsync())));
    }

    static object IdentityProviderBody(string secret, bool enabled) =>
        new { name = "Audited SSO", issuer = "https://idp.example/realms/audit", client_id = "marketplace", client_secret = secret, enabled };

    static IEnumerable<string> AllActions() =>
        typeof(AuditActions).GetFields(BindingFlags.Public | BindingFlags.Static).Where(f => f.IsLiteral).Select(f => (string)f.GetRawConstantValue()!);

    static async Task<Guid> ProviderIdAsync(HttpClient operatorClient, string handle) =>
        (await Http.ReadJsonAsync(await operatorClient.GetAsync("/api/admin/providers/?state=pending&limit=200"))).GetProperty("items").EnumerateArray()
            .Single(p => p.GetProperty("handle").GetString() == handle).GetProperty("uuid").GetGuid();

    static async Task<List<JsonElement>> EntriesAsync(HttpClient operatorClient, string query) =>
        [.. (await Http.ReadJsonAsync(await operatorClient.GetAsync($"/api/admin/audit/?{query}&limit=200"))).GetProperty("items").EnumerateArray()];
}
