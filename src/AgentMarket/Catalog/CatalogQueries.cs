using System.Text.Json.Serialization;
using AgentMarket.Catalog.Markdown;
using AgentMarket.Catalog.Pricing;
using AgentMarket.Catalog.Reviews;
using AgentMarket.Catalog.Search;
using AgentMarket.Platform.Api;
using AgentMarket.Platform.Data;
using AgentMarket.Providers;
using Microsoft.EntityFrameworkCore;

namespace AgentMarket.Catalog;

public sealed record ProviderRef(string Name, string Handle);

/// <summary>Social proof from facts: completed runs, average review, reviews, distinct buyer organizations in 30 days, completed / finished.</summary>
public sealed record CardStats(long Runs, double? Rating, int ReviewsCount, [property: JsonPropertyName("users_30d")] int Users30d, double? SuccessRate);

public sealed record CardPricing(PricingModel Model, long CreditsPerRun, long CreditsMin, long CreditsMax)
{
    public static CardPricing From(PricingTerms terms) => new(terms.Model, terms.CreditsPerRun, terms.CreditsMin, terms.CreditsMax);
}

/// <summary>
/// The marketplace card (SPEC §2): exactly what the grid shows and the listing API returns. <see cref="RunsCount"/>,
/// <see cref="RatingAverage"/> and <see cref="ReviewsCount"/> repeat the stats under the names the seed's public
/// offering serializer used, so clients written against it keep working.
/// </summary>
public sealed record AgentCard(
    Guid Uuid, string Slug, string Name, ProviderRef Provider, string Description, string Category,
    CardStats Stats, CardPricing Pricing, bool IsPremium, string? PreviewImage)
{
    public long RunsCount => Stats.Runs;
    public double? RatingAverage => Stats.Rating;
    public int ReviewsCount => Stats.ReviewsCount;
}

public sealed record CategoryResponse(string Slug, string Name, string? Icon);
public sealed record Suggestion(string Name, string Slug);
public sealed record ProviderProfile(Guid Uuid, string Handle, string Name, string? Bio, string? AvatarUrl, bool Verified);
public sealed record ReleaseNote(string Version, string Changelog, DateTime Released, bool Current);
public sealed record PriceNotice(CardPricing Pricing, DateTime EffectiveAt);

/// <summary>
/// The card list envelope: <c>{items, total, limit, offset}</c> plus <c>total_is_exact</c>, false when the total is the
/// database's estimate (PostgreSQL, above <see cref="ListingSearch.ExactTotalCap"/> matches; SPEC §10: totals where cheap).
/// </summary>
public sealed record CatalogPage(IReadOnlyList<AgentCard> Items, int Total, int Limit, int Offset, bool TotalIsExact);

public sealed record ReviewView(Guid Uuid, int Rating, string Text, string Author, DateTime Created, DateTime Updated, string? ProviderReply, DateTime? ProviderReplyAt);

/// <summary>A listing's page: the card's facts plus the long description (rendered safely), provider, versions and reviews.</summary>
/// <param name="ReportsUsage">
/// The agent runs on its provider's servers, and its provider reports each run's usage, which subscribers are charged for
/// (since <paramref name="ReportsUsageSince"/>); false when the platform runs it and meters it itself.
/// </param>
public sealed record AgentDetails(
    Guid Uuid, string Slug, string Name, ProviderProfile Provider, string Description, string LongDescription, string LongDescriptionHtml,
    string Category, string CategoryName, IReadOnlyList<string> Tags, CardStats Stats, CardPricing Pricing, PriceNotice? PendingPriceChange,
    bool IsPremium, string? PreviewImage, ListingState State, ListingVisibility Visibility, DateTime? Published,
    string? CurrentVersion, IReadOnlyList<ReleaseNote> Versions, Page<ReviewView> Reviews, bool ReportsUsage, DateTime? ReportsUsageSince);

/// <summary>Read side of the catalog, shared by pages and endpoints.</summary>
public sealed class CatalogQueries(AppDbContext db, ListingSearch search, TimeProvider clock)
{
    public const int ReviewsPerPage = 20;

    public Task<List<CategoryResponse>> CategoriesAsync(CancellationToken ct) =>
        db.Categories.AsNoTracking().OrderBy(c => c.SortOrder).ThenBy(c => c.Name)
            .Select(c => new CategoryResponse(c.Slug, c.Name, c.Icon)).ToListAsync(ct);

    /// <summary>One page of cards of live listings: searched, filtered and sorted as <paramref name="filter"/> says.</summary>
    public async Task<CatalogPage> BrowseAsync(CatalogFilter filter, CancellationToken ct)
    {
        var hits = await search.SearchAsync(filter, ct);
        var rows = await CardRows(db.Listings.AsNoTracking().Where(l => hits.Ids.Contains(l.Id))).ToListAsync(ct);
        var byId = rows.ToDictionary(r => r.Id);
        return new CatalogPage(hits.Ids.Where(byId.ContainsKey).Select(id => byId[id].ToCard()).ToList(), hits.Total, filter.Limit, filter.Offset, hits.TotalIsExact);
    }

    /// <summary>Names for the search box as the visitor types: the best matches of the words so far.</summary>
    public async Task<List<Suggestion>> SuggestAsync(string? query, CancellationToken ct)
    {
        var filter = new CatalogFilter(Search: query, Limit: 8);
        if (filter.Terms.Count == 0)
        {
            return [];
        }
        var hits = await search.SearchAsync(filter, ct);
        var names = await db.Listings.AsNoTracking().Where(l => hits.Ids.Contains(l.Id)).ToDictionaryAsync(l => l.Id, l => new Suggestion(l.Name, l.Slug), ct);
        return hits.Ids.Where(names.ContainsKey).Select(id => names[id]).ToList();
    }

    /// <summary>
    /// The listing with this id or slug, if the viewer may see it: anyone when it is active and public, the provider's
    /// own organization (<paramref name="viewerOrganizationId"/>) in any state.
    /// </summary>
    public async Task<AgentDetails?> DetailsAsync(string idOrSlug, Guid? viewerOrganizationId, int reviewsOffset, CancellationToken ct)
    {
        var listing = await FindVisibleAsync(idOrSlug, viewerOrganizationId, ct);
        if (listing is null)
        {
            return null;
        }
        var card = (await CardRows(db.Listings.AsNoTracking().Where(l => l.Id == listing.Id)).SingleAsync(ct)).ToCard();
        var provider = await db.Providers.AsNoTracking().Where(p => p.Id == listing.ProviderId)
            .Select(p => new ProviderProfile(p.Id, p.Handle, p.Name, p.Bio, p.AvatarUrl, p.IsVerified)).SingleAsync(ct);
        var categoryName = await db.Categories.Where(c => c.Id == listing.CategoryId).Select(c => c.Name).SingleAsync(ct);
        var releases = await db.ListingReleases.AsNoTracking().Where(r => r.ListingId == listing.Id)
            .OrderByDescending(r => r.Major).ThenByDescending(r => r.Minor).ThenByDescending(r => r.Patch).ToListAsync(ct);
        // After a rollback, releases newer than the served one are withdrawn: not shown as available.
        var current = releases.Find(r => r.AgentVersionId == listing.AgentVersionId);
        var shown = current is null ? releases : releases.Where(r => (r.Major, r.Minor, r.Patch).CompareTo((current.Major, current.Minor, current.Patch)) <= 0);
        var now = clock.GetUtcNow().UtcDateTime;
        var pending = await db.ListingPriceChanges.AsNoTracking()
            .Where(c => c.ListingId == listing.Id && c.EffectiveForSubscribersUtc > now)
            .OrderByDescending(c => c.AnnouncedUtc).FirstOrDefaultAsync(ct);
        return new AgentDetails(
            listing.Id, listing.Slug, listing.Name, provider, listing.ShortDescription, listing.Description, SafeMarkdown.ToHtml(listing.Description),
            card.Category, categoryName, listing.Tags, card.Stats, card.Pricing,
            pending is null ? null : new PriceNotice(CardPricing.From(pending.New), pending.EffectiveForSubscribersUtc),
            listing.IsPremium, listing.PreviewImageUrl, listing.State, listing.Visibility, listing.PublishedUtc,
            current?.Version, shown.Select(r => new ReleaseNote(r.Version, r.Changelog, r.ReleasedUtc, r == current)).ToList(),
            await ReviewsAsync(listing.Id, PageRequest.From(ReviewsPerPage, reviewsOffset), ct),
            listing.ReportsUsageSinceUtc is not null, listing.ReportsUsageSinceUtc);
    }

    /// <summary>A listing's reviews, newest first, with the reviewer's name and the provider's reply.</summary>
    public Task<Page<ReviewView>> ReviewsAsync(Guid listingId, PageRequest page, CancellationToken ct) =>
        page.ToPageAsync(
            db.Reviews.AsNoTracking().Where(r => r.ListingId == listingId && r.HiddenUtc == null).OrderByDescending(r => r.CreatedUtc).ThenBy(r => r.Id)
                .Join(db.Users, r => r.UserId, u => u.Id, (r, u) => new ReviewView(r.Id, r.Rating, r.Text, u.Name, r.CreatedUtc, r.UpdatedUtc, r.ProviderReply, r.ProviderReplyUtc)),
            ct);

    /// <summary>The listing if the viewer may see it (see <see cref="DetailsAsync"/>).</summary>
    public async Task<Listing?> FindVisibleAsync(string idOrSlug, Guid? viewerOrganizationId, CancellationToken ct)
    {
        var listings = db.Listings.AsNoTracking();
        var slug = idOrSlug.ToLowerInvariant();
        var listing = Guid.TryParse(idOrSlug, out var id)
            ? await listings.FirstOrDefaultAsync(l => l.Id == id, ct)
            : await listings.WithSlug(db, slug).FirstOrDefaultAsync(ct);
        if (listing is null)
        {
            return null;
        }
        var isOwner = viewerOrganizationId is { } viewer && viewer == listing.OrganizationId;
        return isOwner || (listing.State == ListingState.Active && listing.Visibility == ListingVisibility.Public) ? listing : null;
    }

    /// <summary>An approved provider's public profile with its active public listings, most-run first.</summary>
    public async Task<(ProviderProfile Profile, List<AgentCard> Listings)?> ProviderAsync(string handle, CancellationToken ct)
    {
        var normalized = handle.TrimStart('@').ToLowerInvariant();
        var profile = await db.Providers.AsNoTracking().Where(p => p.Handle == normalized && p.State == ProviderState.Approved)
            .Select(p => new ProviderProfile(p.Id, p.Handle, p.Name, p.Bio, p.AvatarUrl, p.IsVerified)).FirstOrDefaultAsync(ct);
        if (profile is null)
        {
            return null;
        }
        var rows = await CardRows(Public().Where(l => l.ProviderId == profile.Uuid).OrderByDescending(l => l.RunsCount).ThenBy(l => l.Id)).Take(200).ToListAsync(ct);
        return (profile, rows.ConvertAll(r => r.ToCard()));
    }

    IQueryable<Listing> Public() =>
        db.Listings.AsNoTracking().Where(l => l.State == ListingState.Active && l.Visibility == ListingVisibility.Public);

    /// <summary>
    /// Projects listings into the columns a card needs. Ratios are derived after materialising, in <see cref="CardRow.ToCard"/>:
    /// PostgreSQL evaluates both arms of a translated conditional and would fail on a division by zero.
    /// </summary>
    public static IQueryable<CardRow> CardRows(IQueryable<Listing> listings) =>
        listings.Select(l => new CardRow(
            l.Id, l.Slug, l.Name, l.Provider!.Name, l.Provider.Handle, l.ShortDescription, l.Category!.Slug,
            l.RunsCount, l.FailedRunsCount, l.ReviewsCount, l.RatingTotal, l.Users30d,
            l.PricingModel, l.CreditsPerRun, l.CreditsMin, l.CreditsMax, l.IsPremium, l.PreviewImageUrl));
}

/// <summary>A listing's card columns as stored; <see cref="ToCard"/> derives the rating and success rate.</summary>
public sealed record CardRow(
    Guid Id, string Slug, string Name, string ProviderName, string ProviderHandle, string ShortDescription, string Category,
    long RunsCount, long FailedRunsCount, int ReviewsCount, long RatingTotal, int Users30d,
    PricingModel PricingModel, long CreditsPerRun, long CreditsMin, long CreditsMax, bool IsPremium, string? PreviewImageUrl)
{
    public AgentCard ToCard() => new(
        Id, Slug, Name, new ProviderRef(ProviderName, ProviderHandle), ShortDescription, Category,
        new CardStats(
            RunsCount,
            ReviewsCount == 0 ? null : RatingTenths(RatingTotal, ReviewsCount) / 10.0,
            ReviewsCount,
            Users30d,
            RunsCount + FailedRunsCount == 0 ? null : Math.Round((double)RunsCount / (RunsCount + FailedRunsCount), 3)),
        new CardPricing(PricingModel, CreditsPerRun, CreditsMin, CreditsMax),
        IsPremium,
        PreviewImageUrl);

    /// <summary>
    /// The average rating in tenths of a star, rounded half up, in integer arithmetic so that the card, the search
    /// index (schema 0007) and the min_rating filter agree to the tenth: (20 × total + reviews) / (2 × reviews).
    /// </summary>
    public static long RatingTenths(long ratingTotal, int reviewsCount) => (20 * ratingTotal + reviewsCount) / (2L * reviewsCount);
}
