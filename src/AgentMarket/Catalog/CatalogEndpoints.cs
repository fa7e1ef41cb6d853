using System.Globalization;
using AgentMarket.Catalog.Search;
using AgentMarket.Platform.Api;
using AgentMarket.Platform.Data;
using AgentMarket.Platform.Errors;
using AgentMarket.Platform.Tenancy;

namespace AgentMarket.Catalog;

/// <summary>Anonymous browsing (SPEC §2, §10): the card grid with search, filters and sorts, an agent's page, its reviews.</summary>
static class CatalogEndpoints
{
    /// <summary>Deep pages of a catalog are never read by people; the cap keeps OFFSET scans bounded.</summary>
    const int MaxOffset = 10_000;

    public static void MapCatalogBrowsing(this IEndpointRouteBuilder routes)
    {
        var marketplace = routes.MapGroup("/api/marketplace").WithTags("Catalog");
        marketplace.MapGet("/agents", BrowseAsync).WithName("ListMarketplaceAgents").AllowAnyone();
        marketplace.MapGet("/agents/{idOrSlug}", GetAsync).WithName("GetMarketplaceAgent").AllowAnyone();
        marketplace.MapGet("/agents/{idOrSlug}/reviews", ListReviewsAsync).WithName("ListAgentReviews").AllowAnyone();
        marketplace.MapGet("/categories", CategoriesAsync).WithName("ListCategories").AllowAnyone();
        marketplace.MapGet("/suggestions", SuggestAsync).WithName("SuggestAgents").AllowAnyone();
        // The planning documents' name for the same list; kept so their clients work.
        routes.MapGet("/api/marketplace-public-offerings", BrowseAsync).WithTags("Catalog").WithName("ListPublicOfferings").AllowAnyone();
    }

    static async Task<IResult> BrowseAsync(
        string? search, string? category, string? pricing_model, string? free, string? min_rating, string? sort, int? limit, int? offset,
        CatalogQueries catalog, CancellationToken ct)
    {
        var (filter, problem) = ParseFilter(search, category, pricing_model, free, min_rating, sort, limit, offset);
        return problem ?? TypedResults.Ok(await catalog.BrowseAsync(filter!, ct));
    }

    /// <summary>Reads the browse parameters; the same parsing serves the home page's query string.</summary>
    public static (CatalogFilter? Filter, IResult? Problem) ParseFilter(
        string? search, string? category, string? pricingModel, string? free, string? minRating, string? sort, int? limit, int? offset)
    {
        PricingModel? model = null;
        if (!string.IsNullOrEmpty(pricingModel))
        {
            if (!EnumNames<PricingModel>.TryParse(pricingModel, out var parsed))
            {
                return (null, ApiProblem.Invalid("pricing_model", "Use free, fixed_credits, variable_credits or subscription."));
            }
            model = parsed;
        }
        var freeOnly = false;
        if (!string.IsNullOrEmpty(free) && !TryParseFlag(free, out freeOnly))
        {
            return (null, ApiProblem.Invalid("free", "Use true or false."));
        }
        double? rating = null;
        if (!string.IsNullOrEmpty(minRating))
        {
            if (!double.TryParse(minRating, NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed) || parsed is < 0 or > 5 || !double.IsFinite(parsed))
            {
                return (null, ApiProblem.Invalid("min_rating", "Use a number from 0 to 5."));
            }
            rating = parsed;
        }
        CatalogSort? order = null;
        if (!string.IsNullOrEmpty(sort))
        {
            if (!EnumNames<CatalogSort>.TryParse(sort, out var parsed))
            {
                return (null, ApiProblem.Invalid("sort", "Use popular, rating, newest, price or relevance."));
            }
            order = parsed;
        }
        if (offset is > MaxOffset)
        {
            return (null, ApiProblem.Invalid("offset", $"Use an offset up to {MaxOffset:N0}; narrow the search instead."));
        }
        if (search is { Length: > 200 })
        {
            return (null, ApiProblem.Invalid("search", "Search for at most 200 characters."));
        }
        var page = PageRequest.From(limit ?? 24, offset);
        return (new CatalogFilter(search, string.IsNullOrWhiteSpace(category) ? null : category.Trim().ToLowerInvariant(), model, freeOnly, rating, order, page.Limit, page.Offset), null);
    }

    static async Task<IResult> GetAsync(string idOrSlug, int? reviews_offset, CatalogQueries catalog, HttpContext http, CancellationToken ct)
    {
        var viewer = await OrganizationScope.ResolveAsync(http, null, ct);
        var details = await catalog.DetailsAsync(idOrSlug, viewer, Math.Max(reviews_offset ?? 0, 0), ct);
        return details is null ? ApiProblem.NotFound("agent") : TypedResults.Ok(details);
    }

    static async Task<IResult> ListReviewsAsync(string idOrSlug, int? limit, int? offset, CatalogQueries catalog, HttpContext http, CancellationToken ct)
    {
        var viewer = await OrganizationScope.ResolveAsync(http, null, ct);
        var listing = await catalog.FindVisibleAsync(idOrSlug, viewer, ct);
        return listing is null ? ApiProblem.NotFound("agent") : TypedResults.Ok(await catalog.ReviewsAsync(listing.Id, PageRequest.From(limit, offset), ct));
    }

    static async Task<IResult> CategoriesAsync(CatalogQueries catalog, CancellationToken ct) => TypedResults.Ok(await catalog.CategoriesAsync(ct));

    static async Task<IResult> SuggestAsync(string? q, CatalogQueries catalog, CancellationToken ct) =>
        q is { Length: > 200 } ? ApiProblem.Invalid("q", "Search for at most 200 characters.") : TypedResults.Ok(await catalog.SuggestAsync(q, ct));

    static bool TryParseFlag(string text, out bool value)
    {
        switch (text.Trim().ToLowerInvariant())
        {
            case "true" or "1" or "yes" or "on":
                value = true;
                return true;
            case "false" or "0" or "no" or "off":
                value = false;
                return true;
            default:
                value = false;
                return false;
        }
    }
}
