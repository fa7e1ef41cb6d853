using AgentMarket.Flows;
using AgentMarket.Flows.Compilation;
using AgentMarket.Platform.Data;
using AgentMarket.Platform.Tenancy;
using AgentMarket.Providers.Configuration;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Caching.Memory;

namespace AgentMarket.Runtime;

/// <summary>A version's compiled flow and what the gateway needs to run it for a buyer.</summary>
/// <param name="ReadsDocuments">The flow has File nodes, which read the run's knowledge bases (ADR-137).</param>
public sealed record AgentPlan(Guid VersionId, Guid AgentId, Guid ProviderOrganizationId, ExecutionPlan Plan, bool NeedsModel, bool ReadsDocuments);

/// <summary>What a provider may change on an agent without a new version: the buyer fields and its knowledge base.</summary>
/// <param name="BuyerModelEndpointsAllowed">Whether a buyer's own model endpoint may receive the agent's model calls (ADR-138).</param>
public sealed record AgentSettings(IReadOnlyList<ConfigurableField> Fields, Guid? KnowledgeBaseId, bool BuyerModelEndpointsAllowed = true);

/// <summary>
/// Compiles each agent version once and keeps the plan (versions are immutable, so a plan never goes stale), and caches
/// each agent's settings (declared buyer fields, knowledge base) briefly. Both are bounded (ADR-164): every version ever
/// run and every agent would otherwise stay in memory until the process restarts. A plan unused for
/// <see cref="PlanIdle"/>, or the least recently used when <see cref="PlanCapacity"/> are kept, is compiled again when
/// next needed. Versions and fields belong to the provider's organization while runs act for buyers, so this is the one
/// place the runtime reads them: by the id the buyer's subscription points to, in its own system scope, never through
/// the buyer's request scope.
/// </summary>
sealed class AgentPlans(IServiceScopeFactory scopes, TimeProvider clock) : IDisposable
{
    internal const int PlanCapacity = 512;
    internal const int SettingsCapacity = 1024;
    static readonly TimeSpan PlanIdle = TimeSpan.FromHours(1);
    static readonly TimeSpan SettingsLifetime = TimeSpan.FromSeconds(30);

    readonly MemoryCache _plans = new(new MemoryCacheOptions { SizeLimit = PlanCapacity });
    readonly MemoryCache _settings = new(new MemoryCacheOptions { SizeLimit = SettingsCapacity });

    /// <summary>Makes looking up and adding a version's compile one step, so concurrent first runs compile it once.</summary>
    readonly Lock _compiles = new();

    /// <summary>How many compiled plans and agents' settings are kept now.</summary>
    internal (int Plans, int Settings) Count => (_plans.Count, _settings.Count);

    /// <summary>The compiled plan of a version, or null when the version does not exist or cannot run.</summary>
    public async Task<AgentPlan?> GetAsync(Guid versionId)
    {
        Lazy<Task<AgentPlan?>> lazy;
        lock (_compiles)
        {
            lazy = _plans.TryGetValue(versionId, out Lazy<Task<AgentPlan?>>? cached) && cached is not null
                ? cached
                : _plans.Set(versionId, new Lazy<Task<AgentPlan?>>(() => CompileAsync(versionId)), new MemoryCacheEntryOptions { Size = 1, SlidingExpiration = PlanIdle });
        }
        AgentPlan? plan;
        try
        {
            plan = await lazy.Value;
        }
        catch (Exception)
        {
            // Nor a failure (the database went away for a moment): a cached faulted task would fail every run of the
            // version until the process restarts. Only this attempt is forgotten, not one a concurrent caller started since.
            ForgetCompile(versionId, lazy);
            throw;
        }
        if (plan is null)
        {
            ForgetCompile(versionId, lazy); // do not remember a miss: the version may be imported later
        }
        return plan;
    }

    void ForgetCompile(Guid versionId, Lazy<Task<AgentPlan?>> attempt)
    {
        lock (_compiles)
        {
            if (_plans.TryGetValue(versionId, out Lazy<Task<AgentPlan?>>? current) && ReferenceEquals(current, attempt))
            {
                _plans.Remove(versionId);
            }
        }
    }

    /// <summary>
    /// The agent's settings, at most 30 seconds old when changed on another replica; a change saved on this node is
    /// seen at once (<see cref="Forget"/>, called by the gateway's cache invalidation).
    /// </summary>
    public async Task<AgentSettings> SettingsAsync(Guid agentId, CancellationToken ct)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        if (_settings.TryGetValue(agentId, out (DateTime LoadedUtc, AgentSettings Settings) cached) && now - cached.LoadedUtc < SettingsLifetime)
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
        // The lifetime is checked on the platform's clock above; the cache's own expiry only frees the memory.
        _settings.Set(agentId, (now, settings), new MemoryCacheEntryOptions { Size = 1, AbsoluteExpirationRelativeToNow = SettingsLifetime });
        return settings;
    }

    /// <summary>Forgets an agent's cached settings (the provider changed them on this node).</summary>
    public void Forget(Guid agentId) => _settings.Remove(agentId);

    public void Dispose()
    {
        _plans.Dispose();
        _settings.Dispose();
    }

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
