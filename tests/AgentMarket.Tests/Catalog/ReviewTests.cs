using System.Net;
using System.Net.Http.Json;
using AgentMarket.Platform.Data;
using AgentMarket.Tests.Buyer;
using AgentMarket.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace AgentMarket.Tests.Catalog;

public class ReviewTests(AgentMarketApp app) : IClassFixture<AgentMarketApp>
{
    [Fact]
    public async Task Review_WithoutACompletedRun_Returns403()
    {
        var agent = await app.PublishedAgentAsync();
        var buyer = await app.SignUpAsync();
        await Http.AssertProblemAsync(await buyer.Client.PostAsJsonAsync($"/api/marketplace/agents/{agent.ListingId}/reviews/", new { rating = 5, text = "Great" }),
            HttpStatusCode.Forbidden, "review_requires_run");

        // A failed run is not a completed one.
        await app.RecordRunAsync(agent.ListingId, buyer.OrganizationId, AgentMarket.Catalog.SocialProof.RunOutcome.Failed);
        await Http.AssertProblemAsync(await buyer.Client.PostAsJsonAsync($"/api/marketplace/agents/{agent.ListingId}/reviews/", new { rating = 5, text = "Great" }),
            HttpStatusCode.Forbidden, "review_requires_run");
    }

    [Fact]
    public async Task Review_AfterARun_IsPublic_OncePerOrganization_AndEditable()
    {
        var agent = await app.PublishedAgentAsync();
        var buyer = await app.SignUpAsync("Ada Buyer");
        await app.RecordCustomerRunAsync(buyer, agent.ListingId);

        var review = await Http.ReadJsonAsync(await buyer.Client.PostAsJsonAsync($"/api/marketplace/agents/{agent.ListingId}/reviews/", new { rating = 4, text = "Solid." }), HttpStatusCode.Created);
        await Http.AssertProblemAsync(await buyer.Client.PostAsJsonAsync($"/api/marketplace/agents/{agent.ListingId}/reviews/", new { rating = 1, text = "Again" }),
            HttpStatusCode.Conflict, "already_reviewed");
        // Another member of the same organization cannot add a second one either.
        var colleague = await app.JoinAsync(buyer, "member");
        await Http.AssertProblemAsync(await colleague.Client.PostAsJsonAsync($"/api/marketplace/agents/{agent.ListingId}/reviews/", new { rating = 1, text = "Me too" }),
            HttpStatusCode.Conflict, "already_reviewed");

        var card = await app.CardAsync(agent);
        Assert.Equal(4.0, card.GetProperty("stats").GetProperty("rating").GetDouble());
        Assert.Equal(1, card.GetProperty("stats").GetProperty("reviews_count").GetInt32());

        var id = review.GetProperty("uuid").GetGuid();
        await Http.AssertStatusAsync(await buyer.Client.PatchAsJsonAsync($"/api/reviews/{id}/", new { rating = 2 }), HttpStatusCode.OK);
        var reviews = await Http.ReadJsonAsync(await app.CreateClient().GetAsync($"/api/marketplace/agents/{agent.Slug}/reviews/"));
        var shown = Assert.Single(reviews.GetProperty("items").EnumerateArray());
        Assert.Equal(2, shown.GetProperty("rating").GetInt32());
        Assert.Equal("Solid.", shown.GetProperty("text").GetString());
        Assert.Equal("Ada Buyer", shown.GetProperty("author").GetString());
        Assert.Equal(2.0, (await app.CardAsync(agent)).GetProperty("rating_average").GetDouble());

        // Only the reviewing organization edits its review; others get 404.
        var stranger = await app.SignUpAsync();
        await Http.AssertProblemAsync(await stranger.Client.PatchAsJsonAsync($"/api/reviews/{id}/", new { rating = 5 }), HttpStatusCode.NotFound, "not_found");
        await Http.AssertProblemAsync(await buyer.Client.PatchAsJsonAsync($"/api/reviews/{id}/", new { rating = 6 }), HttpStatusCode.BadRequest, "validation_failed");
    }

    [Fact]
    public async Task Provider_RepliesPublicly_ButCannotReviewItsOwnAgent()
    {
        var agent = await app.PublishedAgentAsync();
        var buyer = await app.SignUpAsync();
        await app.RecordCustomerRunAsync(buyer, agent.ListingId);
        await app.RecordRunAsync(agent.ListingId, agent.Seller.OrganizationId);
        var review = await Http.ReadJsonAsync(await buyer.Client.PostAsJsonAsync($"/api/marketplace/agents/{agent.ListingId}/reviews/", new { rating = 3, text = "Slow." }), HttpStatusCode.Created);
        var id = review.GetProperty("uuid").GetGuid();

        await Http.AssertProblemAsync(await agent.Seller.Client.PostAsJsonAsync($"/api/marketplace/agents/{agent.ListingId}/reviews/", new { rating = 5, text = "Mine is great" }),
            HttpStatusCode.Forbidden, "own_listing");
        await Http.AssertProblemAsync(await buyer.Client.PutAsJsonAsync($"/api/reviews/{id}/reply/", new { text = "Not yours to answer" }), HttpStatusCode.NotFound, "not_found");

        await Http.AssertStatusAsync(await agent.Seller.Client.PutAsJsonAsync($"/api/reviews/{id}/reply/", new { text = "Fixed in 1.1 — thanks!" }), HttpStatusCode.OK);
        var details = await app.DetailsAsync(agent.Slug);
        Assert.Equal("Fixed in 1.1 — thanks!", details.GetProperty("reviews").GetProperty("items")[0].GetProperty("provider_reply").GetString());
    }

    [Fact]
    public async Task Reports_ComeFromSignedInUsersOnce_AndOperatorsSeeAndResolveThem()
    {
        var agent = await app.PublishedAgentAsync();
        var buyer = await app.SignUpAsync();
        await app.RecordCustomerRunAsync(buyer, agent.ListingId);
        var review = await Http.ReadJsonAsync(await buyer.Client.PostAsJsonAsync($"/api/marketplace/agents/{agent.ListingId}/reviews/", new { rating = 1, text = "Buy my product instead!" }), HttpStatusCode.Created);
        var id = review.GetProperty("uuid").GetGuid();
        var reporter = await app.SignUpAsync();

        await Http.AssertStatusAsync(await app.CreateClient().PostAsJsonAsync($"/api/reviews/{id}/report/", new { reason = "spam" }), HttpStatusCode.Unauthorized);
        await Http.AssertProblemAsync(await reporter.Client.PostAsJsonAsync($"/api/reviews/{id}/report/", new { reason = " " }), HttpStatusCode.BadRequest, "validation_failed");
        await Http.AssertStatusAsync(await reporter.Client.PostAsJsonAsync($"/api/reviews/{id}/report/", new { reason = "Spam for another product." }), HttpStatusCode.Created);
        await Http.AssertProblemAsync(await reporter.Client.PostAsJsonAsync($"/api/reviews/{id}/report/", new { reason = "Still spam." }), HttpStatusCode.Conflict, "already_reported");
        await Http.AssertStatusAsync(await agent.Seller.Client.PostAsJsonAsync($"/api/reviews/{id}/report/", new { reason = "Spam." }), HttpStatusCode.Created);

        var operatorClient = await app.OperatorAsync();
        var open = await Http.ReadJsonAsync(await operatorClient.GetAsync("/api/admin/review-reports/?limit=200"));
        var reported = open.GetProperty("items").EnumerateArray().Single(r => r.GetProperty("uuid").GetGuid() == id);
        Assert.Equal(2, reported.GetProperty("reporters_count").GetInt32());
        Assert.Equal("Buy my product instead!", reported.GetProperty("review_text").GetString());
        Assert.Equal(new[] { agent.Seller.Email, reporter.Email }.Order(),
            reported.GetProperty("reports").EnumerateArray().Select(r => r.GetProperty("reporter").GetString()).Order());
        await Http.AssertStatusAsync(await reporter.Client.GetAsync("/api/admin/review-reports/"), HttpStatusCode.NotFound);
        // Operators decide in the console: see Admin/ReviewReportConsoleTests.
    }

    [Fact]
    public async Task AgentPage_RepliesAndReports_ThroughOneFormEach_WithTheReviewOnTheButton()
    {
        var (agent, review) = await ReviewedAgentAsync();
        var url = $"/agents/{agent.Slug}";

        PageForms.AssertRedirect(await agent.Seller.Client.SubmitAsync(url, "review-reply", new() { ["review"] = review.ToString(), [$"reply-{review}"] = "Thanks, fixed in 1.1." }), $"{url}?done=reply");
        Assert.Equal("Thanks, fixed in 1.1.", (await app.DetailsAsync(agent.Slug)).GetProperty("reviews").GetProperty("items")[0].GetProperty("provider_reply").GetString());

        var reporter = await app.SignUpAsync();
        var empty = await reporter.Client.SubmitAsync(url, "review-report", new() { ["review"] = review.ToString(), [$"reason-{review}"] = " " });
        Assert.Equal(HttpStatusCode.OK, empty.StatusCode);
        Assert.Contains("Say in 1–1,000 characters what is wrong with the review.", await empty.HtmlAsync(), StringComparison.Ordinal);
        PageForms.AssertRedirect(await reporter.Client.SubmitAsync(url, "review-report", new() { ["review"] = review.ToString(), [$"reason-{review}"] = "Off topic." }), $"{url}?done=report");
        Assert.Equal(["Off topic."], await ReportsAsync(review));

        // The forms are on every viewer's page: a visitor's report and a buyer's reply are refused in words.
        var visitor = await app.CreateClient().SubmitAsync(url, "review-report", new() { ["review"] = review.ToString(), [$"reason-{review}"] = "Spam." });
        Assert.Equal(HttpStatusCode.OK, visitor.StatusCode);
        Assert.Contains("Sign in to report a review.", await visitor.HtmlAsync(), StringComparison.Ordinal);
        var notTheProvider = await reporter.Client.SubmitAsync(url, "review-reply", new() { ["review"] = review.ToString(), [$"reply-{review}"] = "Not mine." });
        Assert.Equal(HttpStatusCode.OK, notTheProvider.StatusCode);
        Assert.Contains("Only the agent's provider replies to its reviews.", await notTheProvider.HtmlAsync(), StringComparison.Ordinal);
        Assert.Equal(["Off topic."], await ReportsAsync(review));
        Assert.Equal("Thanks, fixed in 1.1.", (await app.DetailsAsync(agent.Slug)).GetProperty("reviews").GetProperty("items")[0].GetProperty("provider_reply").GetString());
    }

    [Fact]
    public async Task AgentPage_AReplyOrReportOnAReviewHiddenAfterThePageWasRead_SaysSo_AndSendsNothing()
    {
        var (agent, review) = await ReviewedAgentAsync();
        var url = $"/agents/{agent.Slug}";
        var reporter = await app.SignUpAsync();
        var sellerPage = await agent.Seller.Client.HtmlAsync(url);
        var reporterPage = await reporter.Client.HtmlAsync(url);
        Assert.Contains($"value=\"{review}\"", sellerPage, StringComparison.Ordinal);
        Assert.Contains($"value=\"{review}\"", reporterPage, StringComparison.Ordinal);
        await Http.AssertStatusAsync(await (await app.OperatorAsync()).PostAsJsonAsync($"/api/admin/review-reports/{review}/hide/", new { reason = "Advertising" }), HttpStatusCode.NoContent);

        // The pages still show the review; their buttons post the section's forms, which the pages still have.
        var reply = await agent.Seller.Client.SubmitFromPageAsync(url, sellerPage, "review-reply", new() { ["review"] = review.ToString(), [$"reply-{review}"] = "Thanks!" });
        var report = await reporter.Client.SubmitFromPageAsync(url, reporterPage, "review-report", new() { ["review"] = review.ToString(), [$"reason-{review}"] = "Spam." });
        foreach (var response in new[] { reply, report })
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Contains("That review is no longer shown: an operator hid it. Nothing was sent.", await response.HtmlAsync(), StringComparison.Ordinal);
        }
        Assert.Null(await app.InScopeAsync(null, services => services.GetRequiredService<AppDbContext>().Reviews.Where(r => r.Id == review).Select(r => r.ProviderReply).SingleAsync()));
        Assert.Empty(await ReportsAsync(review));
    }

    [Fact]
    public async Task AgentPage_ShowsOnlyItsOwnMessages_NotTheWordsOfACraftedLink()
    {
        var (agent, _) = await ReviewedAgentAsync();
        var crafted = Uri.EscapeDataString("Your session expired: sign in again at evil.example");
        var page = await agent.Seller.Client.HtmlAsync($"/agents/{agent.Slug}?done={crafted}&error={crafted}");
        Assert.DoesNotContain("Your session expired", page, StringComparison.Ordinal);
        Assert.DoesNotContain("alert-error", page, StringComparison.Ordinal);
    }

    async Task<(PublishedAgent Agent, Guid Review)> ReviewedAgentAsync()
    {
        var agent = await app.PublishedAgentAsync();
        var buyer = await app.SignUpAsync();
        await app.RecordCustomerRunAsync(buyer, agent.ListingId);
        var review = await Http.ReadJsonAsync(await buyer.Client.PostAsJsonAsync($"/api/marketplace/agents/{agent.ListingId}/reviews/", new { rating = 2, text = "Slow." }), HttpStatusCode.Created);
        return (agent, review.GetProperty("uuid").GetGuid());
    }

    Task<List<string>> ReportsAsync(Guid review) =>
        app.InScopeAsync(null, services => services.GetRequiredService<AppDbContext>().ReviewReports.Where(r => r.ReviewId == review).Select(r => r.Reason).ToListAsync());
}
