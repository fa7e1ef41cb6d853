using System.Text.RegularExpressions;
using AgentMarket.Platform.Tenancy;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace AgentMarket.Tests.Infrastructure;

/// <summary>One HTTP method of one <c>/api</c> route, read from the app's own endpoint data source.</summary>
public sealed partial record ApiRoute(string Method, string Pattern, EndpointAccessMetadata? Access, bool AcceptsJson)
{
    public IReadOnlyList<string> Parameters => RouteParameter().Matches(Pattern).Select(m => m.Groups["name"].Value).ToList();

    /// <summary>The URL with every route parameter replaced by the value <paramref name="valueFor"/> gives.</summary>
    public string Url(Func<string, string> valueFor) => RouteParameter().Replace(Pattern, m => valueFor(m.Groups["name"].Value));

    public override string ToString() => $"{Method} {Pattern}";

    /// <summary>
    /// A body that passes validation of every request type, so the answer comes from the tenancy check and the handler,
    /// not from validation. When a new route requires another field, add a plausible value here.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, object> PlausibleBody = new Dictionary<string, object>
    {
        ["name"] = "Plausible",
        ["email"] = "plausible@tests.example",
        ["role"] = "member",
        ["reason"] = "plausible reason",
        ["token"] = "am_inv_plausible",
        ["handle"] = "plausible-handle",
        ["password"] = "plausible password",
        ["plan"] = "plus",
        ["card_number"] = "4242424242424242",
        ["category"] = "agents",
        ["template"] = "prompt_assistant",
        ["offering"] = "plausible-agent",
        ["input"] = "plausible question",
        ["issuer"] = "https://idp.example/realms/plausible",
        ["client_id"] = "plausible-client",
        ["credits"] = 1,
        ["period"] = "2020-01",
        ["reference"] = "plausible reference",
        ["revision"] = "plausible-revision",
    };

    /// <summary>Every endpoint under /api, so routes added by later features are covered without touching the tests.</summary>
    public static IReadOnlyList<ApiRoute> All(IServiceProvider services) =>
        services.GetRequiredService<IEnumerable<EndpointDataSource>>()
            .SelectMany(source => source.Endpoints)
            .OfType<RouteEndpoint>()
            .Where(e => ("/" + e.RoutePattern.RawText?.TrimStart('/')).StartsWith("/api/", StringComparison.Ordinal))
            .SelectMany(e => (e.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? (IReadOnlyList<string>)["GET"]).Select(method => new ApiRoute(
                method,
                "/" + e.RoutePattern.RawText!.TrimStart('/'),
                e.Metadata.GetMetadata<EndpointAccessMetadata>(),
                e.Metadata.GetOrderedMetadata<IAcceptsMetadata>().Any(a => a.ContentTypes.Any(t => t.Contains("json", StringComparison.OrdinalIgnoreCase))))))
            .OrderBy(r => r.Pattern, StringComparer.Ordinal).ThenBy(r => r.Method, StringComparer.Ordinal)
            .ToList();

    [GeneratedRegex(@"\{(?<name>[a-zA-Z_]+)(:[^}]*)?\}")]
    private static partial Regex RouteParameter();
}
