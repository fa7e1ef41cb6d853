using System.Text.Json.Nodes;
using AgentMarket.Catalog;
using AgentMarket.Platform.Data;
using Microsoft.EntityFrameworkCore;

namespace AgentMarket.Backstage;

/// <summary>
/// The marketplace's public listings as Backstage catalog entities (https://backstage.io/docs/features/software-catalog/descriptor-format):
/// per provider a <c>Group</c>, per listing a <c>Component</c> (the agent) that provides an <c>API</c> (its run endpoint,
/// with an OpenAPI definition). Only what the public catalog already shows is exported: active, public listings.
/// </summary>
sealed class BackstageCatalog(AppDbContext db)
{
    public const string ApiVersion = "backstage.io/v1alpha1";
    public const string Namespace = "default";

    sealed record Row(Guid Id, string Slug, string Name, string ShortDescription, List<string> Tags, string Category, string ProviderHandle, string ProviderName);

    public async Task<List<JsonObject>> EntitiesAsync(string baseUrl, CancellationToken ct)
    {
        var rows = await db.Listings.AsNoTracking()
            .Where(l => l.State == ListingState.Active && l.Visibility == ListingVisibility.Public)
            .OrderBy(l => l.Provider!.Handle).ThenBy(l => l.Slug)
            .Select(l => new Row(l.Id, l.Slug, l.Name, l.ShortDescription, l.Tags, l.Category!.Slug, l.Provider!.Handle, l.Provider.Name))
            .ToListAsync(ct);

        var entities = new List<JsonObject>();
        foreach (var provider in rows.GroupBy(r => r.ProviderHandle))
        {
            var first = provider.First();
            entities.Add(Group(first.ProviderHandle, first.ProviderName, baseUrl));
            foreach (var row in provider)
            {
                var componentName = BackstageNames.Name(row.Slug);
                var apiName = BackstageNames.Name(row.Slug, "-run-api");
                var listingUrl = $"{baseUrl}/agents/{Uri.EscapeDataString(row.Slug)}";
                entities.Add(Component(row, componentName, apiName, listingUrl));
                entities.Add(Api(row, apiName, baseUrl, listingUrl));
            }
        }
        return entities;
    }

    static JsonObject Group(string handle, string name, string baseUrl) => new()
    {
        ["apiVersion"] = ApiVersion,
        ["kind"] = "Group",
        ["metadata"] = new JsonObject
        {
            ["name"] = BackstageNames.Name(handle),
            ["namespace"] = Namespace,
            ["title"] = name,
            ["description"] = $"Provider @{handle} on the AgentMarket marketplace.",
            ["links"] = new JsonArray(Link($"{baseUrl}/providers/{Uri.EscapeDataString(handle)}", "Provider profile")),
        },
        ["spec"] = new JsonObject
        {
            ["type"] = "marketplace-provider",
            ["profile"] = new JsonObject { ["displayName"] = name },
            ["children"] = new JsonArray(),
        },
    };

    static JsonObject Component(Row row, string name, string apiName, string listingUrl) => new()
    {
        ["apiVersion"] = ApiVersion,
        ["kind"] = "Component",
        ["metadata"] = new JsonObject
        {
            ["name"] = name,
            ["namespace"] = Namespace,
            ["title"] = row.Name,
            ["description"] = row.ShortDescription,
            ["tags"] = Tags(row),
            ["links"] = new JsonArray(Link(listingUrl, "Marketplace listing")),
        },
        ["spec"] = new JsonObject
        {
            ["type"] = "service",
            ["lifecycle"] = "production",
            ["owner"] = Owner(row.ProviderHandle),
            ["providesApis"] = new JsonArray($"api:{Namespace}/{apiName}"),
        },
    };

    static JsonObject Api(Row row, string name, string baseUrl, string listingUrl) => new()
    {
        ["apiVersion"] = ApiVersion,
        ["kind"] = "API",
        ["metadata"] = new JsonObject
        {
            ["name"] = name,
            ["namespace"] = Namespace,
            ["title"] = $"{row.Name} run API",
            ["description"] = $"Run {row.Name} with an agent key: POST /api/agents/{{subscription uuid}}/run/.",
            ["tags"] = Tags(row),
            ["links"] = new JsonArray(Link(listingUrl, "Marketplace listing")),
        },
        ["spec"] = new JsonObject
        {
            ["type"] = "openapi",
            ["lifecycle"] = "production",
            ["owner"] = Owner(row.ProviderHandle),
            ["definition"] = RunApiDefinition.For(row.Name, row.ShortDescription, baseUrl, listingUrl),
        },
    };

    static string Owner(string handle) => $"group:{Namespace}/{BackstageNames.Name(handle)}";

    static JsonArray Tags(Row row) =>
        new([.. new[] { row.Category }.Concat(row.Tags).Select(BackstageNames.Tag).OfType<string>().Distinct().Select(t => (JsonNode)t)]);

    static JsonObject Link(string url, string title) => new() { ["url"] = url, ["title"] = title };
}
