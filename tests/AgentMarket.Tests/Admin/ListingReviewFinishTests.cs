using System.Data.Common;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AgentMarket.Platform.Data;
using AgentMarket.Platform.Tenancy;
using AgentMarket.Tests.Buyer;
using AgentMarket.Tests.Catalog;
using AgentMarket.Tests.Infrastructure;
using AgentMarket.Tests.Providers;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;

namespace AgentMarket.Tests.Admin;

/// <summary>
/// Listings reviewed (auto-approval off), a public address for emails' links, a count of the commands reading
/// <c>listing_changes</c>, and a barrier that lets concurrent edits all read the listing's change before any saves.
/// </summary>
public sealed class ListingReviewApp : AgentMarketApp
{
    public const string PublicUrl = "http://market.test"; // http: an https address makes cookies Secure, which the test client over http drops

    public ListingChangeReads Reads { get; } = new();

    public QueryBarrier Barrier { get; } = new();

    protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings() =>
        [new("Marketplace:AutoApproveListings", "false"), new("Marketplace:PublicUrl", PublicUrl)];

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureTestServices(services => services.AddSingleton<IInterceptor>(Reads).AddSingleton<IInterceptor>(Barrier));
    }
}

/// <summary>Counts the commands that read <c>listing_changes</c>.</summary>
public sealed class ListingChangeReads : DbCommandInterceptor
{
    int _count;

    /// <summary>How many commands have read <c>listing_changes</c> so far.</summary>
    public int Count => Volatile.Read(ref _count);

    void Saw(DbCommand command)
    {
        if (command.CommandText.Contains("listing_changes", StringComparison.Ordinal))
        {
            Interlocked.Increment(ref _count);
        }
    }

    public override ValueTask<DbDataReader> ReaderExecutedAsync(DbCommand command, CommandExecutedEventData eventData, DbDataReader result, CancellationToken cancellationToken = default)
    {
        Saw(command);
        return ValueTask.FromResult(result);
    }

    public override ValueTask<object?> ScalarExecutedAsync(DbCommand command, CommandExecutedEventData eventData, object? result, CancellationToken cancellationToken = default)
    {
        Saw(command);
        return ValueTask.FromResult(result);
    }
}

/// <summary>ADR-169: concurrent edits, the queue's one query, and the emails of operators' decisions.</summary>
public class ListingReviewFinishTests(ListingReviewApp app) : IClassFixture<ListingReviewApp>
{
    [Fact]
    public async Task TwoSimultaneousFirstEditsOfALiveListing_BothSucceed_AndTheChangeHoldsBoth()
    {
        var (agent, _) = await app.LiveListingAsync();
        var newName = $"Raced name {CatalogIntents.UniqueWord()}";

        // Each edit's read of the listing's change.
        app.Barrier.Arm(command => command.CommandText.Contains("listing_changes", StringComparison.Ordinal)
            && command.CommandText.TrimStart().StartsWith("SELECT", StringComparison.OrdinalIgnoreCase) && QueryBarrier.HasParameter(command, agent.ListingId), parties: 2);
        var responses = await Task.WhenAll(
            agent.Seller.Client.PatchAsJsonAsync(LiveListings.OwnListing(agent), new { short_description = "Raced summary." }),
            agent.Seller.Client.PatchAsJsonAsync($"/api/provider-agents/{agent.AgentId}", new { name = newName }));

        foreach (var response in responses)
        {
            await Http.AssertStatusAsync(response, HttpStatusCode.OK);
        }
        var pending = (await Http.ReadJsonAsync(await agent.Seller.Client.GetAsync(LiveListings.OwnListing(agent)))).GetProperty("pending_change");
        Assert.Equal((newName, "Raced summary."), (pending.GetProperty("name").GetString(), pending.GetProperty("short_description").GetString()));
    }

    [Fact]
    public async Task TheConsoleQueue_ReadsTheWaitingEditsInOneQuery_HoweverManyWait()
    {
        var operatorClient = await app.OperatorAsync();
        var first = await EditedAsync();
        var before = app.Reads.Count;
        var page = await operatorClient.HtmlAsync("/admin");
        var readsForOne = app.Reads.Count - before;
        Assert.Contains(first, page, StringComparison.Ordinal);

        var more = new[] { await EditedAsync(), await EditedAsync() };
        before = app.Reads.Count;
        page = await operatorClient.HtmlAsync("/admin");
        Assert.Equal(readsForOne, app.Reads.Count - before);
        Assert.All(more, summary => Assert.Contains(summary, page, StringComparison.Ordinal));
    }

    [Fact]
    public async Task DecisionsOnAFirstPublication_AreEmailedToTheOrganizationsOwnersAndManagers_WithTheNoteAndALink()
    {
        var agent = await app.PublishedAgentAsync();
        var manager = await app.JoinAsync(agent.Seller, "manager");
        var member = await app.JoinAsync(agent.Seller, "member");
        var operatorClient = await app.OperatorAsync();
        var note = $"Say what it does {CatalogIntents.UniqueWord()}.";

        await Http.AssertStatusAsync(await operatorClient.PostAsJsonAsync($"/api/admin/listings/{agent.ListingId}/reject/", new { reason = note }), HttpStatusCode.NoContent);
        var rejected = await app.ListingMailAsync(agent.Name);
        Assert.Equal([.. new[] { agent.Seller.Email, manager.Email }.Order(StringComparer.Ordinal)], rejected.Select(m => m.Recipient).Order(StringComparer.Ordinal).ToArray());
        Assert.All(rejected, m =>
        {
            Assert.Contains(note, m.Body, StringComparison.Ordinal);
            Assert.Contains($"{ListingReviewApp.PublicUrl}/provider/agents/{agent.AgentId}/publish", m.Body, StringComparison.Ordinal);
        });
        Assert.DoesNotContain(await app.ListingMailAsync(agent.Name), m => m.Recipient == member.Email);

        await Http.ReadJsonAsync(await agent.Seller.Client.PostAsync($"/api/provider-agents/{agent.AgentId}/listing/submit", null));
        await Http.AssertStatusAsync(await operatorClient.PostAsync($"/api/admin/listings/{agent.ListingId}/approve/", null), HttpStatusCode.NoContent);
        var all = await app.ListingMailAsync(agent.Name);
        var approved = all.Where(m => m.Recipient == agent.Seller.Email && !m.Body.Contains(note, StringComparison.Ordinal)).ToList();
        Assert.Single(approved);
        Assert.NotEqual(rejected.First(m => m.Recipient == agent.Seller.Email).Subject, approved[0].Subject);
        Assert.Contains($"{ListingReviewApp.PublicUrl}/provider/agents/{agent.AgentId}/publish", approved[0].Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DecisionsOnAnEdit_AreEmailed_TheRejectionWithTheNote()
    {
        var (agent, operatorClient) = await app.LiveListingAsync();
        var sentBefore = (await app.ListingMailAsync(agent.Name)).Count;
        var note = $"Not an offer {CatalogIntents.UniqueWord()}.";

        await Http.ReadJsonAsync(await agent.Seller.Client.PatchAsJsonAsync(LiveListings.OwnListing(agent), new { short_description = "Buy now." }));
        await Http.AssertStatusAsync(await operatorClient.PostAsJsonAsync($"/api/admin/listings/{agent.ListingId}/reject/", new { reason = note }), HttpStatusCode.NoContent);
        var rejection = Assert.Single((await app.ListingMailAsync(agent.Name)).Skip(sentBefore));
        Assert.Equal(agent.Seller.Email, rejection.Recipient);
        Assert.Contains(note, rejection.Body, StringComparison.Ordinal);

        await Http.ReadJsonAsync(await agent.Seller.Client.PatchAsJsonAsync(LiveListings.OwnListing(agent), new { short_description = "Answers, politely." }));
        await Http.AssertStatusAsync(await operatorClient.PostAsync($"/api/admin/listings/{agent.ListingId}/approve/", null), HttpStatusCode.NoContent);
        var approval = Assert.Single((await app.ListingMailAsync(agent.Name)).Skip(sentBefore + 1));
        Assert.NotEqual(rejection.Subject, approval.Subject);
        Assert.DoesNotContain(note, approval.Body, StringComparison.Ordinal);
        Assert.Contains($"{ListingReviewApp.PublicUrl}/provider/agents/{agent.AgentId}/publish", approval.Body, StringComparison.Ordinal);
    }

    /// <summary>A live listing with an edit waiting; the edit's summary.</summary>
    async Task<string> EditedAsync()
    {
        var (agent, _) = await app.LiveListingAsync();
        var summary = $"Waiting summary {CatalogIntents.UniqueWord()}";
        await Http.ReadJsonAsync(await agent.Seller.Client.PatchAsJsonAsync(LiveListings.OwnListing(agent), new { short_description = summary }));
        return summary;
    }
}

/// <summary>
/// Turning auto-approval on publishes what is submitted from then on; what already waits stays for an operator, and the
/// console says so (ADR-169). Its own app: it changes a platform setting.
/// </summary>
public class AutoApprovalTurnedOnTests(ManualListingApprovalApp app) : IClassFixture<ManualListingApprovalApp>
{
    [Fact]
    public async Task ListingsAndEditsWaitingWhenAutoApprovalIsTurnedOn_StayForTheOperator_WhomTheConsoleTells()
    {
        var operatorClient = await app.OperatorAsync();
        var waiting = await app.PublishedAgentAsync();
        var live = await app.PublishedAgentAsync();
        await Http.AssertStatusAsync(await operatorClient.PostAsync($"/api/admin/listings/{live.ListingId}/approve/", null), HttpStatusCode.NoContent);
        await Http.ReadJsonAsync(await live.Seller.Client.PatchAsJsonAsync($"/api/provider-agents/{live.AgentId}/listing/", new { short_description = "Edited before." }));
        Assert.DoesNotContain("data-auto-approval-backlog", await operatorClient.HtmlAsync("/admin"), StringComparison.Ordinal);

        await Http.ReadJsonAsync(await operatorClient.PatchAsJsonAsync("/api/admin/settings", new { auto_approve_listings = true }));

        var console = await operatorClient.HtmlAsync("/admin");
        Assert.Contains("data-auto-approval-backlog", console, StringComparison.Ordinal);
        Assert.Contains($"/admin/listings/{waiting.ListingId}", console, StringComparison.Ordinal);
        Assert.Contains("Edited before.", console, StringComparison.Ordinal);
        Assert.Equal("pending_review", (await Http.ReadJsonAsync(await waiting.Seller.Client.GetAsync($"/api/provider-agents/{waiting.AgentId}/listing/"))).GetProperty("state").GetString());
        var pending = (await Http.ReadJsonAsync(await live.Seller.Client.GetAsync($"/api/provider-agents/{live.AgentId}/listing/"))).GetProperty("pending_change");
        Assert.Equal("Edited before.", pending.GetProperty("short_description").GetString());
    }
}
