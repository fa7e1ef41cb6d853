using System.Text.Json;
using System.Text.Json.Nodes;
using AgentMarket.Identity;
using AgentMarket.Platform.Tenancy;
using Microsoft.Net.Http.Headers;

namespace AgentMarket.Backstage;

/// <summary>
/// <c>GET /api/backstage/catalog-info.yaml</c> (or <c>.json</c>, or <c>Accept: application/json</c>): the public catalog
/// as Backstage entities, for an internal developer portal to register as a catalog location.
/// </summary>
static class BackstageModule
{
    static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static void AddBackstage(this WebApplicationBuilder builder) => builder.Services.AddScoped<BackstageCatalog>();

    public static void MapBackstage(this WebApplication app)
    {
        var group = app.MapGroup("/api/backstage").WithTags("Backstage");
        group.MapGet("/catalog-info.yaml", (BackstageCatalog catalog, HttpContext http, CancellationToken ct) =>
            ExportAsync(catalog, http, WantsJson(http.Request), ct)).WithName("BackstageCatalogYaml").AllowAnyone();
        group.MapGet("/catalog-info.json", (BackstageCatalog catalog, HttpContext http, CancellationToken ct) =>
            ExportAsync(catalog, http, json: true, ct)).WithName("BackstageCatalogJson").AllowAnyone();
    }

    static async Task<IResult> ExportAsync(BackstageCatalog catalog, HttpContext http, bool json, CancellationToken ct)
    {
        var entities = await catalog.EntitiesAsync(InvitationEndpoints.PublicBaseUrl(http), ct);
        if (json)
        {
            // Backstage's own catalog API answers entity lists as {"items": [...]}; the same shape here.
            var body = new JsonObject { ["items"] = new JsonArray([.. entities]) };
            return TypedResults.Text(body.ToJsonString(Indented), "application/json", System.Text.Encoding.UTF8);
        }
        return TypedResults.Text(YamlWriter.Documents(entities), "application/yaml", System.Text.Encoding.UTF8);
    }

    // The .yaml address answers JSON only when the client asks for JSON and not for YAML.
    static bool WantsJson(HttpRequest request)
    {
        var accept = MediaTypeHeaderValue.ParseList(request.Headers.Accept);
        return accept.Any(a => a.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase))
            && !accept.Any(a => a.MediaType.Value?.Contains("yaml", StringComparison.OrdinalIgnoreCase) == true);
    }
}
