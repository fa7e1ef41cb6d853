using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace AgentMarket.Identity;

/// <summary>A user's token for scripts (<c>Authorization: Bearer am_pat_…</c>). Only the SHA-256 of the secret is stored.</summary>
public sealed class PersonalAccessToken
{
    public Guid Id { get; init; } = Guid.CreateVersion7();
    public Guid UserId { get; init; }
    public required string Name { get; init; }

    /// <summary>The first characters of the secret, shown in lists so a user can tell tokens apart.</summary>
    public required string Prefix { get; init; }
    public required string TokenHash { get; init; }
    public DateTime CreatedUtc { get; init; }
    public DateTime? ExpiresUtc { get; init; }
    public DateTime? LastUsedUtc { get; set; }
    public DateTime? RevokedUtc { get; set; }
}

sealed class PersonalAccessTokenConfiguration : IEntityTypeConfiguration<PersonalAccessToken>
{
    public void Configure(EntityTypeBuilder<PersonalAccessToken> e)
    {
        e.ToTable("personal_access_tokens");
        e.Property(x => x.Name).HasMaxLength(100);
        e.Property(x => x.Prefix).HasMaxLength(20);
        e.Property(x => x.TokenHash).HasMaxLength(64);
        e.HasOne<User>().WithMany().HasForeignKey(x => x.UserId).OnDelete(DeleteBehavior.Cascade);
        e.HasIndex(x => x.TokenHash).IsUnique();
        e.HasIndex(x => x.UserId);
    }
}
