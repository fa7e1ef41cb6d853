using System.Text.Json;
using AgentMarket.Platform.Api;
using AgentMarket.Platform.Data;
using AgentMarket.Platform.Tenancy;
using AgentMarket.Providers.Agents;
using AgentMarket.Subscriptions;
using Microsoft.EntityFrameworkCore;

namespace AgentMarket.Catalog.Moderation;

public sealed record ModerationListingResponse(
    Guid Uuid, string Slug, string Name, string ProviderHandle, string Category, ListingState State, string? ModerationNote, DateTime Created,
    CardPricing Pricing, ListingVisibility Visibility, bool IsPremium, DateTime? Published, DateTime? ChangeSubmitted);

public sealed record ModerationProvider(Guid Uuid, string Handle, string Name, Guid Organization, string OrganizationName);

/// <summary>The version a listing serves, with the engine's compatibility report of its flow (its own snake_case shape) when one is stored.</summary>
public sealed record ModerationVersion(Guid Uuid, string Version, string Changelog, DateTime Created, JsonElement? Report);

/// <summary>Everything an operator reviews before approving a listing or taking it down; the description is the raw markdown.</summary>
public sealed record ModerationListingDetails(
    Guid Uuid, ModerationProvider Provider, string Name, string Slug, string Category, string ShortDescription, string Description,
    IReadOnlyList<string> Tags, CardPricing Pricing, ListingVisibility Visibility, bool IsPremium, string? PreviewImage, ListingState State,
    string? ModerationNote, ModerationVersion? Version, DateTime Created, DateTime? Published, int SubscribersCount)
{
    /// <summary>What approve and reject take to refuse a decision on a listing changed since it was read (<see cref="ListingModeration.Revision"/>).</summary>
    public required string Revision { get; init; }

    /// <summary>The live listing's edit waiting for a decision (ADR-163): approve applies it, reject discards it.</summary>
    public ModerationChange? PendingChange { get; init; }
}

/// <summary>A live listing's edit waiting for review as the queue lists it; <see cref="Revision"/> as <see cref="ModerationListingDetails.Revision"/>.</summary>
public sealed record PendingEdit(Guid Uuid, string Name, string Slug, string ProviderHandle, string Revision, ModerationChange Change);

/// <summary>An edit of a live listing: each field it changes, as buyers read it now and as it would read.</summary>
public sealed record ModerationChange(DateTime Submitted, IReadOnlyList<ModerationChangedField> Fields);

/// <summary>Tags read comma-separated, the category by its slug; a null image is none.</summary>
public sealed record ModerationChangedField(string Field, string? Live, string? Proposed);

// The search's ToLower() runs in the database as lower(), where the process's culture plays no part.
#pragma warning disable CA1304, CA1311

/// <summary>
/// The operator's reads of every provider's listings: the list (by state, searched by name, slug or provider handle) and
/// one listing's details. Only operator routes and pages use it: it reads the provider's tenant-owned version and the
/// buyers' subscriptions, so it enters the system scope.
/// </summary>
public sealed class OperatorListings(AppDbContext db, CurrentTenant tenant)
{
    /// <summary>
    /// <paramref name="state"/> null lists every state; <paramref name="withPendingChanges"/> adds the live listings with an
    /// edit waiting for review (the review queue). The queue is oldest first (by submission), the rest newest first.
    /// </summary>
    public Task<Page<ModerationListingResponse>> ListAsync(ListingState? state, string? q, PageRequest page, CancellationToken ct, bool withPendingChanges = false)
    {
        var query = db.Listings.AsNoTracking();
        var changes = db.ListingChanges.AwaitingReview(db.Listings);
        if (state is { } only)
        {
            query = withPendingChanges
                ? query.Where(l => l.State == only || changes.Any(c => c.ListingId == l.Id))
                : query.Where(l => l.State == only);
        }
        if (!string.IsNullOrWhiteSpace(q))
        {
            var pattern = ContainsPattern(q);
            query = query.Where(l => EF.Functions.Like(l.Name.ToLower(), pattern, "\\") || EF.Functions.Like(l.Slug, pattern, "\\")
                || EF.Functions.Like(l.Provider!.Handle, pattern, "\\"));
        }
        query = state == ListingState.PendingReview
            ? query.OrderBy(l => changes.Where(c => c.ListingId == l.Id).Select(c => (DateTime?)c.SubmittedUtc).FirstOrDefault() ?? l.CreatedUtc).ThenBy(l => l.Id)
            : query.OrderByDescending(l => l.CreatedUtc).ThenBy(l => l.Id);
        return page.ToPageAsync(query.Select(l => new ModerationListingResponse(
            l.Id, l.Slug, l.Name, l.Provider!.Handle, l.Category!.Slug, l.State, l.ModerationNote, l.CreatedUtc,
            new CardPricing(l.PricingModel, l.CreditsPerRun, l.CreditsMin, l.CreditsMax), l.Visibility, l.IsPremium, l.PublishedUtc,
            changes.Where(c => c.ListingId == l.Id).Select(c => (DateTime?)c.SubmittedUtc).FirstOrDefault())), ct);
    }

    public async Task<ModerationListingDetails?> DetailsAsync(Guid listingId, CancellationToken ct)
    {
        tenant.EnterSystemScope(); // the provider's version and every buyer's subscription
        var listing = await db.Listings.AsNoTracking().Where(l => l.Id == listingId)
            .Select(l => new
            {
                Listing = l,
                Provider = new ModerationProvider(l.ProviderId, l.Provider!.Handle, l.Provider.Name, l.Provider.OrganizationId, l.Provider.Organization!.Name),
                Category = l.Category!.Slug,
            })
            .FirstOrDefaultAsync(ct);
        if (listing is null)
        {
            return null;
        }
        var l = listing.Listing;
        var version = await db.AgentVersions.AsNoTracking().Where(v => v.Id == l.AgentVersionId)
            .Select(v => new { v.Id, v.Version, v.Changelog, v.CreatedUtc, v.ReportJson }).FirstOrDefaultAsync(ct);
        var change = await db.ListingChanges.AsNoTracking().AwaitingReview(db.Listings).FirstOrDefaultAsync(c => c.ListingId == l.Id, ct);
        var proposedCategory = change?.CategoryId is { } categoryId ? await db.Categories.Where(c => c.Id == categoryId).Select(c => c.Slug).FirstAsync(ct) : null;
        var subscribers = await db.CustomerAgentConfigs.AsNoTracking().CountAsync(c => c.ListingId == l.Id && c.State != SubscriptionState.Terminated, ct);
        return new ModerationListingDetails(
            l.Id, listing.Provider, l.Name, l.Slug, listing.Category, l.ShortDescription, l.Description, l.Tags,
            new CardPricing(l.PricingModel, l.CreditsPerRun, l.CreditsMin, l.CreditsMax), l.Visibility, l.IsPremium, l.PreviewImageUrl, l.State,
            l.ModerationNote,
            version is null ? null : new ModerationVersion(version.Id, version.Version, version.Changelog, version.CreatedUtc,
                string.IsNullOrWhiteSpace(version.ReportJson) ? null : ReportJson.ToElement(version.ReportJson)),
            l.CreatedUtc, l.PublishedUtc, subscribers)
        {
            Revision = ListingModeration.Revision(l, change),
            PendingChange = change is null ? null : new ModerationChange(change.SubmittedUtc, ChangedFields(l, listing.Category, change, proposedCategory)),
        };
    }

    /// <summary>
    /// The edits waiting for review (ADR-163), oldest submission first, with what the queue shows of each and the revision
    /// a decision names: one query, joined and projected, however many wait (ADR-169).
    /// </summary>
    public async Task<List<PendingEdit>> PendingEditsAsync(int limit, CancellationToken ct)
    {
        tenant.EnterSystemScope(); // every provider's listings
        var rows = await db.ListingChanges.AsNoTracking().AwaitingReview(db.Listings)
            .OrderBy(c => c.SubmittedUtc).ThenBy(c => c.ListingId).Take(limit)
            .Join(db.Listings, c => c.ListingId, l => l.Id, (c, l) => new
            {
                Change = c,
                Listing = l,
                Handle = l.Provider!.Handle,
                Category = l.Category!.Slug,
                ProposedCategory = db.Categories.Where(k => k.Id == c.CategoryId).Select(k => k.Slug).FirstOrDefault(),
            })
            .ToListAsync(ct);
        return rows.ConvertAll(r => new PendingEdit(r.Listing.Id, r.Listing.Name, r.Listing.Slug, r.Handle, ListingModeration.Revision(r.Listing, r.Change),
            new ModerationChange(r.Change.SubmittedUtc, ChangedFields(r.Listing, r.Category, r.Change, r.ProposedCategory))));
    }

    static List<ModerationChangedField> ChangedFields(Listing live, string category, ListingChange change, string? proposedCategory)
    {
        var fields = new List<ModerationChangedField>();
        if (change.Name is { } name)
        {
            fields.Add(new("name", live.Name, name));
        }
        if (change.ShortDescription is { } summary)
        {
            fields.Add(new("short_description", live.ShortDescription, summary));
        }
        if (change.Description is { } description)
        {
            fields.Add(new("description", live.Description, description));
        }
        if (change.Tags is { } tags)
        {
            fields.Add(new("tags", string.Join(", ", live.Tags), string.Join(", ", tags)));
        }
        if (change.CategoryId is not null)
        {
            fields.Add(new("category", category, proposedCategory));
        }
        if (change.PreviewImageUrl is { } image)
        {
            fields.Add(new("preview_image", live.PreviewImageUrl, image.Length == 0 ? null : image));
        }
        return fields;
    }

    static string ContainsPattern(string text) =>
        "%" + text.Trim().ToLowerInvariant().Replace("\\", "\\\\", StringComparison.Ordinal).Replace("%", "\\%", StringComparison.Ordinal).Replace("_", "\\_", StringComparison.Ordinal) + "%";
}
