using System.Security.Cryptography;
using AgentMarket.Catalog;
using AgentMarket.Flows;
using AgentMarket.Flows.Validation;
using AgentMarket.Identity;
using AgentMarket.Platform.Data;
using AgentMarket.Platform.Errors;
using AgentMarket.Platform.Tenancy;
using AgentMarket.Providers.Configuration;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace AgentMarket.Providers.Agents;

public sealed record VersionResponse(
    Guid Uuid, string Version, string Changelog, bool Current, string? FlowName, string? FileName, int SizeBytes, string Sha256, DateTime Created);

/// <summary>
/// Imports flows as immutable versions, only when the engine's compatibility report says they run (SPEC §5), and
/// switches the version an agent (and its listing) serves: the newest import, or an earlier one on rollback.
/// </summary>
public sealed class AgentVersions(AppDbContext db, CurrentTenant tenant, ProviderAgents agents, IOptionsMonitor<MarketplaceOptions> options, Platform.Ui.UploadLimits uploads, TimeProvider clock)
{
    public const int MaxChangelogLength = 4000;

    /// <param name="MissingFields">The keys of declared fields the refused flow lacks (<see cref="CatalogProblemCodes.DeclaredFieldsMissing"/>).</param>
    public sealed record ImportResult(AgentVersion? Version, CompatibilityReport? Report, Accounts.Failure? Failure, IReadOnlyList<string>? MissingFields = null);

    /// <summary>Issue code of the platform's own limit on flow size, added to the engine's report.</summary>
    public const string TooManyNodes = "too_many_nodes";

    /// <summary>Issue code of a flow without a single component.</summary>
    public const string EmptyFlow = "empty_flow";

    /// <summary>
    /// The engine's report on an export, with the platform's limits applied: a file over the size limit is reported
    /// without being parsed, and a flow with more nodes than allowed is not runnable here. Never throws.
    /// </summary>
    public CompatibilityReport Validate(ReadOnlyMemory<byte> flow)
    {
        var limit = uploads.For(Platform.Ui.UploadKind.Flow);
        if (flow.Length > limit.MaxBytes)
        {
            return new CompatibilityReport
            {
                Runnable = false,
                Format = "unreadable",
                Issues = [new ReportIssue(IssueSeverity.Error, IssueCodes.FlowTooLarge, limit.TooLarge)],
            };
        }
        var report = FlowEngine.Default.Validate(flow);
        if (report.Runnable && report.Nodes.Length == 0)
        {
            // Langflow refuses it too ("Flow must have nodes"): a run of it could only ever answer nothing.
            return report with
            {
                Runnable = false,
                Issues = [new ReportIssue(IssueSeverity.Error, EmptyFlow, "The flow has no components: add at least a chat input and a chat output."), .. report.Issues],
            };
        }
        var maxNodes = options.CurrentValue.MaxFlowNodes;
        return report.Nodes.Length <= maxNodes
            ? report
            : report with
            {
                Runnable = false,
                Issues = [new ReportIssue(IssueSeverity.Error, TooManyNodes, $"The flow has {report.Nodes.Length:N0} nodes; agents here can have at most {maxNodes:N0}."), .. report.Issues],
            };
    }

    /// <summary>
    /// Stores <paramref name="flow"/> byte for byte as a new version and makes it current. The version is
    /// <paramref name="version"/> when given (it must be newer than every existing one), else the next minor release.
    /// A flow without a field that buyers set through a declared configurable field (its node renamed or removed) is
    /// refused, since their settings would silently stop reaching it, unless <paramref name="dropMissingFields"/> says to
    /// remove those declarations with the import.
    /// </summary>
    public async Task<ImportResult> ImportAsync(Guid agentId, byte[] flow, string? fileName, string? version, string? changelog, CancellationToken ct,
        bool dropMissingFields = false)
    {
        var agent = await db.ProviderAgents.FirstOrDefaultAsync(a => a.Id == agentId, ct);
        if (agent is null)
        {
            return new(null, null, ProviderAgents.NotFound());
        }
        if (agent.State == ProviderAgentState.Archived)
        {
            return new(null, null, ProviderAgents.Archived());
        }
        if (await agents.FrozenAsync(agent, ct) is { } frozen)
        {
            return new(null, null, frozen);
        }
        if (uploads.For(Platform.Ui.UploadKind.Flow) is var flowLimit && flow.Length > flowLimit.MaxBytes)
        {
            return new(null, null, new Accounts.Failure(StatusCodes.Status413PayloadTooLarge, ProblemCodes.PayloadTooLarge, flowLimit.TooLarge));
        }
        if (changelog is { Length: > MaxChangelogLength })
        {
            return new(null, null, Invalid("changelog", $"Keep the changelog under {MaxChangelogLength:N0} characters."));
        }
        var latest = await LatestAsync(agentId, ct);
        SemanticVersion next;
        if (string.IsNullOrWhiteSpace(version))
        {
            next = latest?.NextMinor() ?? SemanticVersion.First;
        }
        else if (!SemanticVersion.TryParse(version, out next))
        {
            return new(null, null, Invalid("version", "Use a semantic version such as 1.2.0 (MAJOR.MINOR.PATCH)."));
        }
        if (latest is { } newest && next <= newest)
        {
            return new(null, null, NotNewer(newest));
        }
        var report = Validate(flow);
        if (!report.Runnable)
        {
            return new(null, report, new Accounts.Failure(StatusCodes.Status422UnprocessableEntity, CatalogProblemCodes.FlowNotRunnable,
                "This flow cannot run here yet; the report lists what to change."));
        }
        var candidates = FlowFields.Candidates(flow);
        var missing = (await db.ConfigurableFields.Where(f => f.AgentId == agentId).OrderBy(f => f.SortOrder).ToListAsync(ct))
            .Where(f => !candidates.Any(c => c.NodeId == f.NodeId && c.FieldName == f.FieldName))
            .ToList();
        if (missing.Count > 0 && !dropMissingFields)
        {
            var named = string.Join(", ", missing.Select(f => $"“{f.Label}” ({f.FieldName} of {f.NodeId})"));
            return new(null, report, new Accounts.Failure(StatusCodes.Status409Conflict, CatalogProblemCodes.DeclaredFieldsMissing,
                $"This flow has no field for what buyers configure as {named}: their settings would no longer reach it. Keep those nodes " +
                "in the flow, or import it removing these configurable fields (buyers' values for them stop applying to every version)."),
                missing.ConvertAll(f => f.Key));
        }
        var created = new AgentVersion
        {
            OrganizationId = agent.OrganizationId,
            AgentId = agentId,
            Version = next.ToString(),
            Major = next.Major,
            Minor = next.Minor,
            Patch = next.Patch,
            Changelog = changelog?.Trim() ?? "",
            FlowJson = flow,
            FlowSha256 = Convert.ToHexStringLower(SHA256.HashData(flow)),
            FlowFileName = fileName is null ? null : Path.GetFileName(fileName)[..Math.Min(Path.GetFileName(fileName).Length, 255)],
            FlowSizeBytes = flow.Length,
            ReportJson = report.ToJson(indented: false),
            CreatedUtc = clock.GetUtcNow().UtcDateTime,
            CreatedByUserId = tenant.UserId,
        };
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        db.AgentVersions.Add(created);
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException)
        {
            // A concurrent import took this version number.
            return new(null, null, NotNewer(next));
        }
        db.ConfigurableFields.RemoveRange(missing);
        await MakeCurrentAsync(agent, created, ct);
        await transaction.CommitAsync(ct);
        return new(created, report, null);
    }

    /// <summary>Makes an earlier (or any existing) version current at once: new runs and the listing use it.</summary>
    public async Task<(AgentVersion? Version, Accounts.Failure? Failure)> RollbackAsync(Guid agentId, string? version, CancellationToken ct)
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
        if (await agents.FrozenAsync(agent, ct) is { } frozen)
        {
            return (null, frozen);
        }
        if (!SemanticVersion.TryParse(version, out var wanted))
        {
            return (null, Invalid("version", "Name the version to serve, such as 1.0.0."));
        }
        var target = await db.AgentVersions.FirstOrDefaultAsync(
            v => v.AgentId == agentId && v.Major == wanted.Major && v.Minor == wanted.Minor && v.Patch == wanted.Patch, ct);
        if (target is null)
        {
            return (null, new Accounts.Failure(StatusCodes.Status404NotFound, ProblemCodes.NotFound, $"This agent has no version {wanted}."));
        }
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        await MakeCurrentAsync(agent, target, ct);
        await transaction.CommitAsync(ct);
        return (target, null);
    }

    /// <summary>Points the agent and its listing (if any) at <paramref name="version"/>, publishing its release notes.</summary>
    public async Task MakeCurrentAsync(ProviderAgent agent, AgentVersion version, CancellationToken ct)
    {
        agent.CurrentVersionId = version.Id;
        agent.UpdatedUtc = clock.GetUtcNow().UtcDateTime;
        if (await db.Listings.FirstOrDefaultAsync(l => l.AgentId == agent.Id, ct) is { } listing)
        {
            await ServeAsync(listing, version, ct);
        }
        await db.SaveChangesAsync(ct);
    }

    /// <summary>Makes the listing serve the version; its release notes become public the first time.</summary>
    public async Task ServeAsync(Listing listing, AgentVersion version, CancellationToken ct)
    {
        listing.AgentVersionId = version.Id;
        if (!await db.ListingReleases.AnyAsync(r => r.ListingId == listing.Id && r.AgentVersionId == version.Id, ct))
        {
            db.ListingReleases.Add(new ListingRelease
            {
                ListingId = listing.Id,
                AgentVersionId = version.Id,
                Version = version.Version,
                Major = version.Major,
                Minor = version.Minor,
                Patch = version.Patch,
                Changelog = version.Changelog,
                ReleasedUtc = clock.GetUtcNow().UtcDateTime,
            });
        }
    }

    /// <summary>The agent's versions, newest first, without their flows; null when the organization has no such agent.</summary>
    public async Task<List<VersionResponse>?> ListAsync(Guid agentId, CancellationToken ct)
    {
        var agent = await db.ProviderAgents.AsNoTracking().Where(a => a.Id == agentId).Select(a => new { a.CurrentVersionId }).FirstOrDefaultAsync(ct);
        if (agent is null)
        {
            return null;
        }
        var currentVersionId = agent.CurrentVersionId;
        var versions = await db.AgentVersions.AsNoTracking().Where(v => v.AgentId == agentId)
            .OrderByDescending(v => v.Major).ThenByDescending(v => v.Minor).ThenByDescending(v => v.Patch)
            .Select(v => new { v.Id, v.Version, v.Changelog, v.FlowFileName, v.FlowSizeBytes, v.FlowSha256, v.CreatedUtc, v.ReportJson })
            .ToListAsync(ct);
        return versions.ConvertAll(v => new VersionResponse(v.Id, v.Version, v.Changelog, v.Id == currentVersionId,
            CompatibilityReport.FromJson(v.ReportJson)?.FlowName, v.FlowFileName, v.FlowSizeBytes, v.FlowSha256, v.CreatedUtc));
    }

    async Task<SemanticVersion?> LatestAsync(Guid agentId, CancellationToken ct)
    {
        var latest = await db.AgentVersions.Where(v => v.AgentId == agentId)
            .OrderByDescending(v => v.Major).ThenByDescending(v => v.Minor).ThenByDescending(v => v.Patch)
            .Select(v => new { v.Major, v.Minor, v.Patch }).FirstOrDefaultAsync(ct);
        return latest is null ? null : new SemanticVersion(latest.Major, latest.Minor, latest.Patch);
    }

    static Accounts.Failure Invalid(string field, string message) => new(StatusCodes.Status400BadRequest, ProblemCodes.ValidationFailed, message, field);

    static Accounts.Failure NotNewer(SemanticVersion newest) =>
        new(StatusCodes.Status409Conflict, CatalogProblemCodes.VersionNotNewer, $"Versions only move forward: use a version above {newest}.");
}
