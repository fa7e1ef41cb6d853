using AgentMarket.Flows.Services;
using AgentMarket.Knowledge.Search;
using AgentMarket.Platform.Data;
using AgentMarket.Platform.Tenancy;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace AgentMarket.Knowledge.Retrieval;

/// <summary>
/// A knowledge base id named by a run's configuration does not belong to the organization it was named for: a broken
/// or tampered configuration. The run must not start.
/// </summary>
public sealed class KnowledgeBaseAccessException(Guid knowledgeBaseId, Guid organizationId)
    : Exception($"Knowledge base {knowledgeBaseId} does not belong to organization {organizationId}.");

/// <summary>Documents a flow tried to add could not be added; the message is safe to show the caller.</summary>
public sealed class KnowledgeIngestException(string message) : Exception(message);

/// <summary>
/// Builds the knowledge retriever of one run (the gateway calls it once per run). A run reads the subscription's
/// knowledge base merged with the provider's own; <see cref="ForAsync"/> verifies that each id belongs to the
/// organization it is named for before the retriever exists, and the retriever's every query filters on those
/// (knowledge base, organization) pairs, so no other tenant's chunk can be read whatever the caller's tenant scope.
/// </summary>
public sealed class KnowledgeRetrievers(IServiceScopeFactory scopes, IOptionsMonitor<KnowledgeOptions> options)
{
    /// <param name="organizationId">The subscribing (buyer) organization.</param>
    /// <param name="buyerKnowledgeBase">The subscription's knowledge base, owned by <paramref name="organizationId"/>; flows may add to it.</param>
    /// <param name="providerOrganizationId">The organization that publishes the agent.</param>
    /// <param name="providerKnowledgeBase">The agent's own knowledge base, owned by <paramref name="providerOrganizationId"/>; read only.</param>
    /// <returns>The retriever, or null when neither knowledge base is set (the flow's retrieval nodes then fail with <c>knowledge_not_configured</c>).</returns>
    /// <exception cref="KnowledgeBaseAccessException">An id does not exist or belongs to another organization.</exception>
    public async Task<KnowledgeRetriever?> ForAsync(Guid organizationId, Guid? buyerKnowledgeBase, Guid? providerOrganizationId, Guid? providerKnowledgeBase, CancellationToken cancellationToken)
    {
        if (providerKnowledgeBase is not null && providerOrganizationId is null)
        {
            throw new ArgumentException("A provider knowledge base needs the provider's organization.", nameof(providerOrganizationId));
        }
        var buyer = buyerKnowledgeBase is { } buyerId ? new KnowledgeSource(organizationId, buyerId) : null;
        var provider = providerKnowledgeBase is { } providerId ? new KnowledgeSource(providerOrganizationId!.Value, providerId) : null;
        KnowledgeSource[] sources = [.. new[] { buyer, provider }.OfType<KnowledgeSource>().Distinct()];
        if (sources.Length == 0)
        {
            return null;
        }
        await using var scope = CreateSystemScope(scopes);
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        foreach (var source in sources)
        {
            if (!await db.KnowledgeBases.AnyAsync(k => k.Id == source.KnowledgeBaseId && k.OrganizationId == source.OrganizationId, cancellationToken))
            {
                throw new KnowledgeBaseAccessException(source.KnowledgeBaseId, source.OrganizationId);
            }
        }
        return new KnowledgeRetriever(scopes, sources, buyer);
    }

    /// <summary>The documents a run's File nodes read: those of <paramref name="retriever"/>'s knowledge bases (none without one).</summary>
    public IDocumentReader DocumentsFor(KnowledgeRetriever? retriever) =>
        new KnowledgeDocuments(scopes, retriever?.Sources ?? [], retriever?.BuyerSource, options.CurrentValue.MaxDocumentCharactersPerRun);

    /// <summary>
    /// A scope that sees every tenant: a run reads two organizations' knowledge bases (buyer and provider), which no
    /// request scope can. The sources verified above, repeated in every query, are what confine it.
    /// </summary>
    internal static AsyncServiceScope CreateSystemScope(IServiceScopeFactory scopes)
    {
        var scope = scopes.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<CurrentTenant>().EnterSystemScope();
        return scope;
    }
}
