using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace AgentMarket.Platform.Data;

/// <summary>
/// A named platform-wide counter (receipt numbers). Incremented with one atomic <c>UPDATE … RETURNING</c>, which both
/// databases serialise on the row, so concurrent callers never get the same number. Not tenant-owned by design.
/// </summary>
public sealed class Sequence
{
    public required string Name { get; init; }
    public long Value { get; init; }
}

sealed class SequenceConfiguration : IEntityTypeConfiguration<Sequence>
{
    public void Configure(EntityTypeBuilder<Sequence> e)
    {
        e.ToTable("sequences");
        e.HasKey(x => x.Name);
        e.Property(x => x.Name).HasMaxLength(40);
    }
}

public sealed partial class AppDbContext
{
    public DbSet<Sequence> Sequences => Set<Sequence>();

    /// <summary>The next value of a counter created by a migration script.</summary>
    public async Task<long> NextAsync(string sequence, CancellationToken ct)
    {
        var values = await Database.SqlQuery<long>($"UPDATE sequences SET value = value + 1 WHERE name = {sequence} RETURNING value AS \"Value\"").ToListAsync(ct);
        return values.Count == 1 ? values[0] : throw new InvalidOperationException($"Sequence '{sequence}' does not exist.");
    }
}
