using System.Net;
using System.Net.Http.Json;
using AgentMarket.Tests.Catalog;
using AgentMarket.Tests.Doors;
using AgentMarket.Tests.Gateway;
using AgentMarket.Tests.Infrastructure;
using AgentMarket.Tests.Widget;

namespace AgentMarket.Tests.Admin;

/// <summary>
/// Suspending an organization stops its keys, tokens and widget keys on every door with the very next request (the
/// caches that served them a moment ago must not keep serving: the test clock never moves, so only invalidation can
/// explain the refusal), keys and tokens with 403 <c>organization_suspended</c>; it stops its members' runs and
/// purchases, and leaves sign-in and data alone.
/// </summary>
public class SuspensionTests(GatewayApp app) : IClassFixture<GatewayApp>
{
    static readonly string[] ShopOrigin = ["https://shop.example"];

    [Fact]
    public async Task Suspension_TakesEffectOnTheNextRequest_ThroughEveryDoor_AndReactivationRestoresIt()
    {
        var subscribed = await app.SubscribedAsync();
        var buyer = subscribed.Buyer;
        var (_, widgetKey) = await buyer.CreateKeyAsync(subscribed.Config, new { kind = "publishable", allowed_origins = ShopOrigin });
        var token = app.BearerClient(await buyer.CreateTokenAsync("scripts"));
        token.DefaultRequestHeaders.Add("X-Organization", buyer.OrganizationId.ToString());
        var doors = Doors(subscribed, token, app.CreateClient(), widgetKey);

        foreach (var (door, send) in doors)
        {
            Assert.True((await send()).IsSuccessStatusCode, $"{door} did not work before the suspension");
        }
        var balance = await buyer.CreditsAsync();

        var operatorClient = await app.OperatorAsync();
        await Http.ReadJsonAsync(await operatorClient.PostAsJsonAsync($"/api/admin/organizations/{buyer.OrganizationId}/suspend", new { reason = "Unpaid invoices" }));

        foreach (var (door, send) in doors)
        {
            // Keys and tokens are still valid: their holders are told why, so they do not replace them. A page's visitors
            // are told nothing about the organization behind the widget.
            var response = await send();
            var body = await response.Content.ReadAsStringAsync();
            var told = door.StartsWith("widget", StringComparison.Ordinal)
                ? response.StatusCode == HttpStatusCode.Unauthorized && body.Contains("widget_key_invalid", StringComparison.Ordinal)
                : response.StatusCode == HttpStatusCode.Forbidden && body.Contains("\"organization_suspended\"", StringComparison.Ordinal);
            Assert.True(told, $"{door} answered {(int)response.StatusCode} after the suspension: {body}");
        }
        // The members' own session: signed in, told why, unable to run or buy.
        await Http.AssertProblemAsync(await buyer.Client.RunAsync(subscribed.Config, "From the session"), HttpStatusCode.Forbidden, "organization_suspended");
        await Http.AssertProblemAsync(await buyer.Client.PostAsJsonAsync("/api/credits/purchase/", new { plan = "plus", interval = "monthly" }),
            HttpStatusCode.Forbidden, "organization_suspended");
        await Http.AssertProblemAsync(await buyer.Client.PostAsJsonAsync("/api/marketplace-orders/", new { offering = (await app.PromptAgentAsync()).Slug }),
            HttpStatusCode.Forbidden, "organization_suspended");
        await Http.AssertProblemAsync(await buyer.Client.PostAsJsonAsync("/api/agent-api-keys/", new { config = subscribed.Config, name = "while suspended" }),
            HttpStatusCode.Forbidden, "organization_suspended");
        using (var signIn = app.CreateClient())
        {
            await Http.AssertStatusAsync(await signIn.PostAsJsonAsync("/api/auth/signin", new { email = buyer.Email, password = buyer.Password }), HttpStatusCode.OK);
        }
        var dashboard = await buyer.Client.GetAsync("/my-agents");
        Assert.Contains("Unpaid invoices", await dashboard.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        // Its data stays.
        Assert.Equal(balance, await buyer.CreditsAsync());
        var details = await Http.ReadJsonAsync(await operatorClient.GetAsync($"/api/admin/organizations/{buyer.OrganizationId}"));
        Assert.True(details.GetProperty("suspended").GetBoolean());
        Assert.Equal("Unpaid invoices", details.GetProperty("suspension_reason").GetString());
        Assert.Equal(1, details.GetProperty("subscriptions_count").GetInt32());

        await Http.ReadJsonAsync(await operatorClient.PostAsync($"/api/admin/organizations/{buyer.OrganizationId}/reactivate", null));
        foreach (var (door, send) in doors)
        {
            Assert.True((await send()).IsSuccessStatusCode, $"{door} did not work again after the reactivation");
        }
    }

    [Fact]
    public async Task SuspendingOneOrganization_LeavesOthersRunning()
    {
        var suspended = await app.SubscribedAsync();
        var other = await app.SubscribedAsync(suspended.Agent);
        var operatorClient = await app.OperatorAsync();
        await Http.ReadJsonAsync(await operatorClient.PostAsJsonAsync($"/api/admin/organizations/{suspended.Buyer.OrganizationId}/suspend", new { reason = "Abuse" }));

        await Http.AssertProblemAsync(await suspended.KeyClient.RunAsync(suspended.Config, "Hello"), HttpStatusCode.Forbidden, "organization_suspended");
        await Http.AssertStatusAsync(await other.KeyClient.RunAsync(other.Config, "Hello"), HttpStatusCode.OK);
    }

    [Fact]
    public async Task SuspendingASeller_TakesItsListingsOutOfTheCatalog_StopsTheirRuns_AndFreezesItsAgents_UntilReactivated()
    {
        var subscribed = await app.SubscribedAsync();
        var agent = subscribed.Agent;
        var visitor = app.CreateClient();
        await Http.AssertStatusAsync(await visitor.GetAsync($"/api/marketplace/agents/{agent.Slug}/"), HttpStatusCode.OK);
        var operatorClient = await app.OperatorAsync();
        await Http.ReadJsonAsync(await operatorClient.PostAsJsonAsync($"/api/admin/organizations/{agent.Seller.OrganizationId}/suspend", new { reason = "Trial abuse" }));

        // Out of the catalog, its search and its page; its subscribers' runs and its tries stop earning it anything.
        await Http.AssertStatusAsync(await visitor.GetAsync($"/api/marketplace/agents/{agent.Slug}/"), HttpStatusCode.NotFound);
        Assert.DoesNotContain(agent.Slug, await (await visitor.GetAsync($"/api/marketplace/agents/?search={Uri.EscapeDataString(agent.Name)}")).Content.ReadAsStringAsync(), StringComparison.Ordinal);
        await Http.AssertStatusAsync(await visitor.PostAsJsonAsync($"/api/marketplace/agents/{agent.Slug}/try/", new { input = "hello" }), HttpStatusCode.NotFound);
        await Http.AssertProblemAsync(await subscribed.KeyClient.RunAsync(subscribed.Config, "Hello"), HttpStatusCode.Conflict, "agent_unavailable");
        // Its seller can neither change the listing, nor bring it back, nor ship a version.
        await Http.AssertProblemAsync(await agent.Seller.Client.PatchAsJsonAsync($"/api/provider-agents/{agent.AgentId}/listing", new { pricing = new { model = "fixed_credits", credits_per_run = 9 } }),
            HttpStatusCode.Forbidden, "organization_suspended");
        await Http.AssertProblemAsync(await agent.Seller.Client.PostAsync($"/api/provider-agents/{agent.AgentId}/listing/unpause", null), HttpStatusCode.Forbidden, "organization_suspended");
        await Http.AssertProblemAsync(await agent.Seller.Client.PostAsJsonAsync("/api/provider-agents/", new { name = "Another", category = "assistants" }),
            HttpStatusCode.Forbidden, "organization_suspended");
        await Http.AssertProblemAsync(await agent.Seller.Client.PatchAsJsonAsync($"/api/provider-agents/{agent.AgentId}/", new { name = "Renamed while suspended" }),
            HttpStatusCode.Forbidden, "organization_suspended");
        await Http.AssertProblemAsync(await agent.Seller.Client.PostAsync($"/api/provider-agents/{agent.AgentId}/archive", null), HttpStatusCode.Forbidden, "organization_suspended");

        await Http.ReadJsonAsync(await operatorClient.PostAsync($"/api/admin/organizations/{agent.Seller.OrganizationId}/reactivate", null));
        await Http.AssertStatusAsync(await visitor.GetAsync($"/api/marketplace/agents/{agent.Slug}/"), HttpStatusCode.OK);
        await Http.AssertStatusAsync(await subscribed.KeyClient.RunAsync(subscribed.Config, "Hello again"), HttpStatusCode.OK);
    }

    [Fact]
    public async Task ASuspendedSellersPausedListing_StaysOff_AndATakenDownOne_IsNotBroughtBackByTheReactivation()
    {
        var paused = await app.PromptAgentAsync();
        var takenDown = await app.PromptAgentAsync();
        await Http.ReadJsonAsync(await paused.Seller.Client.PostAsync($"/api/provider-agents/{paused.AgentId}/listing/pause", null));
        var operatorClient = await app.OperatorAsync();
        foreach (var agent in new[] { paused, takenDown })
        {
            await Http.ReadJsonAsync(await operatorClient.PostAsJsonAsync($"/api/admin/organizations/{agent.Seller.OrganizationId}/suspend", new { reason = "Fraud" }));
        }

        // Paused before the suspension: its seller cannot bring it back while suspended.
        await Http.AssertProblemAsync(await paused.Seller.Client.PostAsync($"/api/provider-agents/{paused.AgentId}/listing/unpause", null), HttpStatusCode.Forbidden, "organization_suspended");
        // Taken down while suspended: the reactivation leaves it down.
        await Http.AssertStatusAsync(await operatorClient.PostAsJsonAsync($"/api/admin/listings/{takenDown.ListingId}/take-down", new { reason = "Fraud confirmed" }), HttpStatusCode.NoContent);
        await Http.ReadJsonAsync(await operatorClient.PostAsync($"/api/admin/organizations/{takenDown.Seller.OrganizationId}/reactivate", null));
        await Http.AssertStatusAsync(await app.CreateClient().GetAsync($"/api/marketplace/agents/{takenDown.Slug}/"), HttpStatusCode.NotFound);
        await Http.AssertProblemAsync(await takenDown.Seller.Client.PatchAsJsonAsync($"/api/provider-agents/{takenDown.AgentId}/", new { name = "Renamed" }),
            HttpStatusCode.Forbidden, "listing_taken_down");
    }

    [Fact]
    public async Task SuspendingAgain_ForTheSameReason_ChangesNothing_AndIsNotAuditedAgain()
    {
        var operatorClient = await app.OperatorAsync();
        var user = await app.SignUpAsync();
        foreach (var reason in new[] { "Chargebacks", "Chargebacks", "Chargebacks and spam" })
        {
            await Http.ReadJsonAsync(await operatorClient.PostAsJsonAsync($"/api/admin/organizations/{user.OrganizationId}/suspend", new { reason }));
        }

        var entries = (await Http.ReadJsonAsync(await operatorClient.GetAsync($"/api/admin/audit/?action=organization.suspended&organization={user.OrganizationId}")))
            .GetProperty("items").EnumerateArray().ToList();
        Assert.Equal(["Chargebacks", "Chargebacks and spam"], entries.Select(e => e.GetProperty("after").GetProperty("reason").GetString()).Order());
    }

    [Fact]
    public async Task Suspend_NeedsAReason_AndAnExistingOrganization()
    {
        var operatorClient = await app.OperatorAsync();
        var user = await app.SignUpAsync();
        await Http.AssertProblemAsync(await operatorClient.PostAsJsonAsync($"/api/admin/organizations/{user.OrganizationId}/suspend", new { reason = "" }),
            HttpStatusCode.BadRequest, "validation_failed");
        await Http.AssertProblemAsync(await operatorClient.PostAsJsonAsync($"/api/admin/organizations/{Guid.NewGuid()}/suspend", new { reason = "x" }),
            HttpStatusCode.NotFound, "not_found");
    }

    /// <summary>One request through each door, with the credential that door is used with.</summary>
    static List<(string Door, Func<Task<HttpResponseMessage>> Send)> Doors(Subscribed subscribed, HttpClient token, HttpClient page, string widgetKey) =>
    [
        ("run API with the agent key", () => subscribed.KeyClient.RunAsync(subscribed.Config, "Hello")),
        ("widget on an allowed page", () => WidgetMessageAsync(page, widgetKey, "Hello from a page")),
        ("run API with an organization token", () => token.RunAsync(subscribed.Config, "Hello from a script")),
        ("Langflow door", () => subscribed.KeyClient.PostAsJsonAsync($"/api/v1/run/{subscribed.Config}", new { input_value = "Hello" })),
        ("OpenAI door", () => subscribed.KeyClient.PostAsJsonAsync("/v1/chat/completions",
            new { model = subscribed.Agent.Slug, messages = new[] { new { role = "user", content = "Hello" } } })),
        ("OpenAI door with an organization token", () => token.GetAsync("/v1/models")),
        ("MCP door", () => subscribed.KeyClient.SendAsync(McpInitialize())),
    ];

    /// <summary>What the widget does on a page: trade the publishable key for a session token, then send a message.</summary>
    static async Task<HttpResponseMessage> WidgetMessageAsync(HttpClient page, string widgetKey, string input)
    {
        var opened = await page.SendAsync(WidgetIntents.OpenSessionRequest(widgetKey, ShopOrigin[0]));
        if (!opened.IsSuccessStatusCode)
        {
            return opened;
        }
        var session = await Http.ReadJsonAsync(opened);
        return await page.SendAsync(WidgetIntents.MessageRequest(session.GetProperty("token").GetString(), input, ShopOrigin[0]));
    }

    static HttpRequestMessage McpInitialize()
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/mcp")
        {
            Content = JsonContent.Create(new
            {
                jsonrpc = "2.0",
                id = 1,
                method = "initialize",
                @params = new { protocolVersion = "2025-06-18", capabilities = new { }, clientInfo = new { name = "suspension-test", version = "1.0" } },
            }),
        };
        request.Headers.Add("Accept", "application/json, text/event-stream");
        return request;
    }
}
