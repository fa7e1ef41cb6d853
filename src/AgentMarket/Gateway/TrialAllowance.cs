using System.Security.Cryptography;
using System.Text;
using AgentMarket.Platform;
using AgentMarket.Platform.Data;
using AgentMarket.Platform.Security;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Microsoft.Extensions.Options;

namespace AgentMarket.Gateway;

/// <summary>
/// How many playground runs one visitor, or one client address, made of one agent on one UTC day. Both are stored only
/// as a keyed hash (ADR-161); an address's hash is of <c>address:</c> and the address, so it never meets a visitor's.
/// Kept for <see cref="TrialAllowance.RetentionDays"/> days.
/// </summary>
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
        e.HasIndex(x => x.Day); // how TrialPruner finds past days
    }
}

/// <summary>What the promotions account set aside for one agent's tries on one UTC day (ADR-156).</summary>
public sealed class TrialPromotion
{
    public Guid ListingId { get; init; }
    public DateOnly Day { get; init; }
    public long Credits { get; init; }
}

sealed class TrialPromotionConfiguration : IEntityTypeConfiguration<TrialPromotion>
{
    public void Configure(EntityTypeBuilder<TrialPromotion> e)
    {
        e.ToTable("trial_promotions");
        e.HasKey(x => new { x.ListingId, x.Day });
    }
}

/// <summary>A try the allowance let through: the visitor's runs left today, and what the promotions account set aside for it.</summary>
sealed record TrialGrant(int RunsLeft, long PromotionCredits, DateOnly Day);

/// <summary>
/// The free allowance of the agent page's playground (SPEC §6, ADR-156): <c>Gateway:TrialRunsPerDay</c> runs per agent
/// per visitor and <c>Gateway:TrialRunsPerAddressPerDay</c> per client address, per UTC day; and what the promotions
/// account pays for one agent's tries, at most <c>Gateway:TrialCreditsPerListingPerDay</c> a day. A visitor is only a
/// cookie, which a script need not keep, so the address bounds the tries and the daily budget bounds the money.
/// Each count is taken with a conditional upsert, in one transaction, so parallel tries can never exceed any of them.
/// </summary>
sealed class TrialAllowance(AppDbContext db, DatabaseConnection database, IOptions<GatewayOptions> options, TimeProvider clock, KeyEncryptionKey keys)
{
    /// <summary>How many days before today a day's counts are kept: past them no allowance or budget reads them (ADR-161).</summary>
    public const int RetentionDays = 2;

    // Renaming the purpose changes every hash, which resets that day's allowances once.
    const string HashPurpose = "AgentMarket.Gateway.TrialUsage.v1";

    /// <summary>
    /// The key of the visitors' and addresses' hashes. A plain SHA-256 of an IPv4 address is reversed by hashing all 2^32;
    /// keyed with a key derived from the key-encryption key, which is kept outside the database, a dump alone reveals none.
    /// </summary>
    readonly byte[] _hashKey = keys.Derive(HashPurpose);

    /// <summary>
    /// Takes one run of the visitor's and of the address's allowance, and <paramref name="promotionCredits"/> (the most the
    /// promotions account may pay for this try) of the agent's daily budget. Null when either allowance was used up; a
    /// grant of no credits when the budget was. Nothing is taken when the try is refused.
    /// </summary>
    public async Task<TrialGrant?> TakeAsync(string visitor, string address, Guid listing, long promotionCredits, CancellationToken ct)
    {
        var settings = options.Value;
        var day = DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime);
        // On SQLite the transaction waits its turn with the batch writers instead of in SQLite's busy handler.
        using var turn = await database.WriterTurnAsync();
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        if (await TakeRunAsync(Hash($"address:{address}"), listing, day, settings.TrialRunsPerAddressPerDay, ct) is null
            || await TakeRunAsync(Hash(visitor), listing, day, settings.TrialRunsPerDay, ct) is not { } runs)
        {
            return null; // disposing the transaction rolls back the run taken of the other allowance
        }
        var cap = settings.TrialCreditsPerListingPerDay;
        var funded = promotionCredits > 0 && promotionCredits <= cap && (await db.Database.SqlQuery<long>($"""
            INSERT INTO trial_promotions (listing_id, day, credits) VALUES ({listing}, {day}, {promotionCredits})
            ON CONFLICT (listing_id, day) DO UPDATE SET credits = trial_promotions.credits + {promotionCredits}
            WHERE trial_promotions.credits + {promotionCredits} <= {cap}
            RETURNING credits AS "Value"
            """).ToListAsync(ct)).Count == 1;
        await transaction.CommitAsync(ct);
        return new TrialGrant(settings.TrialRunsPerDay - runs, funded ? promotionCredits : 0, day);
    }

    /// <summary>Returns to the agent's budget of <paramref name="day"/> what a try set aside but did not pay (it failed, or cost less).</summary>
    public async Task GiveBackAsync(Guid listing, DateOnly day, long credits) =>
        await db.Database.ExecuteSqlAsync(
            $"UPDATE trial_promotions SET credits = credits - {credits} WHERE listing_id = {listing} AND day = {day}", CancellationToken.None);

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

    /// <summary>Counts one run against an allowance; returns the runs taken with it, or null when none was left.</summary>
    async Task<int?> TakeRunAsync(string hash, Guid listing, DateOnly day, int allowance, CancellationToken ct)
    {
        var runs = await db.Database.SqlQuery<int>($"""
            INSERT INTO trial_usages (id, visitor_hash, listing_id, day, runs) VALUES ({Guid.CreateVersion7()}, {hash}, {listing}, {day}, 1)
            ON CONFLICT (visitor_hash, listing_id, day) DO UPDATE SET runs = trial_usages.runs + 1 WHERE trial_usages.runs < {allowance}
            RETURNING runs AS "Value"
            """).ToListAsync(ct);
        // A first run inserts its row whatever the allowance; an allowance of none refuses it here.
        return runs is [var taken] && taken <= allowance ? taken : null;
    }

    /// <summary>
    /// Deletes the counts and budgets of days older than <see cref="RetentionDays"/>, at most <paramref name="batch"/> rows
    /// of each table; returns how many rows it deleted.
    /// </summary>
    public async Task<int> PruneAsync(int batch, CancellationToken ct)
    {
        var before = DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime).AddDays(-RetentionDays);
        using var turn = await database.WriterTurnAsync();
        var usages = await db.TrialUsages.Where(u => u.Day < before).OrderBy(u => u.Day).Take(batch).ExecuteDeleteAsync(ct);
        var promotions = await db.TrialPromotions.Where(p => p.Day < before).OrderBy(p => p.Day).Take(batch).ExecuteDeleteAsync(ct);
        return Math.Max(usages, promotions);
    }

    string Hash(string visitor) => Convert.ToHexStringLower(HMACSHA256.HashData(_hashKey, Encoding.UTF8.GetBytes(visitor)));
}

/// <summary>
/// Deletes the playground's per-day counts and budgets once no allowance reads them (ADR-161): without it
/// <c>trial_usages</c> grows by a row per visitor and per address per agent per day, for ever. Any number of instances
/// may run it; a row deleted twice is deleted once.
/// </summary>
sealed class TrialPruner(IServiceScopeFactory scopes, TimeProvider clock, ILogger<TrialPruner> logger) : PeriodicJob
{
    const int BatchSize = 1_000;

    protected override TimeSpan Interval => TimeSpan.FromHours(1);

    protected override TimeProvider Clock => clock;

    protected override string MetricName => "trial_pruning";

    protected override Task TickAsync(CancellationToken ct) => PruneAsync(ct);

    protected override void LogFailure(Exception exception) => logger.LogError(exception, "Pruning old trial counts failed; retrying next hour");

    /// <summary>Deletes every expired row, a batch at a time, each batch in its own short statement so tries are not held up.</summary>
    public Task PruneAsync(CancellationToken ct) => RepeatWhileFullAsync(BatchSize, async () =>
    {
        await using var scope = scopes.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<TrialAllowance>().PruneAsync(BatchSize, ct);
    });
}
