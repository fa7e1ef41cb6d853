using AgentMarket.Platform.Data;
using Microsoft.EntityFrameworkCore;

namespace AgentMarket.Catalog;

public sealed record ProviderRef(string Name, string Handle);
public sealed record CardStats(long Runs, double? Rating, int ReviewsCount, int Users30d, double? SuccessRate);
public sealed record CardPricing(PricingModel Model, long CreditsPerRun, long CreditsMin, long CreditsMax);

/// <summary>The marketplace card (SPEC §2): exactly what the grid shows and the listing API returns.</summary>
public sealed record AgentCard(
    Guid Uuid, string Slug, string Name, ProviderRef Provider, string Description, string Category,
    CardStats Stats, CardPricing Pricing, bool IsPremium, string? PreviewImage);

public sealed record CategoryResponse(string Slug, string Name, string? Icon);

/// <summary>Read side of the catalog, shared by pages and endpoints.</summary>
public sealed class CatalogQueries(AppDbContext db)
{
    public Task<List<CategoryResponse>> CategoriesAsync(CancellationToken ct) =>
        db.Categories.AsNoTracking().OrderBy(c => c.SortOrder).ThenBy(c => c.Name)
            .Select(c => new CategoryResponse(c.Slug, c.Name, c.Icon)).ToListAsync(ct);

    /// <summary>Active public listings, most-run first, optionally in one category.</summary>
    public Task<List<AgentCard>> PopularAsync(string? categorySlug, int limit, CancellationToken ct) =>
        Cards(db.Listings.AsNoTracking()
                .Where(l => l.State == ListingState.Active && l.Visibility == ListingVisibility.Public)
                .Where(l => categorySlug == null || l.Category!.Slug == categorySlug)
                .OrderByDescending(l => l.RunsCount).ThenByDescending(l => l.RatingTotal).ThenBy(l => l.Name))
            .Take(limit).ToListAsync(ct);

    /// <summary>Projects listings into cards; the rating and success rate are derived from the stored counters.</summary>
    public static IQueryable<AgentCard> Cards(IQueryable<Listing> listings) =>
        listings.Select(l => new AgentCard(
            l.Id, l.Slug, l.Name,
            new ProviderRef(l.Provider!.Name, l.Provider.Handle),
            l.ShortDescription,
            l.Category!.Slug,
            new CardStats(
                l.RunsCount,
                l.ReviewsCount == 0 ? null : Math.Round((double)l.RatingTotal / l.ReviewsCount, 1),
                l.ReviewsCount,
                l.Users30d,
                l.RunsCount + l.FailedRunsCount == 0 ? null : Math.Round((double)l.RunsCount / (l.RunsCount + l.FailedRunsCount), 3)),
            new CardPricing(l.PricingModel, l.CreditsPerRun, l.CreditsMin, l.CreditsMax),
            l.IsPremium,
            l.PreviewImageUrl));
}
