using System.Collections.Concurrent;
using AgentMarket.Flows;
using AgentMarket.Flows.Compilation;
using AgentMarket.Platform.Data;
using AgentMarket.Platform.Tenancy;
using AgentMarket.Providers.Configuration;
using Microsoft.EntityFrameworkCore;

namespace AgentMarket.Runtime;

/// <summary>A version's compiled flow and what the gateway needs to run it for a buyer.</summary>
/// <param name="ReadsDocuments">The flow has File nodes, which read the run's knowledge bases (ADR-137).</param>
public sealed record AgentPlan(Guid VersionId, Guid AgentId, Guid ProviderOrganizationId, ExecutionPlan Plan, bool NeedsModel, bool ReadsDocuments);

/// <summary>What a provider may change on an agent without a new version: the buyer fields and its knowledge base.</summary>
/// <param name="BuyerModelEndpointsAllowed">Whether a buyer's own model endpoint may receive the agent's model calls (ADR-138).</param>
public sealed record AgentSettings(IReadOnlyList<ConfigurableField> Fields, Guid? KnowledgeBaseId, bool BuyerModelEndpointsAllowed = true);

/// <summary>
/// Compiles each agent version once per process and keeps the plan (versions are immutable, so a plan never goes stale),
/// and caches each agent's settings (declared buyer fields, knowledge base) briefly. Versions and fields belong to the provider's organization while
/// runs act for buyers, so this is the one place the runtime reads them: by the id the buyer's subscription points to,
/// in its own system scope, never through the buyer's request scope.
/// </summary>
sealed class AgentPlans(IServiceScopeFactory scopes, TimeProvider clock)
{
    static readonly TimeSpan SettingsLifetime = TimeSpan.FromSeconds(30);

    readonly ConcurrentDictionary<Guid, Lazy<Task<AgentPlan?>>> _plans = new();
    readonly ConcurrentDictionary<Guid, (DateTime LoadedUtc, AgentSettings Settings)> _settings = new();

    /// <summary>The compiled plan of a version, or null when the version does not exist or cannot run.</summary>
    public async Task<AgentPlan?> GetAsync(Guid versionId)
    {
        var lazy = _plans.GetOrAdd(versionId, id => new Lazy<Task<AgentPlan?>>(() => CompileAsync(id)));
        AgentPlan? plan;
        try
        {
            plan = await lazy.Value;
        }
        catch (Exception)
        {
            // Nor a failure (the database went away for a moment): a cached faulted task would fail every run of the
            // version until the process restarts. Only this attempt is forgotten, not one a concurrent caller started since.
            _plans.TryRemove(KeyValuePair.Create(versionId, lazy));
            throw;
        }
        if (plan is null)
        {
            _plans.TryRemove(KeyValuePair.Create(versionId, lazy)); // do not remember a miss: the version may be imported later
        }
        return plan;
    }

    /// <summary>
    /// The agent's settings, at most 30 seconds old when changed on another replica; a change saved on this node is
    /// seen at once (<see cref="Forget"/>, called by the gateway's cache invalidation).
    /// </summary>
    public async Task<AgentSettings> SettingsAsync(Guid agentId, CancellationToken ct)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        if (_settings.TryGetValue(agentId, out var cached) && now - cached.LoadedUtc < SettingsLifetime)
        {
            return cached.Settings;
        }
        await using var scope = scopes.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<CurrentTenant>().EnterSystemScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var fields = await db.ConfigurableFields.AsNoTracking().Where(f => f.AgentId == agentId).OrderBy(f => f.SortOrder).ToListAsync(ct);
        var agent = await db.ProviderAgents.AsNoTracking().Where(a => a.Id == agentId)
            .Select(a => new { a.KnowledgeBaseId, a.BuyerModelEndpointsAllowed }).FirstOrDefaultAsync(ct);
        var settings = new AgentSettings(fields, agent?.KnowledgeBaseId, agent?.BuyerModelEndpointsAllowed ?? true);
        _settings[agentId] = (now, settings);
        return settings;
    }

    /// <summary>Forgets an agent's cached settings (the provider changed them on this node).</summary>
    public void Forget(Guid agentId) => _settings.TryRemove(agentId, out _);

    async Task<AgentPlan?> CompileAsync(Guid versionId)
    {
        await using var scope = scopes.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<CurrentTenant>().EnterSystemScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var version = await db.AgentVersions.AsNoTracking()
            .Where(v => v.Id == versionId)
            .Select(v => new { v.Id, v.AgentId, v.OrganizationId, v.FlowJson })
            .FirstOrDefaultAsync();
        if (version is null)
        {
            return null;
        }
        var compiled = FlowEngine.Default.Compile(version.FlowJson, version.AgentId.ToString());
        return compiled.Plan is null
            ? null
            : new AgentPlan(version.Id, version.AgentId, version.OrganizationId, compiled.Plan,
                compiled.Report.RequiredCapabilities.Contains("chat_model"), compiled.Report.RequiredCapabilities.Contains("documents"));
    }
}
