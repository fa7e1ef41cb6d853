using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using AgentMarket.Catalog.SocialProof;
using AgentMarket.Credits;
using AgentMarket.Tests.Buyer;
using AgentMarket.Tests.Catalog;
using AgentMarket.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace AgentMarket.Tests.Providers;

/// <summary>The seller's pages as a browser without JavaScript reads and posts them.</summary>
public class SellerPagesTests(AgentMarketApp app) : IClassFixture<AgentMarketApp>
{
    async Task<List<(string Slug, string Name)>> CategoriesAsync() =>
        [.. (await Http.ReadJsonAsync(await app.CreateClient().GetAsync("/api/marketplace/categories/"))).EnumerateArray()
            .Select(c => (c.GetProperty("slug").GetString()!, c.GetProperty("name").GetString()!))];

    [Fact]
    public async Task NewAgentForm_RefusedByAField_KeepsWhatTheSellerTyped_AndSaysWhyByThatField()
    {
        var (seller, _) = await app.SellerAsync();
        var category = (await CategoriesAsync())[^1];
        var longName = new string('n', 121);

        var refused = await seller.Client.SubmitAsync("/provider/agents", "create-agent",
            new() { ["name"] = longName, ["description"] = "Notes for me", ["category"] = category.Slug });

        Assert.Equal(HttpStatusCode.OK, refused.StatusCode);
        var page = await refused.HtmlAsync();
        Assert.Contains($"value=\"{longName}\"", page, StringComparison.Ordinal);
        Assert.Contains(">Notes for me</textarea>", page, StringComparison.Ordinal);
        Assert.Matches($"<option value=\"{category.Slug}\" selected", page);
        Assert.Contains("aria-invalid=\"true\" aria-describedby=\"agent-name-error\"", page, StringComparison.Ordinal);
        Assert.Matches("id=\"agent-name-error\"[^>]*>[^<]+<", page);
        Assert.Equal(0, (await Http.ReadJsonAsync(await seller.Client.GetAsync("/api/provider-agents/"))).GetProperty("total").GetInt32());

        var unknownCategory = await (await seller.Client.SubmitAsync("/provider/agents", "create-agent",
            new() { ["name"] = "Tax Helper", ["category"] = "weapons" })).HtmlAsync();
        Assert.Contains("value=\"Tax Helper\"", unknownCategory, StringComparison.Ordinal);
        Assert.Contains("aria-invalid=\"true\" aria-describedby=\"agent-category-error\"", unknownCategory, StringComparison.Ordinal);
        Assert.DoesNotContain("aria-describedby=\"agent-name-error\"", unknownCategory, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnUnpublishedAgentsPage_SaysWhatToDoNext_AsASentence()
    {
        var (seller, _) = await app.SellerAsync();
        var empty = await seller.CreateAgentAsync();
        var imported = await seller.CreateAgentAsync();
        await seller.ImportExampleAsync(imported);

        Assert.Contains($"<span>First <a href=\"/provider/agents/{empty}/import\">import a flow</a>, then <a href=\"/provider/agents/{empty}/publish\">publish it</a>.</span>",
            await seller.Client.HtmlAsync($"/provider/agents/{empty}"), StringComparison.Ordinal);
        Assert.Contains($"Not published yet. <span><a href=\"/provider/agents/{imported}/publish\">Publish it</a>.</span>",
            await seller.Client.HtmlAsync($"/provider/agents/{imported}"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AgentList_ShowsTheCategorysName_NotItsSlug()
    {
        var (seller, _) = await app.SellerAsync();
        var category = (await CategoriesAsync())[^1];
        await seller.CreateAgentAsync(category: category.Slug);

        var page = await seller.Client.HtmlAsync("/provider/agents");

        Assert.Contains($"<td>{category.Name}</td>", page, StringComparison.Ordinal);
        Assert.DoesNotContain($"<td>{category.Slug}</td>", page, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StatsPage_ChartsEachDay_WithAxesAndATableOnRequest()
    {
        var agent = await app.PublishedAgentAsync();
        var buyer = await app.SignUpAsync();
        await app.RecordRunAsync(agent.ListingId, buyer.OrganizationId);
        await app.RecordRunAsync(agent.ListingId, buyer.OrganizationId, RunOutcome.Failed);
        var today = (await Http.ReadJsonAsync(await agent.Seller.Client.GetAsync($"/api/provider-agents/{agent.AgentId}/stats/")))
            .GetProperty("daily").EnumerateArray().Last();

        var page = await agent.Seller.Client.HtmlAsync($"/provider/agents/{agent.AgentId}/stats");

        Assert.DoesNotContain("visually-hidden", page, StringComparison.Ordinal);
        foreach (var (chart, value) in new[] { ("completed-runs-per-day", "completed_runs"), ("failed-runs-per-day", "failed_runs"), ("customers-per-day", "customers") })
        {
            var figure = Regex.Match(page, $"<figure class=\"bar-chart\" data-chart=\"{chart}\">.*?</figure>", RegexOptions.Singleline);
            Assert.True(figure.Success, $"no {chart} chart");
            Assert.Contains("class=\"axis-label\"", figure.Value, StringComparison.Ordinal);
            Assert.Contains($"<tr><td>{today.GetProperty("day").GetString()}</td><td class=\"num\">{today.GetProperty(value).GetInt32()}</td></tr>", figure.Value, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task PublishForm_StartsThePublicDescriptionEmpty_NotWithTheAgentsOwnNote()
    {
        var (seller, _) = await app.SellerAsync();
        var note = $"Internal: uses the old prompt, fix before {Guid.NewGuid():N}";
        var agent = await seller.CreateAgentAsync(description: note);
        await seller.ImportExampleAsync(agent);

        var page = await seller.Client.HtmlAsync($"/provider/agents/{agent}/publish");

        // The new-agent form promises the note is the seller's own; publishing must not carry it to buyers unnoticed.
        Assert.Contains("name=\"description\" rows=\"8\" maxlength=\"20000\"></textarea>", page, StringComparison.Ordinal);
        Assert.DoesNotContain(note, page, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PublishForm_LabelsEachAmountWithItsModel_AndSaysWhatThePriceMeansAndWhatTheSellerEarns()
    {
        var (seller, _) = await app.SellerAsync();
        var agent = await seller.CreateAgentAsync();
        await seller.ImportExampleAsync(agent);
        var url = $"/provider/agents/{agent}/publish";
        var credits = app.Services.GetRequiredService<IOptions<CreditsOptions>>().Value;
        string Earned(long price) => (price - credits.Split.Fee(price)).ToString("N0", CultureInfo.InvariantCulture);
        var commission = $"{credits.CommissionPercent.ToString("0.##", CultureInfo.InvariantCulture)}% commission";

        var page = await seller.Client.HtmlAsync(url);
        Assert.Matches("<div class=\"field\" data-pricing-for=\"variable_credits\">\\s*<label for=\"credits-min\">[^<]*variable price[^<]*</label>", page);
        Assert.Matches("<div class=\"field\" data-pricing-for=\"fixed_credits subscription\">\\s*<label for=\"credits-per-run\"[^>]*>[^<]*fixed price[^<]*subscription[^<]*</label>", page);
        var price = long.Parse(Regex.Match(page, "name=\"credits_per_run\" type=\"number\" min=\"0\" value=\"(\\d+)\"").Groups[1].Value, CultureInfo.InvariantCulture);
        var meaning = PageForms.Marked(page, "data-price-meaning");
        Assert.Contains(Money.Format(price), meaning, StringComparison.Ordinal);
        Assert.Contains(commission, meaning, StringComparison.Ordinal);
        Assert.Contains($"{Earned(price)} credits ({Money.Format(price - credits.Split.Fee(price))}) a run", meaning, StringComparison.Ordinal);

        // Refused for another reason: the line describes the monthly price the seller typed.
        const long Monthly = 1_999;
        var refused = await (await seller.Client.SubmitAsync(url, "publish-listing", new()
        {
            ["slug"] = $"a{Guid.NewGuid():N}"[..20],
            ["category"] = "assistants",
            ["short_description"] = "",
            ["pricing_model"] = "subscription",
            ["credits_per_run"] = Monthly.ToString(CultureInfo.InvariantCulture),
            ["credits_min"] = "0",
            ["credits_max"] = "0",
        })).HtmlAsync();
        meaning = PageForms.Marked(refused, "data-price-meaning");
        Assert.Contains($"{Monthly.ToString("N0", CultureInfo.InvariantCulture)} credits ({Money.Format(Monthly)}) a month", meaning, StringComparison.Ordinal);
        Assert.Contains($"{Earned(Monthly)} credits ({Money.Format(Monthly - credits.Split.Fee(Monthly))}) a month", meaning, StringComparison.Ordinal);

        // A variable price publishes although the form also posts the fixed price's amount, which the page hides for it.
        var published = await seller.Client.SubmitAsync(url, "publish-listing", new()
        {
            ["slug"] = $"a{Guid.NewGuid():N}"[..20],
            ["category"] = "assistants",
            ["short_description"] = "Answers.",
            ["pricing_model"] = "variable_credits",
            ["credits_per_run"] = price.ToString(CultureInfo.InvariantCulture),
            ["credits_min"] = "1",
            ["credits_max"] = "40",
            ["visibility"] = "public",
        });
        PageForms.AssertRedirect(published, $"/provider/agents/{agent}?done=published");
    }

    [Fact]
    public async Task ImportReport_SeparatesWhereAFindingAppliesFromItsSentence_AndKeepsTheCodeOutOfTheText()
    {
        var (seller, _) = await app.SellerAsync();
        var agent = await seller.CreateAgentAsync();
        var imported = await seller.ImportExampleAsync(agent, "Vector Store RAG.json");
        var issue = imported.GetProperty("report").GetProperty("issues").EnumerateArray()
            .First(i => i.TryGetProperty("node_id", out var node) && node.ValueKind == System.Text.Json.JsonValueKind.String);
        var code = issue.GetProperty("code").GetString()!;

        var page = await seller.Client.HtmlAsync($"/provider/agents/{agent}/import?version={imported.GetProperty("version").GetProperty("uuid").GetGuid()}");

        Assert.Contains($"data-issue-code=\"{code}\"", page, StringComparison.Ordinal);
        Assert.Contains($"{issue.GetProperty("message").GetString()}<span class=\"muted\"> — node <code>{issue.GetProperty("node_id").GetString()}</code>", page, StringComparison.Ordinal);
        Assert.DoesNotContain($"({code})", page, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FieldsPage_NamesEachRowsInputsAfterItsField()
    {
        var (seller, _) = await app.SellerAsync();
        var agent = await seller.CreateAgentAsync();
        await seller.ImportExampleAsync(agent);

        var page = await seller.Client.HtmlAsync($"/provider/agents/{agent}/fields");

        var rows = Regex.Count(page, "name=\"key-(\\d+)\"");
        Assert.True(rows > 1, "the flow has several fields");
        foreach (var input in new[] { "Key", "Label", "Kind", "Default", "Options" })
        {
            var labels = Regex.Matches(page, $"aria-label=\"{input} for ([^\"]+)\"").Select(m => m.Groups[1].Value).ToList();
            Assert.Equal(rows, labels.Count);
            Assert.Equal(rows, labels.Distinct().Count());
        }
    }
}
