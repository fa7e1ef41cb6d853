using AgentMarket.Platform.Errors;
using AgentMarket.Providers.Agents;
using Microsoft.Extensions.Options;

namespace AgentMarket.Providers.Pages;

public enum UploadKind
{
    Flow,
    Image,

    /// <summary>A training document (the Configure page's Training tab).</summary>
    Document,
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
    /// to the configured flow, image or training-document limit, the way API upload endpoints declare theirs.
    /// </summary>
    public static RazorComponentsEndpointConventionBuilder WithUploadLimits(this RazorComponentsEndpointConventionBuilder pages, IServiceProvider services)
    {
        var options = services.GetRequiredService<IOptions<MarketplaceOptions>>().Value;
        var knowledge = services.GetRequiredService<IOptions<Knowledge.KnowledgeOptions>>().Value;
        pages.Add(endpoint =>
        {
            if (endpoint.Metadata.OfType<AcceptsUploadsAttribute>().FirstOrDefault() is { } uploads)
            {
                var limit = uploads.Kind switch
                {
                    UploadKind.Flow => options.MaxFlowBytes,
                    UploadKind.Document => knowledge.MaxFileBytes,
                    _ => options.MaxImageBytes,
                };
                endpoint.Metadata.Add(new RequestBodyLimitMetadata(limit + FlowUpload.MultipartOverheadBytes));
            }
        });
        return pages;
    }
}
