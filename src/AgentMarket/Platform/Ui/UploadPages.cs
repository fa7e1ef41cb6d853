using System.Globalization;
using AgentMarket.Platform.Errors;
using AgentMarket.Providers;
using Microsoft.Extensions.Options;

namespace AgentMarket.Platform.Ui;

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

/// <summary>
/// The largest file of <paramref name="Kind"/> accepted, and the one wording of that limit: the services' refusal of a file
/// over it, a page's file input (whose script shows the refusal before the form is sent) and the page that answers a body
/// too large to reach the form all say it the same way. A page marked <see cref="AcceptsUploadsAttribute"/> carries its
/// limit in its endpoint's metadata.
/// </summary>
public sealed record UploadLimit(UploadKind Kind, long MaxBytes)
{
    /// <summary>
    /// Room for the multipart boundaries and the form fields around a file of the maximum size: an upload endpoint's or
    /// page's body cap is its file limit plus this, so a file just over the limit still reaches the code that says so.
    /// </summary>
    public const int MultipartOverheadBytes = 64 * 1024;

    /// <summary>What the files are called, in a sentence: "images", "flow files", "training files".</summary>
    public string Files => Kind switch
    {
        UploadKind.Image => "images",
        UploadKind.Flow => "flow files",
        UploadKind.Document => "training files",
    };

    /// <summary>The limit for people: "2 MB", "64 KB".</summary>
    public string Size => MaxBytes >= 1024 * 1024
        ? string.Create(CultureInfo.InvariantCulture, $"{MaxBytes / (1024.0 * 1024):0.#} MB")
        : string.Create(CultureInfo.InvariantCulture, $"{MaxBytes / 1024.0:0.#} KB");

    /// <summary>The refusal of a file over the limit: "Images can be at most 2 MB."</summary>
    public string TooLarge => $"{char.ToUpperInvariant(Files[0])}{Files[1..]} can be at most {Size}.";

    /// <summary>A file input's limit and refusal, for wwwroot/js/upload-limits.js to check a chosen file before it is sent.</summary>
    public IReadOnlyDictionary<string, object> InputAttributes => new Dictionary<string, object>
    {
        ["data-max-bytes"] = MaxBytes,
        ["data-too-large"] = TooLarge,
    };

    /// <summary>The limit of the page <paramref name="http"/> is for, or null when that page takes no files.</summary>
    public static UploadLimit? Of(HttpContext http) => http.GetEndpoint()?.Metadata.GetMetadata<UploadLimit>();
}

static class UploadPages
{
    /// <summary>
    /// Raises the request-body cap (1 MB by default, for every endpoint) on pages marked <see cref="AcceptsUploadsAttribute"/>
    /// to the configured flow, image or training-document limit, the way API upload endpoints declare theirs; the file limit
    /// itself goes in the metadata too, for the page's file input and for the answer to a body over the cap.
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
                endpoint.Metadata.Add(new UploadLimit(uploads.Kind, limit));
                endpoint.Metadata.Add(new RequestBodyLimitMetadata(limit + UploadLimit.MultipartOverheadBytes));
            }
        });
        return pages;
    }
}
