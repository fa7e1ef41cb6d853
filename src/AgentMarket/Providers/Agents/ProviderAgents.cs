using AgentMarket.Catalog;
using AgentMarket.Identity;
using AgentMarket.Platform.Data;
using AgentMarket.Platform.Errors;
using AgentMarket.Platform.Tenancy;
using Microsoft.EntityFrameworkCore;

namespace AgentMarket.Providers.Agents;

public sealed record ListingSummary(Guid Uuid, string Slug, ListingState State);
/// <param name="ReportsUsage">The agent runs on the provider's own runtime, which reports each run's usage; since <paramref name="ReportsUsageSince"/>.</param>
/// <param name="BuyerModelEndpoints">Whether buyers may send the agent's model calls, prompts included, to an endpoint of their own.</param>
public sealed record ProviderAgentResponse(
    Guid Uuid, string Name, string Description, string Category, ProviderAgentState State, string? CurrentVersion,
    ListingSummary? Listing, Guid? KnowledgeBase, DateTime Created, DateTime Updated, bool ReportsUsage, DateTime? ReportsUsageSince,
    bool BuyerModelEndpoints);

/// <summary>A provider's agents: create, rename, recategorise, archive. Shared by the seller API and pages.</summary>
public sealed class ProviderAgents(AppDbContext db, CurrentTenant tenant, Catalog.Moderation.ListingChanges listingChanges, TimeProvider clock)
{
    /// <summary>The organization's provider profile, if it is approved to sell.</summary>
    public async Task<(Provider? Provider, Accounts.Failure? Failure)> ApprovedProviderAsync(CancellationToken ct)
    {
        var organizationId = tenant.RequiredOrganizationId;
        if (await db.Organizations.IsSuspendedAsync(organizationId, ct))
        {
            return (null, Suspended());
        }
        var provider = await db.Providers.AsNoTracking().FirstOrDefaultAsync(p => p.OrganizationId == organizationId, ct);
        return provider?.State == ProviderState.Approved
            ? (provider, null)
            : (null, new Accounts.Failure(StatusCodes.Status403Forbidden, CatalogProblemCodes.ProviderRequired,
                provider is null ? "Become a provider first (POST /api/providers/)." : "Your provider application has not been approved yet."));
    }

    public static Accounts.Failure Suspended() =>
        new(StatusCodes.Status403Forbidden, ProblemCodes.OrganizationSuspended, ProblemCodes.OrganizationSuspendedMessage);

    public static Accounts.Failure TakenDown(string? reason) => new(StatusCodes.Status403Forbidden, CatalogProblemCodes.ListingTakenDown,
        $"An operator took this listing down{(reason is null ? "" : $": {reason}")}. It stays out of the marketplace, unchanged, until an operator restores it.");

    /// <summary>
    /// Why the agent cannot be changed now, or null: its organization is suspended, or an operator took its listing
    /// down. Either freezes the agent and its listing (renames, versions, rollbacks, archiving, usage reporting), so what
    /// an operator restores is what they saw.
    /// </summary>
    public async Task<Accounts.Failure?> FrozenAsync(ProviderAgent agent, CancellationToken ct)
    {
        if (await db.Organizations.IsSuspendedAsync(agent.OrganizationId, ct))
        {
            return Suspended();
        }
        var listing = await db.Listings.AsNoTracking().Where(l => l.AgentId == agent.Id).Select(l => new { l.State, l.ModerationNote }).FirstOrDefaultAsync(ct);
        return listing?.State == ListingState.TakenDown ? TakenDown(listing.ModerationNote) : null;
    }

    public async Task<(ProviderAgent? Agent, Accounts.Failure? Failure)> CreateAsync(string name, string? description, string? category, CancellationToken ct)
    {
        var (provider, failure) = await ApprovedProviderAsync(ct);
        if (failure is not null)
        {
            return (null, failure);
        }
        if (await CategoryIdAsync(category, ct) is not { } categoryId)
        {
            return (null, UnknownCategory());
        }
        var now = clock.GetUtcNow().UtcDateTime;
        var agent = new ProviderAgent
        {
            OrganizationId = provider!.OrganizationId,
            ProviderId = provider.Id,
            Name = name.Trim(),
            Description = description?.Trim() ?? "",
            CategoryId = categoryId,
            State = ProviderAgentState.Active,
            CreatedUtc = now,
            UpdatedUtc = now,
        };
        db.ProviderAgents.Add(agent);
        await db.SaveChangesAsync(ct);
        return (agent, null);
    }

    /// <summary>
    /// Renames (the listing follows), describes or recategorises an agent, attaches one of the organization's
    /// knowledge bases ("" detaches it), or declares whether the provider's own runtime reports its usage (the listing
    /// follows: buyers see it, and reports are accepted only while it is on); null leaves a field as it is.
    /// </summary>
    public async Task<(ProviderAgent? Agent, Accounts.Failure? Failure)> UpdateAsync(
        Guid agentId, string? name, string? description, string? category, CancellationToken ct, string? knowledgeBase = null, bool? reportsUsage = null,
        bool? buyerModelEndpoints = null)
    {
        var agent = await db.ProviderAgents.FirstOrDefaultAsync(a => a.Id == agentId, ct);
        if (agent is null)
        {
            return (null, NotFound());
        }
        if (agent.State == ProviderAgentState.Archived)
        {
            return (null, Archived());
        }
        if (await FrozenAsync(agent, ct) is { } frozen)
        {
            return (null, frozen);
        }
        if (name is not null && string.IsNullOrWhiteSpace(name))
        {
            return (null, new Accounts.Failure(StatusCodes.Status400BadRequest, ProblemCodes.ValidationFailed, "The name cannot be empty.", "name"));
        }
        Guid? categoryId = null;
        if (category is not null && (categoryId = await CategoryIdAsync(category, ct)) is null)
        {
            return (null, UnknownCategory());
        }
        // Pointing at a knowledge base holds it until the change is saved, as a subscription's PATCH does, so a concurrent
        // delete either sees this agent (409) or has deleted the base before it is checked here (ADR-146, ADR-150). A
        // rename edits the listing, whose pending change is merged under a lock held until the save commits (ADR-169).
        await using var pointing = knowledgeBase is { Length: > 0 } || name is not null ? await db.Database.BeginTransactionAsync(ct) : null;
        if (knowledgeBase is { Length: > 0 })
        {
            // LockedAsync is an ownership check too: another organization's knowledge base is not found.
            if (!Guid.TryParse(knowledgeBase, out var knowledgeBaseId) || !await Knowledge.KnowledgeBases.LockedAsync(db, knowledgeBaseId, forDelete: false, ct))
            {
                return (null, new Accounts.Failure(StatusCodes.Status400BadRequest, ProblemCodes.ValidationFailed, "No knowledge base of your organization has this id.", "knowledge_base"));
            }
            agent.KnowledgeBaseId = knowledgeBaseId;
        }
        else if (knowledgeBase is not null)
        {
            agent.KnowledgeBaseId = null;
        }
        agent.Name = name?.Trim() ?? agent.Name;
        agent.Description = description?.Trim() ?? agent.Description;
        agent.CategoryId = categoryId ?? agent.CategoryId;
        agent.BuyerModelEndpointsAllowed = buyerModelEndpoints ?? agent.BuyerModelEndpointsAllowed;
        agent.UpdatedUtc = clock.GetUtcNow().UtcDateTime;
        // Turning it on again keeps the first date: subscribers compare it with when they subscribed.
        agent.ReportsUsageSinceUtc = reportsUsage switch
        {
            true => agent.ReportsUsageSinceUtc ?? Timestamps.WholeMicroseconds(agent.UpdatedUtc),
            false => null,
            null => agent.ReportsUsageSinceUtc,
        };
        if (await db.Listings.FirstOrDefaultAsync(l => l.AgentId == agentId, ct) is { } listing)
        {
            // The listing's name is what buyers read: a rename of a live one waits for an operator (ADR-163).
            if (name is not null)
            {
                await listingChanges.EditAsync(listing, new Catalog.Moderation.ListingEdit(Name: agent.Name), ct);
            }
            listing.ReportsUsageSinceUtc = agent.ReportsUsageSinceUtc;
        }
        await db.SaveChangesAsync(ct);
        if (pointing is not null)
        {
            await pointing.CommitAsync(ct);
        }
        return (agent, null);
    }

    /// <summary>Archives the agent and its listing: it leaves the catalog and can no longer change.</summary>
    public async Task<(ProviderAgent? Agent, Accounts.Failure? Failure)> ArchiveAsync(Guid agentId, CancellationToken ct)
    {
        var agent = await db.ProviderAgents.FirstOrDefaultAsync(a => a.Id == agentId, ct);
        if (agent is null)
        {
            return (null, NotFound());
        }
        if (await FrozenAsync(agent, ct) is { } frozen)
        {
            return (null, frozen);
        }
        agent.State = ProviderAgentState.Archived;
        agent.UpdatedUtc = clock.GetUtcNow().UtcDateTime;
        if (await db.Listings.FirstOrDefaultAsync(l => l.AgentId == agentId, ct) is { } listing)
        {
            listing.State = ListingState.Archived;
        }
        await db.SaveChangesAsync(ct);
        return (agent, null);
    }

    /// <summary>The organization's agents as responses, newest first.</summary>
    public IQueryable<ProviderAgentResponse> Responses(ProviderAgentState? state = null) =>
        AsResponses(db.ProviderAgents.AsNoTracking().Where(a => state == null || a.State == state).OrderByDescending(a => a.CreatedUtc));

    public Task<ProviderAgentResponse?> ResponseAsync(Guid agentId, CancellationToken ct) =>
        AsResponses(db.ProviderAgents.AsNoTracking().Where(a => a.Id == agentId)).FirstOrDefaultAsync(ct);

    IQueryable<ProviderAgentResponse> AsResponses(IQueryable<ProviderAgent> agents) =>
        agents.Select(a => new ProviderAgentResponse(
            a.Id, a.Name, a.Description, a.Category!.Slug, a.State,
            db.AgentVersions.Where(v => v.Id == a.CurrentVersionId).Select(v => v.Version).FirstOrDefault(),
            db.Listings.Where(l => l.AgentId == a.Id).Select(l => new ListingSummary(l.Id, l.Slug, l.State)).FirstOrDefault(),
            a.KnowledgeBaseId, a.CreatedUtc, a.UpdatedUtc, a.ReportsUsageSinceUtc != null, a.ReportsUsageSinceUtc,
            a.BuyerModelEndpointsAllowed));

    /// <summary>A category by slug or name, case-insensitively ("assistants", "Assistants").</summary>
    public async Task<Guid?> CategoryIdAsync(string? category, CancellationToken ct)
    {
        var key = category?.Trim().ToLowerInvariant();
        if (string.IsNullOrEmpty(key))
        {
            return null;
        }
        var categories = await db.Categories.AsNoTracking().Select(c => new { c.Id, c.Slug, c.Name }).ToListAsync(ct);
        return categories.Find(c => c.Slug == key || c.Name.Equals(key, StringComparison.OrdinalIgnoreCase))?.Id;
    }

    internal static Accounts.Failure NotFound() => new(StatusCodes.Status404NotFound, ProblemCodes.NotFound, "The agent was not found.");

    internal static Accounts.Failure Archived() => new(StatusCodes.Status409Conflict, CatalogProblemCodes.AgentArchived, "This agent is archived and can no longer change.");

    static Accounts.Failure UnknownCategory() =>
        new(StatusCodes.Status400BadRequest, ProblemCodes.ValidationFailed, "Pick one of the marketplace's categories (GET /api/marketplace/categories).", "category");
}
