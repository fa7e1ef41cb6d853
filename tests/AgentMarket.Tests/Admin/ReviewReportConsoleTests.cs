using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AgentMarket.Tests.Buyer;
using AgentMarket.Tests.Catalog;
using AgentMarket.Tests.Infrastructure;

namespace AgentMarket.Tests.Admin;

/// <summary>
/// Operators work through reported reviews: hiding one takes it off the listing and out of its rating (exactly, also
/// after the social-proof repair), dismissing keeps it; both close the reports and are audited with the reason.
/// </summary>
public class ReviewReportConsoleTests(AgentMarketApp app) : IClassFixture<AgentMarketApp>
{
    [Fact]
    public async Task ReviewReportRoutes_RefuseNonOperators_AndAnswerUnknownReviewsWith404()
    {
        var (agent, review, _, reporter) = await ReportedReviewAsync(5, "Fine.");
        foreach (var action in new[] { "hide", "dismiss" })
        {
            await Http.AssertStatusAsync(await reporter.Client.PostAsJsonAsync($"/api/admin/review-reports/{review}/{action}", new { reason = "x" }), HttpStatusCode.NotFound);
            await Http.AssertStatusAsync(await agent.Seller.Client.PostAsJsonAsync($"/api/admin/review-reports/{review}/{action}", new { reason = "x" }), HttpStatusCode.NotFound);
        }
        await Http.AssertStatusAsync(await reporter.Client.GetAsync("/api/admin/review-reports/"), HttpStatusCode.NotFound);

        var operatorClient = await app.OperatorAsync();
        foreach (var action in new[] { "hide", "dismiss" })
        {
            await Http.AssertProblemAsync(await operatorClient.PostAsJsonAsync($"/api/admin/review-reports/{Guid.NewGuid()}/{action}", new { reason = "x" }), HttpStatusCode.NotFound, "not_found");
            await Http.AssertProblemAsync(await operatorClient.PostAsJsonAsync($"/api/admin/review-reports/{review}/{action}", new { reason = " " }), HttpStatusCode.BadRequest, "validation_failed");
            await Http.AssertProblemAsync(await operatorClient.PostAsync($"/api/admin/review-reports/{review}/{action}", JsonContent.Create(new { reason = 5 })), HttpStatusCode.BadRequest, "malformed_json");
        }
        Assert.Single(await OpenAsync(operatorClient), r => r.GetProperty("uuid").GetGuid() == review);
    }

    [Fact]
    public async Task HidingAReview_TakesItOffTheListingAndOutOfTheRating_ClosesItsReports_AndIsAudited()
    {
        var (agent, review, author, reporter) = await ReportedReviewAsync(1, "Buy my product instead!");
        var other = await app.SignUpAsync();
        await app.RecordCustomerRunAsync(other, agent.ListingId);
        await Http.ReadJsonAsync(await other.Client.PostAsJsonAsync($"/api/marketplace/agents/{agent.ListingId}/reviews/", new { rating = 4, text = "Useful." }), HttpStatusCode.Created);
        await Http.AssertStatusAsync(await (await app.SignUpAsync()).Client.PostAsJsonAsync($"/api/reviews/{review}/report/", new { reason = "Advertising." }), HttpStatusCode.Created);
        AssertRating(await app.CardAsync(agent), 2, 2.5);

        var operatorClient = await app.OperatorAsync();
        var listed = (await OpenAsync(operatorClient)).Single(r => r.GetProperty("uuid").GetGuid() == review);
        Assert.Equal((agent.ListingId, agent.Slug, 2), (listed.GetProperty("listing").GetProperty("uuid").GetGuid(), listed.GetProperty("listing").GetProperty("slug").GetString(), listed.GetProperty("reporters_count").GetInt32()));
        Assert.Contains("Advertising.", listed.GetProperty("reports").EnumerateArray().Select(r => r.GetProperty("reason").GetString()));

        await Http.AssertStatusAsync(await operatorClient.PostAsJsonAsync($"/api/admin/review-reports/{review}/hide/", new { reason = "Advertising, not a review" }), HttpStatusCode.NoContent);
        AssertRating(await app.CardAsync(agent), 1, 4.0);
        var shown = (await app.DetailsAsync(agent.Slug)).GetProperty("reviews");
        Assert.Equal(1, shown.GetProperty("total").GetInt32());
        Assert.DoesNotContain(shown.GetProperty("items").EnumerateArray(), r => r.GetProperty("uuid").GetGuid() == review);
        Assert.DoesNotContain(await OpenAsync(operatorClient), r => r.GetProperty("uuid").GetGuid() == review);
        await Http.AssertProblemAsync(await operatorClient.PostAsJsonAsync($"/api/admin/review-reports/{review}/hide/", new { reason = "Again" }), HttpStatusCode.Conflict, "review_already_hidden");
        await Http.AssertProblemAsync(await reporter.Client.PostAsJsonAsync($"/api/reviews/{review}/report/", new { reason = "Still there?" }), HttpStatusCode.NotFound, "not_found");

        // The author's later edit does not bring its stars back, and recomputing the counters from the reviews agrees.
        await Http.ReadJsonAsync(await author.Client.PatchAsJsonAsync($"/api/reviews/{review}", new { rating = 5 }));
        AssertRating(await app.CardAsync(agent), 1, 4.0);
        await app.RepairSocialProofAsync();
        AssertRating(await app.CardAsync(agent), 1, 4.0);

        var entry = Assert.Single((await Http.ReadJsonAsync(await operatorClient.GetAsync($"/api/admin/audit/?action=review.hidden&target={review}"))).GetProperty("items").EnumerateArray());
        Assert.Equal("Advertising, not a review", entry.GetProperty("after").GetProperty("reason").GetString());
        Assert.Equal(2, entry.GetProperty("after").GetProperty("reports_closed").GetInt32());
        Assert.Equal(AgentMarketApp.OperatorEmail, entry.GetProperty("actor").GetProperty("email").GetString());
    }

    [Fact]
    public async Task DismissingReports_KeepsTheReviewAndItsRating_AndIsAudited()
    {
        var (agent, review, _, _) = await ReportedReviewAsync(2, "Meh.");
        var operatorClient = await app.OperatorAsync();
        await Http.AssertStatusAsync(await operatorClient.PostAsJsonAsync($"/api/admin/review-reports/{review}/dismiss/", new { reason = "An opinion, not abuse" }), HttpStatusCode.NoContent);
        await Http.AssertProblemAsync(await operatorClient.PostAsJsonAsync($"/api/admin/review-reports/{review}/dismiss/", new { reason = "Again" }), HttpStatusCode.Conflict, "no_open_reports");
        Assert.DoesNotContain(await OpenAsync(operatorClient), r => r.GetProperty("uuid").GetGuid() == review);
        Assert.Single((await app.DetailsAsync(agent.Slug)).GetProperty("reviews").GetProperty("items").EnumerateArray());
        AssertRating(await app.CardAsync(agent), 1, 2.0);
        var entry = Assert.Single((await Http.ReadJsonAsync(await operatorClient.GetAsync($"/api/admin/audit/?action=review_reports.dismissed&target={review}"))).GetProperty("items").EnumerateArray());
        Assert.Equal("An opinion, not abuse", entry.GetProperty("after").GetProperty("reason").GetString());
    }

    [Fact]
    public async Task OpenReports_ArePaged_OldestFirst()
    {
        var operatorClient = await app.OperatorAsync();
        var reviews = new List<Guid>();
        for (var i = 0; i < 3; i++)
        {
            reviews.Add((await ReportedReviewAsync(3, $"Review {i}")).Review);
            app.Clock.Advance(TimeSpan.FromMinutes(1));
        }
        var all = await Http.ReadJsonAsync(await operatorClient.GetAsync("/api/admin/review-reports/?limit=200"));
        var order = all.GetProperty("items").EnumerateArray().Select(r => r.GetProperty("uuid").GetGuid()).Where(reviews.Contains).ToList();
        Assert.Equal(reviews, order);
        var total = all.GetProperty("total").GetInt32();
        var page = await Http.ReadJsonAsync(await operatorClient.GetAsync($"/api/admin/review-reports/?limit=1&offset={total - 2}"));
        Assert.Equal((total, 1, 1, total - 2), (page.GetProperty("total").GetInt32(), page.GetProperty("items").GetArrayLength(), page.GetProperty("limit").GetInt32(), page.GetProperty("offset").GetInt32()));
        Assert.Equal(reviews[1], page.GetProperty("items")[0].GetProperty("uuid").GetGuid());
    }

    [Fact]
    public async Task ConsolePage_ListsReportedReviews_AndHidesOrDismissesThroughItsForms()
    {
        var (agent, hidden, _, _) = await ReportedReviewAsync(1, $"Spam {CatalogIntents.UniqueWord()}");
        var (_, kept, _, _) = await ReportedReviewAsync(3, $"Honest {CatalogIntents.UniqueWord()}");
        var operatorClient = await app.OperatorAsync();
        var page = await operatorClient.HtmlAsync("/admin/catalog");
        Assert.Contains(agent.Name, page, StringComparison.Ordinal);

        PageForms.AssertRedirect(await operatorClient.SubmitAsync("/admin/catalog", "review-decision", new() { [$"reason-{hidden}"] = "Spam", ["hide"] = hidden.ToString() }), "/admin/catalog");
        PageForms.AssertRedirect(await operatorClient.SubmitAsync("/admin/catalog", "review-decision", new() { [$"reason-{kept}"] = "Fair", ["dismiss"] = kept.ToString() }), "/admin/catalog");
        // Deciding again (another operator's page, still showing it) says so; a decision without its reason is refused.
        PageForms.AssertRedirect(await operatorClient.SubmitAsync("/admin/catalog", "review-decision", new() { [$"reason-{hidden}"] = "Spam", ["hide"] = hidden.ToString() }), "/admin/catalog?error=already_decided");
        PageForms.AssertRedirect(await operatorClient.SubmitAsync("/admin/catalog", "review-decision", new() { [$"reason-{kept}"] = " ", ["hide"] = kept.ToString() }), "/admin/catalog?error=reason_required");
        var open = await OpenAsync(operatorClient);
        Assert.DoesNotContain(open, r => r.GetProperty("uuid").GetGuid() == hidden || r.GetProperty("uuid").GetGuid() == kept);
        Assert.Equal(0, (await app.CardAsync(agent)).GetProperty("stats").GetProperty("reviews_count").GetInt32());
        Assert.Contains("Spam", await operatorClient.HtmlAsync("/admin/audit?action=review.hidden"), StringComparison.Ordinal);
        Assert.Single((await Http.ReadJsonAsync(await operatorClient.GetAsync($"/api/admin/audit/?action=review_reports.dismissed&target={kept}"))).GetProperty("items").EnumerateArray());
    }

    /// <summary>A published agent with one review of <paramref name="rating"/> stars by a buyer who ran it, reported once.</summary>
    async Task<(PublishedAgent Agent, Guid Review, TestUser Author, TestUser Reporter)> ReportedReviewAsync(int rating, string text)
    {
        var agent = await app.PublishedAgentAsync();
        var buyer = await app.SignUpAsync();
        await app.RecordCustomerRunAsync(buyer, agent.ListingId);
        var review = (await Http.ReadJsonAsync(await buyer.Client.PostAsJsonAsync($"/api/marketplace/agents/{agent.ListingId}/reviews/", new { rating, text }), HttpStatusCode.Created))
            .GetProperty("uuid").GetGuid();
        var reporter = await app.SignUpAsync();
        await Http.AssertStatusAsync(await reporter.Client.PostAsJsonAsync($"/api/reviews/{review}/report/", new { reason = "Not a real review." }), HttpStatusCode.Created);
        return (agent, review, buyer, reporter);
    }

    static async Task<List<JsonElement>> OpenAsync(HttpClient operatorClient) =>
        (await Http.ReadJsonAsync(await operatorClient.GetAsync("/api/admin/review-reports/?limit=200"))).GetProperty("items").EnumerateArray().ToList();

    static void AssertRating(JsonElement card, int reviews, double rating)
    {
        var stats = card.GetProperty("stats");
        Assert.Equal((reviews, rating), (stats.GetProperty("reviews_count").GetInt32(), stats.GetProperty("rating").GetDouble()));
    }
}
