using AgentMarket.Catalog.Search;

namespace AgentMarket.Catalog;

/// <summary>Categories, listings and reviews as buyers browse them.</summary>
static class CatalogModule
{
    public static void AddCatalog(this WebApplicationBuilder builder)
    {
        builder.Services.AddScoped<ListingSearch>();
        builder.Services.AddScoped<CatalogQueries>();
    }
}
