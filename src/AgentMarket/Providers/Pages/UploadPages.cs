using AgentMarket.Platform.Errors;
using AgentMarket.Providers.Agents;
using Microsoft.Extensions.Options;

namespace AgentMarket.Providers.Pages;

public enum UploadKind
{
    Flow,
    Image,
}

/// <summary>Marks a page whose forms post files, so its endpoint accepts bodies up to that kind's limit.</summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class AcceptsUploadsAttribute(UploadKind kind) : Attribute
{
    public UploadKind Kind { get; } = kind;
}

static class UploadPages
{
    /// <summary>
    /// Raises the request-body cap (1 MB by default, for every endpoint) on pages marked <see cref="AcceptsUploadsAttribute"/>
    /// to the configured flow or image limit, the way API upload endpoints declare theirs.
    /// </summary>
    public static RazorComponentsEndpointConventionBuilder WithUploadLimits(this RazorComponentsEndpointConventionBuilder pages, IServiceProvider services)
    {
        var options = services.GetRequiredService<IOptions<MarketplaceOptions>>().Value;
        pages.Add(endpoint =>
        {
            if (endpoint.Metadata.OfType<AcceptsUploadsAttribute>().FirstOrDefault() is { } uploads)
            {
                var limit = uploads.Kind == UploadKind.Flow ? options.MaxFlowBytes : options.MaxImageBytes;
                endpoint.Metadata.Add(new RequestBodyLimitMetadata(limit + FlowUpload.MultipartOverheadBytes));
            }
        });
        return pages;
    }
}
