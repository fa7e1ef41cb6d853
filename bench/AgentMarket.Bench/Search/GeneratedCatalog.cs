using AgentMarket.Catalog;
using AgentMarket.Identity;
using AgentMarket.Platform.Data;
using AgentMarket.Providers;
using Microsoft.EntityFrameworkCore;

namespace AgentMarket.Bench.Search;

/// <summary>
/// A synthetic catalog shaped like real text. Words follow Zipf's law (rank r drawn with probability ∝ 1/r) over one
/// vocabulary: function words first ("the", "and"...), then about 430 domain words ranked by how common they are in agent
/// listings, then a long tail of 20,000 rare words. So, as in real descriptions, function words are everywhere, the most
/// common domain word ("assistant") is in roughly one listing in eight, and most words are rare. Visitors search for
/// domain words, drawn by the same law. Popularity and ratings are heavy-tailed; 95% of listings are active and public.
/// </summary>
sealed class GeneratedCatalog
{
    static readonly string[] FunctionWords =
        "the and for your with to of a in on from that this it is are you can into by as at every any all or more".Split(' ');

    // Ranked by how common they are in agent listings.
    static readonly string[] DomainWords = (
        "assistant agent data customer support email report document invoice sales marketing content analysis research chat "
        + "summary automation workflow search knowledge answers team meeting notes writing translation code review tickets leads "
        + "finance accounting legal contract compliance hr recruiting onboarding product roadmap spreadsheet csv pdf website seo "
        + "social media posts blog newsletter campaign ads copy brand voice images video transcript calls crm pipeline forecast "
        + "budget expenses receipts tax payroll inventory orders shipping logistics supplier procurement quotes pricing churn "
        + "retention survey feedback sentiment reviews faq helpdesk chatbot widget slack teams calendar scheduling reminders tasks "
        + "project planning sprint jira github pull requests bugs tests documentation api integration webhooks zapier sheets "
        + "database sql queries dashboards metrics kpi analytics insights trends anomalies alerts monitoring security audit "
        + "policy risk fraud identity passwords access privacy gdpr health medical patients clinic appointments insurance claims "
        + "real estate listings property rental travel booking itinerary flights hotels restaurant menu recipes nutrition fitness "
        + "coaching tutor students lessons quiz homework language grammar essay resume cover letter interview jobs careers "
        + "ecommerce store catalog products descriptions returns refunds warranty tracking dispatch drivers routes fleet energy "
        + "solar utilities manufacturing quality maintenance sensors iot devices firmware warehouse picking packing "
        + "nonprofit donors grants fundraising events venue music podcast episodes scripts storyboard game players "
        + "moderation community forum wiki glossary terminology localization subtitles speech audio dictation "
        + "extractor generator classifier summarizer translator planner tracker monitor optimizer copilot helper bot "
        + "smart fast simple secure private automatic instant accurate friendly multilingual enterprise personal daily weekly "
        + "new best top quick easy clean structured detailed short long").Split(' ', StringSplitOptions.RemoveEmptyEntries);

    const int RareWords = 20_000;

    static readonly string[] Vocabulary = [.. FunctionWords, .. DomainWords, .. Enumerable.Range(0, RareWords).Select(RareWord)];

    static readonly string[] Categories = ["agents", "apps", "assistants", "automations"];

    readonly Random _random;
    readonly double[] _textRanks = Cumulative(Vocabulary.Length);
    readonly double[] _queryRanks = Cumulative(DomainWords.Length);

    public GeneratedCatalog(int seed) => _random = new Random(seed);

    /// <summary>A word of listing text.</summary>
    public string Word() => Vocabulary[Draw(_textRanks)];

    /// <summary>A word a visitor searches for: a domain word, common ones more often.</summary>
    public string QueryWord() => DomainWords[Draw(_queryRanks)];

    public string Words(int min, int max) => string.Join(' ', Enumerable.Range(0, _random.Next(min, max + 1)).Select(_ => Word()));

    int Draw(double[] cumulative)
    {
        var index = Array.BinarySearch(cumulative, _random.NextDouble());
        return Math.Min(index < 0 ? ~index : index, cumulative.Length - 1);
    }

    static double[] Cumulative(int count)
    {
        var total = Enumerable.Range(1, count).Sum(rank => 1.0 / rank);
        var cumulative = new double[count];
        var sum = 0.0;
        for (var i = 0; i < count; i++)
        {
            sum += 1.0 / (i + 1) / total;
            cumulative[i] = sum;
        }
        return cumulative;
    }

    /// <summary>Pronounceable, distinct and deterministic: syllables spelled from the number.</summary>
    static string RareWord(int n)
    {
        string[] syllables = ["ka", "lo", "mi", "ra", "te", "vu", "no", "si", "pe", "du", "ga", "ze", "bo", "fi", "ju", "xa"];
        var word = "";
        do
        {
            word += syllables[n % syllables.Length];
            n /= syllables.Length;
        }
        while (n > 0);
        return word + "n";
    }

    /// <summary>Inserts <paramref name="listings"/> listings (and one provider per 100) through EF, so the schema's search triggers index them.</summary>
    public async Task InsertAsync(Func<AppDbContext> newContext, int listings)
    {
        var now = DateTime.UtcNow;
        await using (var db = newContext())
        {
            var order = 0;
            foreach (var slug in Categories)
            {
                db.Categories.Add(new Category { Slug = slug, Name = char.ToUpperInvariant(slug[0]) + slug[1..], SortOrder = order++ });
            }
            await db.SaveChangesAsync();
        }
        List<Guid> categoryIds;
        await using (var db = newContext())
        {
            categoryIds = await db.Categories.OrderBy(c => c.SortOrder).Select(c => c.Id).ToListAsync();
        }
        var providers = new List<Provider>();
        await using (var db = newContext())
        {
            for (var i = 0; i < Math.Max(1, listings / 100); i++)
            {
                var organization = new Organization { Name = $"Provider organization {i}", CreatedUtc = now };
                db.Organizations.Add(organization);
                var provider = new Provider
                {
                    OrganizationId = organization.Id,
                    Handle = $"provider-{i}",
                    Name = $"{Capitalized(Word())} {Capitalized(Word())} Labs {i}",
                    State = ProviderState.Approved,
                    IsVerified = i % 3 == 0,
                    CreatedUtc = now,
                };
                db.Providers.Add(provider);
                providers.Add(provider);
            }
            await db.SaveChangesAsync();
        }
        const int Batch = 2000;
        for (var start = 0; start < listings; start += Batch)
        {
            await using var db = newContext();
            for (var i = start; i < Math.Min(listings, start + Batch); i++)
            {
                var provider = providers[_random.Next(providers.Count)];
                var reviews = _random.Next(0, 4) == 0 ? 0 : (int)Math.Min(5000, 1 / Math.Max(_random.NextDouble(), 0.0002));
                var model = (PricingModel)_random.Next(0, 4);
                db.Listings.Add(new Listing
                {
                    ProviderId = provider.Id,
                    OrganizationId = provider.OrganizationId,
                    Slug = $"listing-{i}",
                    Name = Capitalized(Words(2, 4)),
                    CategoryId = categoryIds[_random.Next(categoryIds.Count)],
                    ShortDescription = Capitalized(Words(8, 16)) + ".",
                    Description = $"## {Capitalized(Words(2, 4))}\n\n{Capitalized(Words(30, 60))}.\n\n- {Words(4, 8)}\n- {Words(4, 8)}\n",
                    Tags = [.. Enumerable.Range(0, _random.Next(1, 5)).Select(_ => Word()).Distinct()],
                    PricingModel = model,
                    CreditsPerRun = model is PricingModel.FixedCredits or PricingModel.Subscription ? _random.Next(1, 50) : 0,
                    CreditsMin = model == PricingModel.VariableCredits ? _random.Next(1, 5) : 0,
                    CreditsMax = model == PricingModel.VariableCredits ? _random.Next(5, 40) : 0,
                    IsPremium = _random.Next(0, 5) == 0,
                    Visibility = _random.Next(0, 40) == 0 ? ListingVisibility.Private : ListingVisibility.Public,
                    State = _random.Next(0, 40) == 0 ? ListingState.Paused : ListingState.Active,
                    // Popularity is heavy-tailed: most listings have a handful of runs, a few have many thousands.
                    RunsCount = (long)Math.Min(500_000, 1 / Math.Max(_random.NextDouble(), 0.000002)),
                    FailedRunsCount = _random.Next(0, 50),
                    ReviewsCount = reviews,
                    RatingTotal = reviews == 0 ? 0 : (long)Math.Round(reviews * (3.0 + _random.NextDouble() * 2)),
                    Users30d = _random.Next(0, 300),
                    CreatedUtc = now.AddMinutes(-i),
                    PublishedUtc = now.AddMinutes(-i),
                });
            }
            await db.SaveChangesAsync();
        }
    }

    static string Capitalized(string text) => text.Length == 0 ? text : char.ToUpperInvariant(text[0]) + text[1..];
}
