using System.Text.RegularExpressions;
using AgentMarket.Catalog;
using AgentMarket.Catalog.Images;
using AgentMarket.Catalog.Moderation;
using AgentMarket.Catalog.Pricing;
using AgentMarket.Identity;
using AgentMarket.Platform.Data;
using AgentMarket.Platform.Errors;
using AgentMarket.Providers.Agents;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace AgentMarket.Providers.Publishing;

/// <summary>Pricing as sent: the model is required, amounts default to zero.</summary>
public sealed record PricingRequest(PricingModel? Model, long? CreditsPerRun, long? CreditsMin, long? CreditsMax)
{
    public PricingTerms? ToTerms() => Model is { } model ? new PricingTerms(model, CreditsPerRun ?? 0, CreditsMin ?? 0, CreditsMax ?? 0) : null;
}

/// <summary>
/// What a provider says about a listing; on publish the required parts must be present, on edit null keeps a value.
/// <see cref="Name"/> renames the agent within an edit (the listing page proposing a rejected name again with the rest of
/// its edit, in one save); publishing takes the agent's name, and the API renames through the agent.
/// </summary>
public sealed record ListingDraft(
    string? Slug = null, string? Category = null, string? ShortDescription = null, string? Description = null,
    IReadOnlyList<string>? Tags = null, PricingRequest? Pricing = null, bool? IsPremium = null, ListingVisibility? Visibility = null,
    string? PreviewImage = null, string? Name = null);

public enum ListingAction
{
    Pause,
    Unpause,
    Archive,

    /// <summary>Sends a draft (for example one an operator returned) back for review, or live under auto-approval.</summary>
    Submit,
}

public sealed record OwnListingResponse(
    Guid Uuid, string Slug, string Name, string Category, string ShortDescription, string Description, IReadOnlyList<string> Tags,
    CardPricing Pricing, bool IsPremium, ListingVisibility Visibility, ListingState State, string? PreviewImage, string? ModerationNote,
    string? ServedVersion, DateTime Created, DateTime? Published)
{
    /// <summary>The edit of what buyers read waiting for an operator (ADR-163); the listing serves its fields above meanwhile.</summary>
    public ListingChangeResponse? PendingChange { get; init; }

    /// <summary>The last edit an operator rejected, with their note, until the provider's next edit replaces it.</summary>
    public ListingChangeResponse? RejectedChange { get; init; }
}

/// <summary>An edit of a live listing: only the fields it changes are set; <c>preview_image</c> "" removes the image.</summary>
public sealed record ListingChangeResponse(
    string? Name, string? ShortDescription, string? Description, IReadOnlyList<string>? Tags, string? Category, string? PreviewImage,
    DateTime Submitted, DateTime? Rejected, string? ModerationNote);

/// <summary>
/// Turns a provider agent into a listing and manages it (SPEC §2, §5): publish (active at once under
/// <c>Marketplace:AutoApproveListings</c>, else pending review), edit, price changes with the notice rule,
/// pause/unpause/archive. Every write checks the listing's organization through the tenant-owned agent.
/// </summary>
public sealed partial class ListingPublisher(
    AppDbContext db, ProviderAgents agents, AgentVersions versions, ListingChanges listingChanges, IOptionsMonitor<MarketplaceOptions> options,
    TimeProvider clock)
{
    public const int MaxTags = 12;

    /// <summary>The longest agent name, as the agent endpoints accept it.</summary>
    const int MaxNameLength = 120;

    [GeneratedRegex("^[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){1,79}$")]
    private static partial Regex SlugPattern();

    [GeneratedRegex(@"^[\p{Ll}\p{Lo}\p{Nd}][\p{Ll}\p{Lo}\p{Nd} \-]{0,29}$")]
    private static partial Regex TagPattern();

    public async Task<(Listing? Listing, Accounts.Failure? Failure)> PublishAsync(Guid agentId, ListingDraft draft, CancellationToken ct)
    {
        var agent = await db.ProviderAgents.FirstOrDefaultAsync(a => a.Id == agentId, ct);
        if (agent is null)
        {
            return (null, ProviderAgents.NotFound());
        }
        if (agent.State == ProviderAgentState.Archived)
        {
            return (null, ProviderAgents.Archived());
        }
        if (await db.Listings.AnyAsync(l => l.AgentId == agentId, ct))
        {
            return (null, AlreadyPublished());
        }
        if (agent.CurrentVersionId is not { } versionId)
        {
            return (null, new Accounts.Failure(StatusCodes.Status409Conflict, CatalogProblemCodes.NoVersion, "Import a flow (or start from a template) before publishing."));
        }
        var (provider, notProvider) = await agents.ApprovedProviderAsync(ct);
        if (notProvider is not null)
        {
            return (null, notProvider);
        }
        if (draft.Slug is null)
        {
            return (null, Invalid("slug", "Choose the address of the listing, such as my-agent."));
        }
        if (draft.ShortDescription is null)
        {
            return (null, Invalid("short_description", "Describe the agent in one sentence."));
        }
        if (draft.Pricing is null)
        {
            return (null, Invalid("pricing", "Set the pricing: model and credits."));
        }
        // The preview, or an image the description links, must not be deleted between its check and the insert.
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        await CatalogImages.LockAsync(db.Database, agent.OrganizationId, ct);
        if (await CheckAsync(draft, agent.OrganizationId, listingId: null, ct) is { } invalid)
        {
            return (null, invalid);
        }
        var now = clock.GetUtcNow().UtcDateTime;
        var autoApprove = options.CurrentValue.AutoApproveListings;
        var listing = new Listing
        {
            ProviderId = provider!.Id,
            OrganizationId = agent.OrganizationId,
            AgentId = agent.Id,
            Name = agent.Name,
            Slug = draft.Slug,
            CategoryId = await agents.CategoryIdAsync(draft.Category, ct) ?? agent.CategoryId,
            ShortDescription = draft.ShortDescription.Trim(),
            Description = StoredDescription(draft.Description) ?? agent.Description,
            Tags = NormalizedTags(draft.Tags),
            IsPremium = draft.IsPremium ?? false,
            Visibility = draft.Visibility ?? ListingVisibility.Public,
            PreviewImageUrl = await PreviewImageUrlAsync(draft.PreviewImage, ct),
            State = ListingState.PendingReview,
            ReportsUsageSinceUtc = agent.ReportsUsageSinceUtc,
            CreatedUtc = now,
        };
        if (autoApprove)
        {
            ListingPublication.GoLive(db, listing, now);
        }
        SetPricing(listing, draft.Pricing.ToTerms()!);
        db.Listings.Add(listing);
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException)
        {
            // Lost a race on the agent's one listing or on the slug; anything else is not the provider's to fix.
            await transaction.RollbackAsync(ct);
            if (await db.Listings.AnyAsync(l => l.AgentId == agent.Id, ct))
            {
                return (null, AlreadyPublished());
            }
            if (await SlugInUseAsync(draft.Slug, listingId: null, ct))
            {
                return (null, SlugTaken());
            }
            throw;
        }
        await versions.ServeAsync(listing, await db.AgentVersions.SingleAsync(v => v.Id == versionId, ct), ct);
        await db.SaveChangesAsync(ct);
        await transaction.CommitAsync(ct);
        return (listing, null);
    }

    /// <summary>
    /// Edits the listing. A price increase reaches existing subscribers after the notice period; a decrease at once. What
    /// buyers read of a live listing waits for an operator unless auto-approval is on (<see cref="ListingChanges"/>).
    /// </summary>
    public async Task<(Listing? Listing, Accounts.Failure? Failure)> UpdateAsync(Guid agentId, ListingDraft changes, CancellationToken ct)
    {
        // The pending change is read, merged and saved under the organization's lock (ListingChanges.EditAsync), the images
        // it shows checked under the image lock (CatalogImages.LockAsync).
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        var (listing, failure) = await EditableListingAsync(agentId, ct);
        if (failure is not null)
        {
            return (null, failure);
        }
        await CatalogImages.LockAsync(db.Database, listing!.OrganizationId, ct);
        if (await CheckAsync(changes, listing.OrganizationId, listing.Id, ct) is { } invalid)
        {
            return (null, invalid);
        }
        var newSlug = changes.Slug is { } slug && slug != listing.Slug ? slug : null;
        if (newSlug is not null)
        {
            await RetireSlugAsync(listing, newSlug, ct);
        }
        var name = changes.Name?.Trim();
        if (name is not null)
        {
            // The agent carries the name as a rename on its own page does (ProviderAgents.UpdateAsync); the listing's waits.
            var agent = await db.ProviderAgents.SingleAsync(a => a.Id == agentId, ct);
            agent.Name = name;
            agent.UpdatedUtc = clock.GetUtcNow().UtcDateTime;
        }
        await listingChanges.EditAsync(listing, new ListingEdit(
            Name: name, ShortDescription: changes.ShortDescription?.Trim(), Description: StoredDescription(changes.Description),
            Tags: changes.Tags is null ? null : NormalizedTags(changes.Tags), CategoryId: await agents.CategoryIdAsync(changes.Category, ct),
            PreviewImageUrl: changes.PreviewImage is null ? null : await PreviewImageUrlAsync(changes.PreviewImage, ct) ?? ""), ct);
        listing.IsPremium = changes.IsPremium ?? listing.IsPremium;
        listing.Visibility = changes.Visibility ?? listing.Visibility;
        if (changes.Pricing?.ToTerms() is { } pricing && pricing != PricingTerms.Of(listing))
        {
            // Before the first publication nobody subscribed, so there is nobody to give notice to.
            if (listing.PublishedUtc is not null)
            {
                var now = clock.GetUtcNow().UtcDateTime;
                var pending = await db.ListingPriceChanges.Where(c => c.ListingId == listing.Id && c.EffectiveForSubscribersUtc > now).ToListAsync(ct);
                db.ListingPriceChanges.Add(PriceSchedule.Change(listing.Id, PricingTerms.Of(listing), pricing, pending, now,
                    TimeSpan.FromDays(options.CurrentValue.PriceIncreaseNoticeDays)));
            }
            SetPricing(listing, pricing);
        }
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException) when (newSlug is not null)
        {
            // Another listing took the slug since the check; anything else is not the provider's to fix.
            await transaction.RollbackAsync(ct);
            if (await SlugInUseAsync(newSlug, listing.Id, ct))
            {
                return (null, SlugTaken());
            }
            throw;
        }
        await transaction.CommitAsync(ct);
        return (listing, null);
    }

    /// <summary>
    /// Moves the listing to <paramref name="slug"/>. A published listing keeps answering to its old slug, which no other
    /// listing may take (<see cref="RetiredListingSlug"/>); taking back one of its own old slugs makes it current again.
    /// </summary>
    async Task RetireSlugAsync(Listing listing, string slug, CancellationToken ct)
    {
        if (listing.PublishedUtc is not null && !await db.RetiredListingSlugs.AnyAsync(r => r.Slug == listing.Slug, ct))
        {
            db.RetiredListingSlugs.Add(new RetiredListingSlug { Slug = listing.Slug, ListingId = listing.Id, RetiredUtc = clock.GetUtcNow().UtcDateTime });
        }
        if (await db.RetiredListingSlugs.FirstOrDefaultAsync(r => r.Slug == slug && r.ListingId == listing.Id, ct) is { } takenBack)
        {
            db.RetiredListingSlugs.Remove(takenBack);
        }
        listing.Slug = slug;
    }

    public async Task<(Listing? Listing, Accounts.Failure? Failure)> ApplyAsync(Guid agentId, ListingAction action, CancellationToken ct)
    {
        var (listing, failure) = await EditableListingAsync(agentId, ct);
        if (failure is not null)
        {
            return (null, failure);
        }
        var autoApprove = options.CurrentValue.AutoApproveListings;
        ListingState? next = (action, listing!.State) switch
        {
            (ListingAction.Pause, ListingState.Active) => ListingState.Paused,
            (ListingAction.Unpause, ListingState.Paused) => ListingState.Active,
            (ListingAction.Archive, _) => ListingState.Archived,
            (ListingAction.Submit, ListingState.Draft) => autoApprove ? ListingState.Active : ListingState.PendingReview,
            _ => null,
        };
        if (next is not { } state)
        {
            return (null, new Accounts.Failure(StatusCodes.Status409Conflict, CatalogProblemCodes.ListingStateConflict,
                $"A listing in state {EnumNames<ListingState>.ToName(listing.State)} cannot be {Done(action)}."));
        }
        if (state == ListingState.Active)
        {
            ListingPublication.GoLive(db, listing, clock.GetUtcNow().UtcDateTime);
            listing.ModerationNote = null;
        }
        else
        {
            listing.State = state;
        }
        await db.SaveChangesAsync(ct);
        return (listing, null);
    }

    /// <summary>The agent's listing as its provider sees it, or null.</summary>
    public async Task<OwnListingResponse?> OwnListingAsync(Guid agentId, CancellationToken ct)
    {
        if (!await db.ProviderAgents.AnyAsync(a => a.Id == agentId, ct))
        {
            return null;
        }
        var own = await db.Listings.AsNoTracking().Where(l => l.AgentId == agentId)
            .Select(l => new OwnListingResponse(
                l.Id, l.Slug, l.Name, l.Category!.Slug, l.ShortDescription, l.Description, l.Tags,
                new CardPricing(l.PricingModel, l.CreditsPerRun, l.CreditsMin, l.CreditsMax), l.IsPremium, l.Visibility, l.State,
                l.PreviewImageUrl, l.ModerationNote,
                db.AgentVersions.Where(v => v.Id == l.AgentVersionId).Select(v => v.Version).FirstOrDefault(),
                l.CreatedUtc, l.PublishedUtc))
            .FirstOrDefaultAsync(ct);
        if (own is null || await db.ListingChanges.AsNoTracking().FirstOrDefaultAsync(c => c.ListingId == own.Uuid, ct) is not { } change)
        {
            return own;
        }
        var category = change.CategoryId is { } categoryId ? await db.Categories.Where(c => c.Id == categoryId).Select(c => c.Slug).FirstAsync(ct) : null;
        var response = new ListingChangeResponse(change.Name, change.ShortDescription, change.Description, change.Tags, category, change.PreviewImageUrl,
            change.SubmittedUtc, change.RejectedUtc, change.RejectionNote);
        return change.RejectedUtc is null ? own with { PendingChange = response } : own with { RejectedChange = response };
    }

    /// <summary>Withdraws the listing's edit waiting for review (ADR-163); the listing keeps serving what it serves.</summary>
    public async Task<Accounts.Failure?> WithdrawChangeAsync(Guid agentId, CancellationToken ct)
    {
        var (listing, failure) = await EditableListingAsync(agentId, ct);
        if (failure is not null)
        {
            return failure;
        }
        if (!await listingChanges.WithdrawAsync(listing!, ct))
        {
            return new Accounts.Failure(StatusCodes.Status404NotFound, ProblemCodes.NotFound, "The listing has no edit waiting for review.");
        }
        await db.SaveChangesAsync(ct);
        return null;
    }

    async Task<(Listing? Listing, Accounts.Failure? Failure)> EditableListingAsync(Guid agentId, CancellationToken ct)
    {
        // The agent is tenant-filtered, so another organization's agent id finds nothing here.
        var agent = await db.ProviderAgents.AsNoTracking().FirstOrDefaultAsync(a => a.Id == agentId, ct);
        var listing = agent is null ? null : await db.Listings.FirstOrDefaultAsync(l => l.AgentId == agent.Id, ct);
        if (listing is null)
        {
            return (null, new Accounts.Failure(StatusCodes.Status404NotFound, ProblemCodes.NotFound, "The listing was not found."));
        }
        if (listing.State == ListingState.Archived)
        {
            return (null, ProviderAgents.Archived());
        }
        // A paused or draft listing of a suspended organization is frozen too, not only its live ones.
        return await agents.FrozenAsync(agent!, ct) is { } frozen ? (null, frozen) : (listing, null);
    }

    async Task<Accounts.Failure?> CheckAsync(ListingDraft draft, Guid organizationId, Guid? listingId, CancellationToken ct)
    {
        if (draft.Slug is { } slug)
        {
            // A slug that reads as a uuid would make /agents/{uuid or slug} ambiguous.
            if (!SlugPattern().IsMatch(slug) || Guid.TryParse(slug, out _))
            {
                return Invalid("slug", "Use 2–80 lower-case letters, digits and single hyphens, starting and ending with a letter or digit.");
            }
            if (await SlugInUseAsync(slug, listingId, ct))
            {
                return SlugTaken();
            }
        }
        if (draft.Category is not null && await agents.CategoryIdAsync(draft.Category, ct) is null)
        {
            return Invalid("category", "Pick one of the marketplace's categories.");
        }
        if (draft.Name is { } name && (string.IsNullOrWhiteSpace(name) || name.Trim().Length > MaxNameLength))
        {
            return Invalid("name", $"Name the agent in 1–{MaxNameLength} characters.");
        }
        if (draft.ShortDescription is { } summary && (string.IsNullOrWhiteSpace(summary) || summary.Trim().Length > 300))
        {
            return Invalid("short_description", "Describe the agent in 1–300 characters.");
        }
        if (draft.Description is { Length: > 20_000 })
        {
            return Invalid("description", "Keep the description under 20,000 characters.");
        }
        if (draft.Tags is { } tags && (tags.Count > MaxTags || tags.Any(t => t is null || !TagPattern().IsMatch(t.Trim().ToLowerInvariant()))))
        {
            return Invalid("tags", $"Use up to {MaxTags} tags of 1–30 letters, digits, spaces or hyphens.");
        }
        if (draft.Pricing is { Model: null })
        {
            return Invalid("pricing.model", "Choose free, fixed_credits, variable_credits or subscription.");
        }
        if (draft.Pricing?.ToTerms()?.Problem() is { } pricing)
        {
            return Invalid(pricing.Field, pricing.Message);
        }
        if (draft.PreviewImage is { Length: > 0 } image && !await OwnsImageAsync(image, organizationId, ct))
        {
            return Invalid("preview_image", "Upload the image first (POST /api/catalog-images/) and use its uuid or url.");
        }
        return null;
    }

    async Task<bool> OwnsImageAsync(string reference, Guid organizationId, CancellationToken ct) =>
        CatalogImages.IdOf(reference) is { } id && await db.CatalogImages.AnyAsync(i => i.Id == id && i.OrganizationId == organizationId, ct);

    async Task<string?> PreviewImageUrlAsync(string? reference, CancellationToken ct)
    {
        if (CatalogImages.IdOf(reference) is not { } id)
        {
            return null;
        }
        var contentType = await db.CatalogImages.Where(i => i.Id == id).Select(i => i.ContentType).SingleAsync(ct);
        return CatalogImages.UrlFor(id, contentType);
    }

    static string Done(ListingAction action) => action switch
    {
        ListingAction.Pause => "paused",
        ListingAction.Unpause => "unpaused",
        ListingAction.Archive => "archived",
        ListingAction.Submit => "submitted",
    };

    /// <summary>
    /// A description as stored: trimmed, with \n line breaks. Browsers send a textarea's breaks as \r\n, so without this an
    /// unchanged description saved from the page would differ from the stored one and wait for review as an edit.
    /// </summary>
    static string? StoredDescription(string? description) => description?.Trim().ReplaceLineEndings("\n");

    static List<string> NormalizedTags(IReadOnlyList<string>? tags) =>
        (tags ?? []).Select(t => t.Trim().ToLowerInvariant()).Where(t => t.Length > 0).Distinct(StringComparer.Ordinal).ToList();

    static void SetPricing(Listing listing, PricingTerms pricing)
    {
        listing.PricingModel = pricing.Model;
        listing.CreditsPerRun = pricing.CreditsPerRun;
        listing.CreditsMin = pricing.CreditsMin;
        listing.CreditsMax = pricing.CreditsMax;
    }

    static Accounts.Failure Invalid(string field, string message) => new(StatusCodes.Status400BadRequest, ProblemCodes.ValidationFailed, message, field);

    /// <summary>Whether a listing other than <paramref name="listingId"/> uses, or used, <paramref name="slug"/>.</summary>
    async Task<bool> SlugInUseAsync(string slug, Guid? listingId, CancellationToken ct) =>
        await db.Listings.AnyAsync(l => l.Slug == slug && l.Id != listingId, ct)
        || await db.RetiredListingSlugs.AnyAsync(r => r.Slug == slug && r.ListingId != listingId, ct);

    static Accounts.Failure AlreadyPublished() =>
        new(StatusCodes.Status409Conflict, CatalogProblemCodes.AlreadyPublished, "This agent already has a listing; edit it instead.");

    static Accounts.Failure SlugTaken() => new(StatusCodes.Status409Conflict, CatalogProblemCodes.SlugTaken, "Another listing uses, or used, this address; choose another slug.");
}
