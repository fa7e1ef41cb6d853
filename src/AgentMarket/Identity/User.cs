using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace AgentMarket.Identity;

/// <summary>A person who signs in. Not tenant-owned: a user may belong to several organizations.</summary>
public sealed class User
{
    public Guid Id { get; init; } = Guid.CreateVersion7();

    /// <summary>Lower-cased and trimmed; unique.</summary>
    public required string Email { get; set; }
    public required string Name { get; set; }
    public string PasswordHash { get; set; } = "";
    public bool IsOperator { get; set; }
    public int FailedSignInCount { get; set; }
    public DateTime? LockedOutUntilUtc { get; set; }
    public DateTime CreatedUtc { get; init; }
    public DateTime? LastSignInUtc { get; set; }

    /// <summary>
    /// When the account last proved it reads <see cref="Email"/> (a used reset link, a confirmed email change or undo, a
    /// single sign-on whose provider verified it); null when the address was only typed at sign-up (ADR-151).
    /// </summary>
    public DateTime? EmailConfirmedUtc { get; set; }

    /// <summary>Changes when the password changes, so older sign-in cookies stop working.</summary>
    public Guid SecurityStamp { get; set; } = Guid.NewGuid();

    public static string NormalizeEmail(string email) => email.Trim().ToLowerInvariant();
}

sealed class UserConfiguration : IEntityTypeConfiguration<User>
{
    public void Configure(EntityTypeBuilder<User> e)
    {
        e.ToTable("users");
        e.Property(x => x.Email).HasMaxLength(254);
        e.Property(x => x.Name).HasMaxLength(200);
        e.Property(x => x.PasswordHash).HasMaxLength(200);
        e.HasIndex(x => x.Email).IsUnique();
        e.HasIndex(x => x.CreatedUtc); // sign-ups per day on the operator's platform metrics
    }
}
