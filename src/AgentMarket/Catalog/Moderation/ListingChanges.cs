using System.Text.Json;
using AgentMarket.Platform.Data;
using AgentMarket.Providers;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace AgentMarket.Catalog.Moderation;

/// <summary>
/// An edit of what buyers read of a listing, checked and normalized by its caller; null leaves a field as it is and
/// <see cref="PreviewImageUrl"/> "" removes the image.
/// </summary>
public sealed record ListingEdit(
    string? Name = null, string? ShortDescription = null, string? Description = null, IReadOnlyList<string>? Tags = null, Guid? CategoryId = null,
    string? PreviewImageUrl = null)
{
    public void ApplyTo(Listing listing)
    {
        listing.Name = Name ?? listing.Name;
        listing.ShortDescription = ShortDescription ?? listing.ShortDescription;
        listing.Description = Description ?? listing.Description;
        listing.Tags = Tags is null ? listing.Tags : [.. Tags];
        listing.CategoryId = CategoryId ?? listing.CategoryId;
        if (PreviewImageUrl is not null)
        {
            listing.PreviewImageUrl = PreviewImageUrl.Length == 0 ? null : PreviewImageUrl;
        }
    }

    public static ListingEdit Of(ListingChange change) =>
        new(change.Name, change.ShortDescription, change.Description, change.Tags, change.CategoryId, change.PreviewImageUrl);
}

/// <summary>
/// Edits of what buyers read of a live listing — name, summary, description, tags, category, preview image — wait for an
/// operator unless auto-approval is on (ADR-163): the listing keeps serving its approved content meanwhile, and the edit is
/// its one <see cref="ListingChange"/>. Other edits (price, visibility, slug, state, versions) are not held. Callers save.
/// </summary>
public sealed class ListingChanges(AppDbContext db, IOptionsMonitor<MarketplaceOptions> options, TimeProvider clock, Audit.AuditLog audit)
{
    const int PostgresLockSpace = 0x4C43; // "LC"

    /// <summary>
    /// Applies <paramref name="edit"/> to the listing, or, when the listing is live and auto-approval is off, merges it into
    /// the listing's pending change: a field edited back to its live value leaves the change, and a change left empty is
    /// withdrawn. A rejected change is replaced, not merged into. The caller holds a transaction and saves in it: the
    /// organization's lock taken here, held until it commits, makes concurrent edits of one listing read, merge and save
    /// its change one after the other (ADR-169), where both would insert the listing's one row, or the later overwrite
    /// the earlier's fields.
    /// </summary>
    public async Task EditAsync(Listing listing, ListingEdit edit, CancellationToken ct)
    {
        if (db.Database.CurrentTransaction is null)
        {
            throw new InvalidOperationException("ListingChanges.EditAsync runs in its caller's transaction, which saves the edit.");
        }
        await db.Database.LockOrganizationAsync(PostgresLockSpace, listing.OrganizationId, ct);
        var change = await db.ListingChanges.FirstOrDefaultAsync(c => c.ListingId == listing.Id, ct);
        if (options.CurrentValue.AutoApproveListings || listing.State is not (ListingState.Active or ListingState.Paused))
        {
            edit.ApplyTo(listing);
            // A change still waiting (auto-approval turned on meanwhile) must not put back, once approved, what this replaced.
            if (change is { RejectedUtc: null })
            {
                Propose(change, edit, listing);
                RemoveIfEmpty(change);
            }
            return;
        }
        var pending = change is { RejectedUtc: null } ? Fields(change) : null;
        if (change is null)
        {
            change = new ListingChange { ListingId = listing.Id };
            db.ListingChanges.Add(change);
        }
        else if (pending is null)
        {
            change.Name = change.ShortDescription = change.Description = change.PreviewImageUrl = null;
            change.Tags = null;
            change.CategoryId = null;
            change.RejectedUtc = null;
            change.RejectionNote = null;
        }
        Propose(change, edit, listing);
        if (change.IsEmpty)
        {
            db.ListingChanges.Remove(change);
            if (pending is not null)
            {
                audit.Record(Audit.AuditActions.ListingChangeWithdrawn, listing.OrganizationId, "listing", listing.Id, before: pending);
            }
            return;
        }
        var proposed = Fields(change);
        if (pending is not null && JsonSerializer.Serialize(pending) == JsonSerializer.Serialize(proposed))
        {
            return; // the same proposal again: it keeps its place in the queue and its revision
        }
        // Part of the revision an operator's decision names: as the database keeps it, so a read-back compares equal.
        change.SubmittedUtc = Timestamps.WholeMicroseconds(clock.GetUtcNow().UtcDateTime);
        audit.Record(Audit.AuditActions.ListingChangeSubmitted, listing.OrganizationId, "listing", listing.Id, before: pending, after: proposed);
    }

    /// <summary>Withdraws the listing's pending change; false when it has none.</summary>
    public async Task<bool> WithdrawAsync(Listing listing, CancellationToken ct)
    {
        var change = await db.ListingChanges.AwaitingReview(db.Listings).FirstOrDefaultAsync(c => c.ListingId == listing.Id, ct);
        if (change is null)
        {
            return false;
        }
        db.ListingChanges.Remove(change);
        await RestoreAgentNameAsync(db, listing, change, ct);
        audit.Record(Audit.AuditActions.ListingChangeWithdrawn, listing.OrganizationId, "listing", listing.Id, before: Fields(change));
        return true;
    }

    /// <summary>
    /// Gives the listing's agent its live name back when a proposed rename does not go live (withdrawn or rejected): a
    /// listed agent's rename is its listing's (ProviderAgents.UpdateAsync sets both), so the seller's pages and API would
    /// otherwise show a name buyers never saw, and the overview's next save would submit it again. The caller saves.
    /// </summary>
    public static async Task RestoreAgentNameAsync(AppDbContext db, Listing listing, ListingChange change, CancellationToken ct)
    {
        if (change.Name is not null && listing.AgentId is { } agentId && await db.ProviderAgents.FirstOrDefaultAsync(a => a.Id == agentId, ct) is { } agent)
        {
            agent.Name = listing.Name;
        }
    }

    void RemoveIfEmpty(ListingChange change)
    {
        if (change.IsEmpty)
        {
            db.ListingChanges.Remove(change);
        }
    }

    /// <summary>
    /// Sets in <paramref name="change"/> each field <paramref name="edit"/> sets; a value equal to the listing's is not a
    /// change, so it leaves the proposal.
    /// </summary>
    static void Propose(ListingChange change, ListingEdit edit, Listing listing)
    {
        if (edit.Name is { } name)
        {
            change.Name = name == listing.Name ? null : name;
        }
        if (edit.ShortDescription is { } summary)
        {
            change.ShortDescription = summary == listing.ShortDescription ? null : summary;
        }
        if (edit.Description is { } description)
        {
            change.Description = description == listing.Description ? null : description;
        }
        if (edit.Tags is { } tags)
        {
            change.Tags = tags.SequenceEqual(listing.Tags, StringComparer.Ordinal) ? null : [.. tags];
        }
        if (edit.CategoryId is { } category)
        {
            change.CategoryId = category == listing.CategoryId ? null : category;
        }
        if (edit.PreviewImageUrl is { } image)
        {
            change.PreviewImageUrl = image == (listing.PreviewImageUrl ?? "") ? null : image;
        }
    }

    /// <summary>The fields a change sets, by their API names, for the audit log.</summary>
    public static Dictionary<string, object> Fields(ListingChange change)
    {
        var fields = new Dictionary<string, object>(StringComparer.Ordinal);
        Add(fields, "name", change.Name);
        Add(fields, "short_description", change.ShortDescription);
        Add(fields, "description", change.Description);
        Add(fields, "tags", change.Tags);
        Add(fields, "category", change.CategoryId);
        Add(fields, "preview_image", change.PreviewImageUrl);
        return fields;
    }

    static void Add(Dictionary<string, object> fields, string name, object? value)
    {
        if (value is not null)
        {
            fields[name] = value;
        }
    }
}

public static class ListingChangeQueries
{
    /// <summary>
    /// The edits waiting for an operator's decision, the one meaning of "an edit waiting for review" (ADR-169): not
    /// rejected, of a live (active or paused) listing. A taken-down or suspended listing keeps its change, out of the
    /// queue until the listing is live again (ADR-163).
    /// </summary>
    public static IQueryable<ListingChange> AwaitingReview(this IQueryable<ListingChange> changes, IQueryable<Listing> listings) =>
        changes.Where(c => c.RejectedUtc == null
            && listings.Any(l => l.Id == c.ListingId && (l.State == ListingState.Active || l.State == ListingState.Paused)));
}
