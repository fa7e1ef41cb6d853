using AgentMarket.Audit;
using AgentMarket.Catalog;
using AgentMarket.Identity;
using AgentMarket.Platform.Data;
using AgentMarket.Platform.Errors;
using AgentMarket.Platform.Tenancy;
using AgentMarket.Providers.Agents;
using AgentMarket.Subscriptions;
using Microsoft.EntityFrameworkCore;

namespace AgentMarket.Providers.Configuration;

public sealed record ConfigurableFieldResponse(
    Guid Uuid, string Key, string NodeId, string FieldName, string Label, ConfigurableFieldKind Kind, string? DefaultValue,
    IReadOnlyList<string> Options, string? HelpText, double? Minimum = null, double? Maximum = null);

/// <summary>What a replacement would take from subscribers: how many subscriptions lose a saved value, and the keys of those values.</summary>
public sealed record SettingsAtRisk(int Subscriptions, IReadOnlyList<string> Keys);

/// <summary>Declares which flow fields buyers may set, checked against the agent's current version.</summary>
public sealed class ConfigurableFields(AppDbContext db, ProviderAgents agents, IServiceScopeFactory scopes, AuditLog audit)
{
    /// <summary>The fields of the agent's current version a provider could declare; null when the agent is unknown.</summary>
    public async Task<(IReadOnlyList<FlowFieldCandidate>? Candidates, Accounts.Failure? Failure)> CandidatesAsync(Guid agentId, CancellationToken ct)
    {
        var agent = await db.ProviderAgents.AsNoTracking().FirstOrDefaultAsync(a => a.Id == agentId, ct);
        if (agent is null)
        {
            return (null, ProviderAgents.NotFound());
        }
        if (agent.CurrentVersionId is not { } versionId)
        {
            return (null, new Accounts.Failure(StatusCodes.Status409Conflict, CatalogProblemCodes.NoVersion, "Import a flow first; its fields are what buyers can be allowed to set."));
        }
        var flow = await db.AgentVersions.Where(v => v.Id == versionId).Select(v => v.FlowJson).SingleAsync(ct);
        return (FlowFields.Candidates(flow), null);
    }

    public async Task<List<ConfigurableFieldResponse>?> ListAsync(Guid agentId, CancellationToken ct)
    {
        if (!await db.ProviderAgents.AnyAsync(a => a.Id == agentId, ct))
        {
            return null;
        }
        var fields = await db.ConfigurableFields.AsNoTracking().Where(f => f.AgentId == agentId).OrderBy(f => f.SortOrder).ToListAsync(ct);
        return fields.ConvertAll(ToResponse);
    }

    /// <summary>
    /// Replaces the agent's declared fields with <paramref name="fields"/>, in order, if every one is valid. When that would
    /// stop values subscribers saved from reaching the flow (a field removed, or retyped or narrowed so their value no longer
    /// fits), it is refused with <see cref="CatalogProblemCodes.SubscriberSettingsAffected"/> and <c>AtRisk</c> unless
    /// <paramref name="dropSubscriberSettings"/> says the provider means it (ADR-128, ADR-158); then it is audited.
    /// </summary>
    public async Task<(List<ConfigurableFieldResponse>? Fields, Accounts.Failure? Failure, List<(string Field, string Message)>? Problems, SettingsAtRisk? AtRisk)> ReplaceAsync(
        Guid agentId, IReadOnlyList<ConfigurableFieldInput>? fields, CancellationToken ct, bool dropSubscriberSettings = false)
    {
        var (candidates, failure) = await CandidatesAsync(agentId, ct);
        if (failure is not null)
        {
            return (null, failure, null, null);
        }
        var agent = await db.ProviderAgents.AsNoTracking().SingleAsync(a => a.Id == agentId, ct);
        if (agent.State == ProviderAgentState.Archived)
        {
            return (null, ProviderAgents.Archived(), null, null);
        }
        // Declared fields are part of what buyers configure: frozen with the rest of the agent, so what an operator restores is what they saw.
        if (await agents.FrozenAsync(agent, ct) is { } frozen)
        {
            return (null, frozen, null, null);
        }
        if (fields is null)
        {
            return (null, null, [("fields", "Send the full list of configurable fields (an empty list removes them all).")], null);
        }
        var problems = ConfigurableFieldRules.Problems(fields, candidates!);
        if (problems.Count > 0)
        {
            return (null, null, problems, null);
        }
        var entities = fields.Select((f, i) => new ConfigurableField
        {
            OrganizationId = agent.OrganizationId,
            AgentId = agentId,
            Key = f.Key,
            NodeId = f.NodeId,
            FieldName = f.FieldName,
            Label = f.Label.Trim(),
            HelpText = string.IsNullOrWhiteSpace(f.HelpText) ? null : f.HelpText.Trim(),
            Kind = f.Kind,
            DefaultValue = f.DefaultValue,
            Options = [.. f.Options ?? []],
            Minimum = f.Minimum,
            Maximum = f.Maximum,
            SortOrder = i,
        }).ToList();
        var previous = await db.ConfigurableFields.AsNoTracking().Where(f => f.AgentId == agentId).ToListAsync(ct);
        var atRisk = await SettingsAtRiskAsync(agentId, previous, entities, ct);
        if (atRisk.Subscriptions > 0 && !dropSubscriberSettings)
        {
            return (null, new Accounts.Failure(StatusCodes.Status409Conflict, CatalogProblemCodes.SubscriberSettingsAffected,
                $"{atRisk.Subscriptions} subscription(s) saved a value for {string.Join(", ", atRisk.Keys)} that these fields would no longer " +
                "apply: their agent would run with your default instead. Keep those fields as they are, or save again confirming that their values are dropped."),
                null, atRisk);
        }
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        await db.ConfigurableFields.Where(f => f.AgentId == agentId).ExecuteDeleteAsync(ct);
        db.ConfigurableFields.AddRange(entities);
        if (atRisk.Subscriptions > 0)
        {
            audit.Record(AuditActions.SubscriberSettingsDropped, agent.OrganizationId, "agent", agentId,
                before: new { fields = previous.OrderBy(f => f.SortOrder).Select(f => f.Key) },
                after: new { fields = entities.Select(f => f.Key), dropped = atRisk.Keys, subscriptions = atRisk.Subscriptions });
        }
        await db.SaveChangesAsync(ct);
        await transaction.CommitAsync(ct);
        return (entities.ConvertAll(ToResponse), null, null, null);
    }

    /// <summary>
    /// The live subscriptions of the agent's listing whose saved values apply under <paramref name="before"/> and would not
    /// under <paramref name="after"/>: the key is gone, or the value no longer fits its kind, options or range. Their buyer's
    /// knowledge base counts too when no knowledge-base field would remain under its key.
    /// </summary>
    async Task<SettingsAtRisk> SettingsAtRiskAsync(Guid agentId, List<ConfigurableField> before, List<ConfigurableField> after, CancellationToken ct)
    {
        var listingId = await db.Listings.Where(l => l.AgentId == agentId).Select(l => (Guid?)l.Id).FirstOrDefaultAsync(ct);
        if (listingId is null || before.Count == 0)
        {
            return new(0, []);
        }
        var lostKnowledgeBase = before.Where(f => f.Kind == ConfigurableFieldKind.KnowledgeBase)
            .Where(f => !after.Any(n => n.Key == f.Key && n.Kind == ConfigurableFieldKind.KnowledgeBase)).Select(f => f.Key).ToList();
        // Subscriptions belong to their buyers' organizations; the provider may learn how many of its own listing's would be
        // affected, and nothing else of them, so they are read in a system scope of their own (as SubscriberNotices does).
        await using var scope = scopes.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<CurrentTenant>().EnterSystemScope();
        var everyone = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var saved = await everyone.CustomerAgentConfigs.AsNoTracking()
            .Where(c => c.ListingId == listingId && c.State != SubscriptionState.Terminated && (c.SettingsJson != "{}" || c.KnowledgeBaseId != null))
            .Select(c => new { c.SettingsJson, c.KnowledgeBaseId }).ToListAsync(ct);
        var subscriptions = 0;
        var keys = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var config in saved)
        {
            var values = SubscriptionSettings.Parse(config.SettingsJson);
            var invalidBefore = BuyerConfiguration.Problems(before, values).Select(p => p.Key).ToHashSet();
            var applying = values.Where(v => !invalidBefore.Contains(v.Key)).ToDictionary();
            var lost = BuyerConfiguration.Problems(after, applying).Select(p => p.Key).ToList();
            if (config.KnowledgeBaseId is not null)
            {
                lost.AddRange(lostKnowledgeBase);
            }
            if (lost.Count > 0)
            {
                subscriptions++;
                keys.UnionWith(lost);
            }
        }
        return new(subscriptions, [.. keys]);
    }

    static ConfigurableFieldResponse ToResponse(ConfigurableField f) =>
        new(f.Id, f.Key, f.NodeId, f.FieldName, f.Label, f.Kind, f.DefaultValue, f.Options, f.HelpText, f.Minimum, f.Maximum);
}
