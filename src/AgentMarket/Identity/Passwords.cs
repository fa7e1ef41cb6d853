using AgentMarket.Audit;
using AgentMarket.Platform.Auth;
using AgentMarket.Platform.Data;
using AgentMarket.Platform.Errors;
using AgentMarket.Platform.Mail;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace AgentMarket.Identity;

/// <summary>A "forgot your password" link: single use, short-lived; only the hash of its secret is stored.</summary>
public sealed class PasswordResetToken
{
    public Guid Id { get; init; } = Guid.CreateVersion7();
    public Guid UserId { get; init; }
    public required string TokenHash { get; init; }
    public DateTime CreatedUtc { get; init; }
    public DateTime ExpiresUtc { get; init; }

    /// <summary>When the link was used, or replaced by a newer one.</summary>
    public DateTime? UsedUtc { get; set; }
}

sealed class PasswordResetTokenConfiguration : IEntityTypeConfiguration<PasswordResetToken>
{
    public void Configure(EntityTypeBuilder<PasswordResetToken> e)
    {
        e.ToTable("password_reset_tokens");
        e.Property(x => x.TokenHash).HasMaxLength(64);
        e.HasOne<User>().WithMany().HasForeignKey(x => x.UserId).OnDelete(DeleteBehavior.Cascade);
        e.HasIndex(x => x.TokenHash).IsUnique();
        e.HasIndex(x => new { x.UserId, x.CreatedUtc });
    }
}

/// <summary>
/// Resetting a forgotten password through an emailed link, and changing a known one. Either gives the user a new
/// security stamp, which signs out every session of theirs started before (<see cref="SessionStamps"/>).
/// </summary>
public sealed class Passwords(AppDbContext db, Accounts accounts, IPasswordHasher<User> hasher, SessionStamps stamps, TimeProvider clock, AuditLog audit)
{
    public const string TokenPrefix = "am_pwr_";
    public static readonly TimeSpan LinkLifetime = TimeSpan.FromHours(1);

    // One email a minute per account, however often the form is sent: the link is not a way to flood a mailbox.
    static readonly TimeSpan MinimumInterval = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Emails a reset link when an account has this address. The caller learns nothing either way (no account
    /// enumeration); an account signing in only through SSO gets a link too, to set a password.
    /// </summary>
    public async Task RequestResetAsync(string? email, string baseUrl, CancellationToken ct)
    {
        var normalized = User.NormalizeEmail(email ?? "");
        var user = await db.Users.AsNoTracking().FirstOrDefaultAsync(u => u.Email == normalized, ct);
        if (user is null)
        {
            return;
        }
        var now = clock.GetUtcNow().UtcDateTime;
        if (await db.PasswordResetTokens.AnyAsync(t => t.UserId == user.Id && t.CreatedUtc > now - MinimumInterval, ct))
        {
            return;
        }
        // Only the latest link works.
        await db.PasswordResetTokens.Where(t => t.UserId == user.Id && t.UsedUtc == null).ExecuteUpdateAsync(s => s.SetProperty(t => t.UsedUtc, now), ct);
        var secret = SecretToken.Generate(TokenPrefix);
        db.PasswordResetTokens.Add(new PasswordResetToken { UserId = user.Id, TokenHash = SecretToken.Hash(secret), CreatedUtc = now, ExpiresUtc = now + LinkLifetime });
        db.OutboxEmails.Add(new OutboxEmail
        {
            Recipient = user.Email,
            Subject = "Reset your password",
            Body = $"Someone asked to reset the password of your account {user.Email}.\n\nChoose a new password: {baseUrl}/reset-password?token={secret}\n\n" +
                   $"The link works once, for {LinkLifetime.TotalMinutes:0} minutes. If you did not ask for it, ignore this email: your password stays as it is.",
            CreatedUtc = now,
            ExpiresUtc = now + LinkLifetime,
        });
        audit.Record(AuditActions.PasswordResetRequested, null, "user", user.Id, actorUserId: user.Id, actorEmail: user.Email);
        await db.SaveChangesAsync(ct);
    }

    /// <summary>Sets a new password with a reset link's secret, which then stops working.</summary>
    public async Task<Accounts.Failure?> ResetAsync(string? token, string? newPassword, CancellationToken ct)
    {
        var invalid = new Accounts.Failure(StatusCodes.Status400BadRequest, ProblemCodes.PasswordResetInvalid,
            "This reset link does not work: it was used or replaced by a newer one, or it has expired. Ask for a new one.");
        if (string.IsNullOrEmpty(token) || !SecretToken.IsWellFormed(token, TokenPrefix))
        {
            return invalid;
        }
        if (accounts.ValidatePassword(newPassword) is { } weak)
        {
            return weak;
        }
        var hash = SecretToken.Hash(token);
        var now = clock.GetUtcNow().UtcDateTime;
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        var reset = await db.PasswordResetTokens.AsNoTracking().FirstOrDefaultAsync(t => t.TokenHash == hash && t.UsedUtc == null && t.ExpiresUtc > now, ct);
        // Used by one request only, even when two arrive together.
        if (reset is null || await db.PasswordResetTokens.Where(t => t.Id == reset.Id && t.UsedUtc == null).ExecuteUpdateAsync(s => s.SetProperty(t => t.UsedUtc, now), ct) != 1)
        {
            return invalid;
        }
        var user = await db.Users.SingleAsync(u => u.Id == reset.UserId, ct);
        SetPassword(user, newPassword!);
        // A reset proves the mailbox, so it also lifts a lockout.
        user.FailedSignInCount = 0;
        user.LockedOutUntilUtc = null;
        audit.Record(AuditActions.PasswordReset, null, "user", user.Id, actorUserId: user.Id, actorEmail: user.Email);
        await db.SaveChangesAsync(ct);
        await transaction.CommitAsync(ct);
        stamps.Forget(user.Id);
        return null;
    }

    /// <summary>Changes the signed-in user's password, checking the current one as a sign-in does (failures count toward a lockout).</summary>
    public async Task<(User? User, Accounts.Failure? Failure)> ChangeAsync(Guid userId, string? currentPassword, string? newPassword, CancellationToken ct)
    {
        var email = await db.Users.Where(u => u.Id == userId).Select(u => u.Email).SingleAsync(ct);
        if (accounts.ValidatePassword(newPassword) is { } weak)
        {
            return (null, weak with { Field = "new_password" });
        }
        var (user, failure) = await accounts.VerifyPasswordAsync(email, currentPassword ?? "", ct);
        if (failure is not null)
        {
            return (null, failure);
        }
        SetPassword(user!, newPassword!);
        audit.Record(AuditActions.PasswordChanged, null, "user", user!.Id, actorUserId: user.Id, actorEmail: user.Email);
        await db.SaveChangesAsync(ct);
        stamps.Forget(user.Id);
        return (user, null);
    }

    void SetPassword(User user, string password)
    {
        user.PasswordHash = hasher.HashPassword(user, password);
        user.SecurityStamp = Guid.NewGuid();
    }
}
