using AgentMarket.Providers;
using AgentMarket.Providers.Agents;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace AgentMarket.Catalog;

public enum PricingModel
{
    Free,
    FixedCredits,
    VariableCredits,
    Subscription,
}

public enum ListingVisibility
{
    Public,
    Private,
}

public enum ListingState
{
    Draft,
    PendingReview,
    Active,
    Paused,
    Archived,

    /// <summary>
    /// A live listing of an organization an operator suspended: out of the catalog and not runnable, and not something its
    /// provider can change, until the organization is reactivated (it is live again then).
    /// </summary>
    Suspended,

    /// <summary>
    /// A live listing an operator took down (abuse, a policy breach): out of the catalog and not runnable, and not something
    /// its provider can change; the operator's reason is its <see cref="Listing.ModerationNote"/>. Only an operator restores it.
    /// </summary>
    TakenDown,
}

/// <summary>
/// An agent offered on the marketplace (SPEC §2). Not tenant-filtered: active public listings are readable by anyone;
/// writes check the provider's organization. The stats are counters kept up to date as runs complete and reviews change,
/// so pages never aggregate run records on the fly.
/// </summary>
public sealed class Listing
{
    public Guid Id { get; init; } = Guid.CreateVersion7();
    public Guid ProviderId { get; init; }
    public Guid OrganizationId { get; init; }
    public required string Slug { get; set; }
    public required string Name { get; set; }
    public Guid CategoryId { get; set; }
    public required string ShortDescription { get; set; }

    /// <summary>Markdown, rendered with raw HTML disabled.</summary>
    public string Description { get; set; } = "";
    public List<string> Tags { get; set; } = [];
    public PricingModel PricingModel { get; set; }

    /// <summary>Whole credits per run for fixed pricing, or per month for subscriptions.</summary>
    public long CreditsPerRun { get; set; }
    public long CreditsMin { get; set; }
    public long CreditsMax { get; set; }
    public bool IsPremium { get; set; }
    public ListingVisibility Visibility { get; set; }
    public ListingState State { get; set; }
    public string? PreviewImageUrl { get; set; }

    /// <summary>The provider agent this listing was published from (null only for listings that predate agents).</summary>
    public Guid? AgentId { get; init; }

    /// <summary>
    /// The version runs use: a copy of the agent's current version, kept here so public reads and the gateway can
    /// resolve it without reading the provider's tenant-owned rows. Changed only by <c>AgentVersions</c>.
    /// </summary>
    public Guid? AgentVersionId { get; set; }

    /// <summary>
    /// A copy of the agent's <see cref="ProviderAgent.ReportsUsageSinceUtc"/>, for the same reason as
    /// <see cref="AgentVersionId"/>: buyers read it on the agent page and their subscription, and the usage endpoint
    /// accepts reports only while it is set, so what buyers see is what is enforced. Changed only by <c>ProviderAgents</c>
    /// and the publisher.
    /// </summary>
    public DateTime? ReportsUsageSinceUtc { get; set; }

    /// <summary>
    /// From when the provider's usage reports are charged to a subscriber who subscribed at <paramref name="subscribedUtc"/>:
    /// null while the agent does not report usage; its start for a buyer who subscribed knowing it; the end of
    /// <paramref name="notice"/> after it for a buyer who subscribed before, as for a price increase (ADR-152, ADR-158).
    /// </summary>
    public DateTime? ReportedUsageChargedFromUtc(DateTime subscribedUtc, TimeSpan notice) =>
        ReportsUsageSinceUtc is not { } since ? null : subscribedUtc >= since ? since : since + notice;

    public long RunsCount { get; set; }
    public long FailedRunsCount { get; set; }
    public int ReviewsCount { get; set; }

    /// <summary>Sum of all review stars; the rating shown is this divided by <see cref="ReviewsCount"/>.</summary>
    public long RatingTotal { get; set; }
    public int Users30d { get; set; }

    /// <summary>Why an operator sent the listing back to draft or took it down; shown to the provider.</summary>
    public string? ModerationNote { get; set; }

    public DateTime CreatedUtc { get; init; }
    public DateTime? PublishedUtc { get; set; }

    public Provider? Provider { get; init; }
    public Category? Category { get; init; }
}

sealed class ListingConfiguration : IEntityTypeConfiguration<Listing>
{
    public void Configure(EntityTypeBuilder<Listing> e)
    {
        e.ToTable("listings");
        e.Property(x => x.Slug).HasMaxLength(80);
        e.Property(x => x.Name).HasMaxLength(120);
        e.Property(x => x.ShortDescription).HasMaxLength(300);
        e.Property(x => x.Description).HasMaxLength(20_000);
        e.Property(x => x.PreviewImageUrl).HasMaxLength(500);
        e.Property(x => x.ModerationNote).HasMaxLength(1000);
        e.HasOne(x => x.Provider).WithMany().HasForeignKey(x => x.ProviderId).OnDelete(DeleteBehavior.Restrict);
        e.HasOne(x => x.Category).WithMany().HasForeignKey(x => x.CategoryId).OnDelete(DeleteBehavior.Restrict);
        e.HasIndex(x => x.Slug).IsUnique();
        e.HasIndex(x => new { x.State, x.Visibility, x.CategoryId });
        e.HasIndex(x => x.OrganizationId);
        e.HasOne<ProviderAgent>().WithMany().HasForeignKey(x => x.AgentId).OnDelete(DeleteBehavior.Restrict);
        e.HasOne<AgentVersion>().WithMany().HasForeignKey(x => x.AgentVersionId).OnDelete(DeleteBehavior.Restrict);
        e.HasIndex(x => x.AgentId).IsUnique();
    }
}

/// <summary>
/// The one step that puts a listing live, whichever path gets it there (approval, auto-approval, a submit, an unpause,
/// a restore, a reactivation): its first time live is its publication, which the notice rule for price changes, slug
/// retirement and <c>listing.published</c> depend on, so no path may set <see cref="ListingState.Active"/> by itself.
/// </summary>
public static class ListingPublication
{
    public static void GoLive(Platform.Data.AppDbContext db, Listing listing, DateTime now)
    {
        listing.State = ListingState.Active;
        Webhooks.WebhookEvents.Publish(db, listing, now);
    }
}

/// <summary>Whether a subscribed agent runs, and if not, who stopped it, in the words its buyers are shown.</summary>
public static class ListingAvailability
{
    /// <summary>Null when the listing is live; else why its subscribers' runs are refused.</summary>
    public static string? Unavailable(ListingState state) => state switch
    {
        ListingState.Active => null,
        ListingState.Paused => "The provider has paused this agent; it runs again when they resume it.",
        ListingState.Archived => "The provider has withdrawn this agent from the marketplace.",
        ListingState.TakenDown => "The marketplace has taken this agent down.",
        ListingState.Suspended => "The marketplace has suspended this agent's provider.",
        _ => "This agent is not live.",
    };
}
