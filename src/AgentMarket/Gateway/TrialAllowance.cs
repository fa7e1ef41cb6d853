using System.Security.Cryptography;
using System.Text;
using AgentMarket.Platform.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Microsoft.Extensions.Options;

namespace AgentMarket.Gateway;

/// <summary>How many playground runs a visitor made of one agent on one UTC day. The visitor is stored only as a hash.</summary>
public sealed class TrialUsage
{
    public Guid Id { get; init; } = Guid.CreateVersion7();
    public required string VisitorHash { get; init; }
    public Guid ListingId { get; init; }
    public DateOnly Day { get; init; }
    public int Runs { get; init; }
}

sealed class TrialUsageConfiguration : IEntityTypeConfiguration<TrialUsage>
{
    public void Configure(EntityTypeBuilder<TrialUsage> e)
    {
        e.ToTable("trial_usages");
        e.Property(x => x.VisitorHash).HasMaxLength(64);
        e.HasIndex(x => new { x.VisitorHash, x.ListingId, x.Day }).IsUnique();
    }
}

/// <summary>
/// The free allowance of the agent page's playground (SPEC §6): <c>Gateway:TrialRunsPerDay</c> runs per agent, per
/// visitor, per UTC day. Taken with one atomic upsert, so parallel clicks cannot exceed it.
/// </summary>
sealed class TrialAllowance(AppDbContext db, IOptions<GatewayOptions> options, TimeProvider clock)
{
    /// <summary>Takes one run of the allowance; returns the runs left after it, or null when none was left.</summary>
    public async Task<int?> TakeAsync(string visitor, Guid listing, CancellationToken ct)
    {
        var allowance = options.Value.TrialRunsPerDay;
        var hash = Hash(visitor);
        var day = DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime);
        var runs = await db.Database.SqlQuery<int>($"""
            INSERT INTO trial_usages (id, visitor_hash, listing_id, day, runs) VALUES ({Guid.CreateVersion7()}, {hash}, {listing}, {day}, 1)
            ON CONFLICT (visitor_hash, listing_id, day) DO UPDATE SET runs = trial_usages.runs + 1
            RETURNING runs AS "Value"
            """).ToListAsync(ct);
        return runs[0] <= allowance ? allowance - runs[0] : null;
    }

    /// <summary>The runs a visitor has left today for one agent (the whole allowance for one never seen).</summary>
    public async Task<int> LeftAsync(string? visitor, Guid listing, CancellationToken ct)
    {
        var allowance = options.Value.TrialRunsPerDay;
        if (visitor is null)
        {
            return allowance;
        }
        var hash = Hash(visitor);
        var day = DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime);
        var used = await db.TrialUsages.AsNoTracking().Where(u => u.VisitorHash == hash && u.ListingId == listing && u.Day == day).Select(u => u.Runs).FirstOrDefaultAsync(ct);
        return Math.Max(0, allowance - used);
    }

    public TimeSpan UntilTomorrow()
    {
        var now = clock.GetUtcNow().UtcDateTime;
        return now.Date.AddDays(1) - now;
    }

    static string Hash(string visitor) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(visitor)));
}
