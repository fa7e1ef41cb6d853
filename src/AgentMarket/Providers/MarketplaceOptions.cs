using System.ComponentModel.DataAnnotations;

namespace AgentMarket.Providers;

/// <summary>Bound from the <c>Marketplace</c> section.</summary>
public sealed class MarketplaceOptions
{
    /// <summary>When true, a provider application is approved at once; otherwise it waits for an operator.</summary>
    public bool AutoApproveProviders { get; set; } = true;

    /// <summary>When true, a published listing is active at once; otherwise it waits in <c>pending_review</c> for an operator.</summary>
    public bool AutoApproveListings { get; set; } = true;

    /// <summary>Days a price increase waits before it reaches existing subscribers (decreases apply at once).</summary>
    [Range(0, 365)]
    public int PriceIncreaseNoticeDays { get; set; } = 14;

    /// <summary>
    /// The notice of <see cref="PriceIncreaseNoticeDays"/>; existing subscribers get it too before an agent's usage reports
    /// are charged to them (ADR-158).
    /// </summary>
    public TimeSpan PriceIncreaseNotice => TimeSpan.FromDays(PriceIncreaseNoticeDays);

    /// <summary>The largest flow export accepted by import and validation, in bytes.</summary>
    [Range(1024, 100 * 1024 * 1024)]
    public int MaxFlowBytes { get; set; } = 5 * 1024 * 1024;

    /// <summary>The most component nodes a flow may have: real flows have dozens; thousands only cost validation and runs.</summary>
    [Range(10, 100_000)]
    public int MaxFlowNodes { get; set; } = 500;

    /// <summary>The largest image (listing preview, avatar) accepted, in bytes.</summary>
    [Range(1024, 50 * 1024 * 1024)]
    public int MaxImageBytes { get; set; } = 2 * 1024 * 1024;

    /// <summary>
    /// The widest and tallest image accepted, in pixels, read from the file's header: a few kilobytes can declare a
    /// picture that takes gigabytes to decode in a browser (ADR-162).
    /// </summary>
    [Range(16, 65_535)]
    public int MaxImageSide { get; set; } = 4096;

    /// <summary>The most pixels (width × height) an image may declare.</summary>
    [Range(256, 1_000_000_000)]
    public int MaxImagePixels { get; set; } = 16 * 1024 * 1024;

    /// <summary>The most images an organization keeps stored (previews, avatars, uploads not yet used).</summary>
    [Range(1, 100_000)]
    public int MaxImagesPerOrganization { get; set; } = 200;

    /// <summary>The most bytes of images an organization keeps stored.</summary>
    [Range(typeof(long), "1024", "107374182400")]
    public long MaxImageStorageBytesPerOrganization { get; set; } = 50L * 1024 * 1024;

    /// <summary>How often the job that recomputes social proof from run records runs.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "7.00:00:00")]
    public TimeSpan SocialProofRepairInterval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// The absolute http(s) URL users reach the marketplace at, for links in emails. Invitations and other links default
    /// to the request's own host; password reset links are sent only with it outside Development (ADR-124).
    /// </summary>
    [Url(ErrorMessage = "Marketplace:PublicUrl must be an absolute http(s) URL, such as https://market.example.com.")]
    public string? PublicUrl { get; set; }
}
