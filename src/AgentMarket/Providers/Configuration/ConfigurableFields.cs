using AgentMarket.Catalog;
using AgentMarket.Identity;
using AgentMarket.Platform.Data;
using AgentMarket.Platform.Errors;
using AgentMarket.Providers.Agents;
using Microsoft.EntityFrameworkCore;

namespace AgentMarket.Providers.Configuration;

public sealed record ConfigurableFieldResponse(
    Guid Uuid, string Key, string NodeId, string FieldName, string Label, ConfigurableFieldKind Kind, string? DefaultValue,
    IReadOnlyList<string> Options, string? HelpText, double? Minimum = null, double? Maximum = null);

/// <summary>Declares which flow fields buyers may set, checked against the agent's current version.</summary>
public sealed class ConfigurableFields(AppDbContext db, ProviderAgents agents)
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

    /// <summary>Replaces the agent's declared fields with <paramref name="fields"/>, in order, if every one is valid.</summary>
    public async Task<(List<ConfigurableFieldResponse>? Fields, Accounts.Failure? Failure, List<(string Field, string Message)>? Problems)> ReplaceAsync(
        Guid agentId, IReadOnlyList<ConfigurableFieldInput>? fields, CancellationToken ct)
    {
        var (candidates, failure) = await CandidatesAsync(agentId, ct);
        if (failure is not null)
        {
            return (null, failure, null);
        }
        var agent = await db.ProviderAgents.AsNoTracking().SingleAsync(a => a.Id == agentId, ct);
        if (agent.State == ProviderAgentState.Archived)
        {
            return (null, ProviderAgents.Archived(), null);
        }
        // Declared fields are part of what buyers configure: frozen with the rest of the agent, so what an operator restores is what they saw.
        if (await agents.FrozenAsync(agent, ct) is { } frozen)
        {
            return (null, frozen, null);
        }
        if (fields is null)
        {
            return (null, null, [("fields", "Send the full list of configurable fields (an empty list removes them all).")]);
        }
        var problems = ConfigurableFieldRules.Problems(fields, candidates!);
        if (problems.Count > 0)
        {
            return (null, null, problems);
        }
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        await db.ConfigurableFields.Where(f => f.AgentId == agentId).ExecuteDeleteAsync(ct);
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
        db.ConfigurableFields.AddRange(entities);
        await db.SaveChangesAsync(ct);
        await transaction.CommitAsync(ct);
        return (entities.ConvertAll(ToResponse), null, null);
    }

    static ConfigurableFieldResponse ToResponse(ConfigurableField f) =>
        new(f.Id, f.Key, f.NodeId, f.FieldName, f.Label, f.Kind, f.DefaultValue, f.Options, f.HelpText, f.Minimum, f.Maximum);
}
