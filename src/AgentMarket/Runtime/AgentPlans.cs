using System.Collections.Concurrent;
using AgentMarket.Flows;
using AgentMarket.Flows.Compilation;
using AgentMarket.Platform.Data;
using AgentMarket.Platform.Tenancy;
using AgentMarket.Providers.Configuration;
using Microsoft.EntityFrameworkCore;

namespace AgentMarket.Runtime;

/// <summary>A version's compiled flow and what the gateway needs to run it for a buyer.</summary>
public sealed record AgentPlan(Guid VersionId, Guid AgentId, Guid ProviderOrganizationId, ExecutionPlan Plan, bool NeedsModel);

/// <summary>
/// Compiles each agent version once per process and keeps the plan (versions are immutable, so a plan never goes stale),
/// and caches each agent's declared buyer fields briefly. Versions and fields belong to the provider's organization while
/// runs act for buyers, so this is the one place the runtime reads them: by the id the buyer's subscription points to,
/// in its own system scope, never through the buyer's request scope.
/// </summary>
sealed class AgentPlans(IServiceScopeFactory scopes, TimeProvider clock)
{
    static readonly TimeSpan FieldsLifetime = TimeSpan.FromSeconds(30);

    readonly ConcurrentDictionary<Guid, Lazy<Task<AgentPlan?>>> _plans = new();
    readonly ConcurrentDictionary<Guid, (DateTime LoadedUtc, IReadOnlyList<ConfigurableField> Fields)> _fields = new();

    /// <summary>The compiled plan of a version, or null when the version does not exist or cannot run.</summary>
    public async Task<AgentPlan?> GetAsync(Guid versionId)
    {
        var lazy = _plans.GetOrAdd(versionId, id => new Lazy<Task<AgentPlan?>>(() => CompileAsync(id)));
        var plan = await lazy.Value;
        if (plan is null)
        {
            _plans.TryRemove(versionId, out _); // do not remember a miss: the version may be imported later
        }
        return plan;
    }

    /// <summary>The agent's declared buyer fields (at most 30 seconds old).</summary>
    public async Task<IReadOnlyList<ConfigurableField>> FieldsAsync(Guid agentId, CancellationToken ct)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        if (_fields.TryGetValue(agentId, out var cached) && now - cached.LoadedUtc < FieldsLifetime)
        {
            return cached.Fields;
        }
        await using var scope = scopes.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<CurrentTenant>().EnterSystemScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var fields = await db.ConfigurableFields.AsNoTracking().Where(f => f.AgentId == agentId).OrderBy(f => f.SortOrder).ToListAsync(ct);
        _fields[agentId] = (now, fields);
        return fields;
    }

    /// <summary>Forgets an agent's cached fields (the provider changed them on this node).</summary>
    public void ForgetFields(Guid agentId) => _fields.TryRemove(agentId, out _);

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
                compiled.Report.RequiredCapabilities.Contains("chat_model"));
    }
}
