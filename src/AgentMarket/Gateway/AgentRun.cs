using AgentMarket.Flows.Execution;
using AgentMarket.Platform.Data;
using AgentMarket.Platform.Errors;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace AgentMarket.Gateway;

public enum AgentRunStatus
{
    Running,
    Succeeded,
    Failed,
}

/// <summary>
/// Error codes of runs refused before the engine started (no credits, the flow or the knowledge base gone). They are
/// recorded, so an <c>Idempotency-Key</c> retry finds them, but they are not runs the buyer made: usage counts them
/// apart, and social proof and the seller's figures leave them out. The plan's and the key's limits refuse a run before
/// it is even prepared; those are recorded only for doors that accepted the request before running it (the Langflow
/// webhook's 202), whose callers hear of a refusal nowhere else.
/// </summary>
public static class RunRefusals
{
    public const string AgentUnavailable = "agent_unavailable";
    public const string KnowledgeBaseUnavailable = "knowledge_base_unavailable";
    public const string SessionLimit = "session_limit";
    public const string SubscriptionPastDue = "subscription_past_due";
    public const string SessionCreditCap = "session_credit_cap";
    public const string BudgetExceeded = "budget_exceeded";

    public static readonly string[] Codes =
    [
        ProblemCodes.InsufficientCredits, AgentUnavailable, KnowledgeBaseUnavailable,
        SessionLimit, SubscriptionPastDue, SessionCreditCap, BudgetExceeded, ProblemCodes.RateLimited, ProblemCodes.OrganizationSuspended,
    ];
}

/// <summary>
/// The record of one run through the gateway (SPEC §7 metering): who ran what, through which key and session, how it
/// ended, tokens, latency and credits. Buyers' usage, sellers' analytics and idempotent replays read it.
/// </summary>
public sealed class AgentRun : ITenantOwned
{
    public Guid Id { get; init; } = Guid.CreateVersion7();
    public Guid OrganizationId { get; init; }
    /// <summary>The subscription; null for playground runs of visitors and non-subscribers.</summary>
    public Guid? ConfigId { get; init; }
    public Guid ListingId { get; init; }
    public Guid AgentVersionId { get; init; }
    public Guid? ProviderId { get; init; }
    public Guid? KeyId { get; init; }
    public Guid? UserId { get; init; }
    public required string SessionId { get; init; }

    /// <summary>The caller's <c>Idempotency-Key</c>, unique per subscription: a retry returns this run's result.</summary>
    public string? IdempotencyKey { get; init; }

    /// <summary>
    /// <see cref="GatewayRequest.Fingerprint"/> of the request that claimed <see cref="IdempotencyKey"/>: a retry with
    /// another one is refused. Null without a key, and for runs claimed before schema 0030 (they replay to any retry).
    /// </summary>
    public string? RequestHash { get; init; }
    public required string Door { get; init; }

    /// <summary>
    /// A playground try on the free allowance (a visitor's, or a member's of an agent they do not pay per run): the
    /// platform's marketing, not use, so it is not social proof (ADR-156). Tries paid from credits are not trials.
    /// </summary>
    public bool Trial { get; init; }
    public AgentRunStatus Status { get; set; }
    public string? ErrorCode { get; set; }
    public string? Output { get; set; }
    public long InputTokens { get; set; }
    public long OutputTokens { get; set; }

    /// <summary>
    /// Whether <see cref="InputTokens"/> and <see cref="OutputTokens"/> are the model endpoint's own figures, or were held
    /// to what the text can hold or estimated because it reported none (ADR-164, ADR-172). Null when the engine did not
    /// run on the platform (refused runs, runs a provider reports) and for runs recorded before schema 0050.
    /// </summary>
    public UsageSource? UsageSource { get; set; }
    public string? Model { get; set; }
    public long CreditsReserved { get; set; }
    public long CreditsCharged { get; set; }

    /// <summary>Wall time of the engine run, and of the whole request as the gateway saw it.</summary>
    public int EngineMs { get; set; }
    public int LatencyMs { get; set; }
    public DateTime StartedUtc { get; init; }
    public DateTime? FinishedUtc { get; set; }
    public DateOnly Day { get; init; }

    /// <summary>A copy without the output, which can be long and which no figure derived from runs reads.</summary>
    public AgentRun WithoutOutput()
    {
        var copy = (AgentRun)MemberwiseClone();
        copy.Output = null;
        return copy;
    }
}

sealed class AgentRunConfiguration : IEntityTypeConfiguration<AgentRun>
{
    public void Configure(EntityTypeBuilder<AgentRun> e)
    {
        e.ToTable("agent_runs");
        e.Property(x => x.SessionId).HasMaxLength(200);
        e.Property(x => x.IdempotencyKey).HasMaxLength(200);
        e.Property(x => x.RequestHash).HasMaxLength(64);
        e.Property(x => x.Door).HasMaxLength(20);
        e.Property(x => x.Trial).HasDefaultValue(false);
        e.Property(x => x.ErrorCode).HasMaxLength(60);
        e.Property(x => x.Output).HasMaxLength(1_000_000);
        e.Property(x => x.Model).HasMaxLength(100);
        e.HasIndex(x => new { x.ConfigId, x.IdempotencyKey }).IsUnique();
        e.HasIndex(x => new { x.OrganizationId, x.Day });
        e.HasIndex(x => new { x.ConfigId, x.Day });
        // The interrupted-run sweeper's: a handful of running records among millions of finished ones.
        e.HasIndex(x => x.StartedUtc).HasFilter("status = 'running'");
    }
}
