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
    public async Task<List<AgentCard>> PopularAsync(string? categorySlug, int limit, CancellationToken ct)
    {
        var rows = await CardRows(db.Listings.AsNoTracking()
                .Where(l => l.State == ListingState.Active && l.Visibility == ListingVisibility.Public)
                .Where(l => categorySlug == null || l.Category!.Slug == categorySlug)
                .OrderByDescending(l => l.RunsCount).ThenByDescending(l => l.RatingTotal).ThenBy(l => l.Name))
            .Take(limit).ToListAsync(ct);
        return rows.ConvertAll(r => r.ToCard());
    }

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
            ReviewsCount == 0 ? null : Math.Round((double)RatingTotal / ReviewsCount, 1),
            ReviewsCount,
            Users30d,
            RunsCount + FailedRunsCount == 0 ? null : Math.Round((double)RunsCount / (RunsCount + FailedRunsCount), 3)),
        new CardPricing(PricingModel, CreditsPerRun, CreditsMin, CreditsMax),
        IsPremium,
        PreviewImageUrl);
}
