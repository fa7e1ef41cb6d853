using AgentMarket.Catalog.Featured;
using AgentMarket.Catalog.Images;
using AgentMarket.Catalog.Moderation;
using AgentMarket.Catalog.Reviews;
using AgentMarket.Catalog.Search;
using AgentMarket.Catalog.SocialProof;
using AgentMarket.Catalog.SocialProof.Jobs;

namespace AgentMarket.Catalog;

/// <summary>Categories, listings, search, reviews and social proof as buyers browse them, and their moderation.</summary>
static class CatalogModule
{
    public static void AddCatalog(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddScoped<ListingSearch>();
        services.AddScoped<CatalogQueries>();
        services.AddScoped<CatalogImages>();
        services.AddScoped<ListingReviews>();
        services.AddScoped<RunFacts>();
        services.AddSingleton<RecordedRuns>();
        services.AddScoped<ListingModeration>();
        services.AddScoped<ListingChanges>();
        services.AddScoped<OperatorListings>();
        services.AddScoped<FeaturedListings>();
        services.AddHostedService<RepairSocialProofJob>();
    }

    public static void MapCatalog(this WebApplication app)
    {
        app.MapCatalogBrowsing();
        app.MapReviews();
        app.MapCatalogImages();
        app.MapCatalogModeration();
        app.MapFeaturedListings();
    }
}
