using AgentMarket.Knowledge;
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

/// <summary>
/// Marks a page whose forms post files, or an API endpoint that takes them (<see cref="Errors.RequestBodyLimitExtensions.WithUploadLimit"/>): the
/// request-body cap of its requests is that kind's current limit plus <see cref="UploadLimit.MultipartOverheadBytes"/>.
/// </summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class AcceptsUploadsAttribute(UploadKind kind) : Attribute
{
    public UploadKind Kind { get; } = kind;
}

/// <summary>
/// The largest file of <paramref name="Kind"/> accepted, and the one wording of that limit: the services' refusal of a file
/// over it, a page's file input (whose script shows the refusal before the form is sent) and the page that answers a body
/// too large to reach the form all say it the same way. <see cref="UploadLimits"/> says what it is now.
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
    public string Size => ByteSize.Format(MaxBytes);

    /// <summary>The refusal of a file over the limit: "Images can be at most 2 MB."</summary>
    public string TooLarge => $"{char.ToUpperInvariant(Files[0])}{Files[1..]} can be at most {Size}.";

    /// <summary>A file input's limit and refusal, for wwwroot/js/upload-limits.js to check a chosen file before it is sent.</summary>
    public IReadOnlyDictionary<string, object> InputAttributes => new Dictionary<string, object>
    {
        ["data-max-bytes"] = MaxBytes,
        ["data-too-large"] = TooLarge,
    };
}

/// <summary>
/// The upload limits in effect: configuration with the operator's overrides (ADR-175), read when a request needs them, so
/// a limit the operator changes applies to the next request, at the body cap, the file input and the service's check alike.
/// </summary>
public sealed class UploadLimits(IOptionsMonitor<MarketplaceOptions> marketplace, IOptionsMonitor<KnowledgeOptions> knowledge)
{
    public UploadLimit For(UploadKind kind) => new(kind, kind switch
    {
        UploadKind.Flow => marketplace.CurrentValue.MaxFlowBytes,
        UploadKind.Document => knowledge.CurrentValue.MaxFileBytes,
        UploadKind.Image => marketplace.CurrentValue.MaxImageBytes,
    });

    /// <summary>The limit of <paramref name="endpoint"/> (a page or an API endpoint), or null when it takes no files.</summary>
    public UploadLimit? Of(Endpoint? endpoint) =>
        endpoint?.Metadata.GetMetadata<AcceptsUploadsAttribute>() is { } uploads ? For(uploads.Kind) : null;

    /// <summary>The limit of the page <paramref name="http"/> is for, or null when that page takes no files.</summary>
    public UploadLimit? Of(HttpContext http) => Of(http.GetEndpoint());

    /// <summary>
    /// The request body cap of a request to <paramref name="endpoint"/> when it takes files: room for a file of the current
    /// limit and the form around it, so a file just over the limit still reaches the code that says so.
    /// </summary>
    public long? BodyCap(Endpoint? endpoint) => Of(endpoint)?.MaxBytes + UploadLimit.MultipartOverheadBytes;
}
