using AgentMarket.Platform.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace AgentMarket.Catalog.SocialProof;

public enum RunOutcome
{
    Completed,
    Failed,
}

/// <summary>
/// One finished run of a listing's agent by a buyer organization (the tenant). The facts social proof is computed
/// from: the listing's counters follow these rows as runs finish, and a job recomputes them from here to repair drift.
/// The gateway writes them through <see cref="RunFacts"/>.
/// </summary>
public sealed class RunRecord : ITenantOwned
{
    public Guid Id { get; init; } = Guid.CreateVersion7();

    /// <summary>The buyer organization that ran the agent.</summary>
    public Guid OrganizationId { get; init; }
    public Guid ListingId { get; init; }
    public Guid? AgentVersionId { get; init; }
    public RunOutcome Outcome { get; init; }
    public DateTime StartedUtc { get; init; }
    public DateTime FinishedUtc { get; init; }

    /// <summary>The UTC day the run finished, for the daily statistics.</summary>
    public DateOnly Day { get; init; }
}

sealed class RunRecordConfiguration : IEntityTypeConfiguration<RunRecord>
{
    public void Configure(EntityTypeBuilder<RunRecord> e)
    {
        e.ToTable("run_records");
        e.HasOne<Listing>().WithMany().HasForeignKey(x => x.ListingId).OnDelete(DeleteBehavior.Cascade);
        e.HasIndex(x => new { x.ListingId, x.Outcome, x.FinishedUtc });
        e.HasIndex(x => new { x.OrganizationId, x.ListingId, x.Outcome });
    }
}
