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
public sealed class PasswordResetToken : IEmailedLink
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
/// security stamp, which signs out every session of theirs started before (<see cref="SessionStamps"/>), marks those
/// sessions ended (but the one that changed it), ends their other pending links (and email changes), and emails them that
/// the password changed. A reset also revokes their personal access tokens (ADR-151) and proves their address.
/// </summary>
public sealed class Passwords(
    AppDbContext db, Accounts accounts, IPasswordHasher<User> hasher, SessionStamps stamps, UserSessions sessions, SignInThrottle throttle,
    IConfiguration configuration, IHostEnvironment environment, TimeProvider clock, AuditLog audit, ILogger<Passwords> logger)
{
    public const string TokenPrefix = "am_pwr_";
    public static readonly TimeSpan LinkLifetime = TimeSpan.FromHours(1);

    /// <summary>
    /// Emails a reset link when an account has this address; the answer is the same either way. The link's address is
    /// <c>Marketplace:PublicUrl</c>: taken from the request, an attacker's <c>Host</c> header would make us email a
    /// victim a genuine link to the attacker's site. Only in Development, without it, the request's address is used.
    /// An account that signs in only through an enabled identity provider is told to use it instead.
    /// </summary>
    public async Task RequestResetAsync(string? email, string requestBaseUrl, CancellationToken ct)
    {
        var baseUrl = Platform.Ui.PublicAddress.ForEmails(configuration, environment, requestBaseUrl);
        if (baseUrl is null)
        {
            logger.LogWarning("A password reset was asked for, but Marketplace:PublicUrl is not set: reset links are sent only to the configured public address.");
            return;
        }
        var normalized = User.NormalizeEmail(email ?? "");
        var user = await db.Users.AsNoTracking().FirstOrDefaultAsync(u => u.Email == normalized, ct);
        if (user is null)
        {
            return;
        }
        var now = clock.GetUtcNow().UtcDateTime;
        await using var transaction = await AccountLock.BeginAsync(db, user.Id, ct);
        // Read again under the lock: an email change confirmed or undone meanwhile may have moved the account off this address.
        user = await db.Users.AsNoTracking().FirstOrDefaultAsync(u => u.Id == user.Id && u.Email == normalized, ct);
        if (user is null)
        {
            return;
        }
        var since = LinkEmailLimit.WindowStart(now);
        var recent = await db.PasswordResetTokens.Where(t => t.UserId == user.Id && t.CreatedUtc > since).Select(t => t.CreatedUtc).ToListAsync(ct);
        if (LinkEmailLimit.RetryAfter(recent, now) is not null)
        {
            return;
        }
        // An account that signs in only through its identity provider gets no password behind the provider's back
        // (its sign-in policy, its offboarding); it is told where to sign in instead.
        if (string.IsNullOrEmpty(user.PasswordHash)
            && await db.ExternalLogins.Where(l => l.UserId == user.Id).Join(db.IdentityProviders.Where(p => p.Enabled), l => l.ProviderId, p => p.Id, (_, p) => p.Name)
                .FirstOrDefaultAsync(ct) is { } provider)
        {
            await EndPendingLinksAsync(db, user.Id, now, ct);
            // Recorded as a link already used, so the limits above count this email too.
            db.PasswordResetTokens.Add(new PasswordResetToken { UserId = user.Id, TokenHash = SecretToken.Hash(SecretToken.Generate(TokenPrefix)), CreatedUtc = now, ExpiresUtc = now, UsedUtc = now });
            ResetEmail(user, "How to sign in",
                $"Someone asked to reset the password of your account {user.Email}. Your account has no password: it signs in with {provider}.\n\n" +
                $"Sign in: {baseUrl}/signin (choose \"Sign in with {provider}\").",
                now);
            await db.SaveChangesAsync(ct);
            await transaction.CommitAsync(ct);
            return;
        }
        await AddResetLinkAsync(user, baseUrl, "Reset your password",
            link => $"Someone asked to reset the password of your account {user.Email}.\n\nChoose a new password: {link}\n\n" +
                $"The link works once, for {LinkLifetime.TotalMinutes:0} minutes. If you did not ask for it, ignore this email: your password stays as it is.",
            now, ct);
        audit.Record(AuditActions.PasswordResetRequested, null, "user", user.Id, actorUserId: user.Id, actorEmail: user.Email);
        await db.SaveChangesAsync(ct);
        await transaction.CommitAsync(ct);
    }

    public const string InvalidLinkMessage = "This reset link does not work: it was used or replaced by a newer one, or it has expired. Ask for a new one.";

    static Accounts.Failure InvalidLink() => new(StatusCodes.Status400BadRequest, ProblemCodes.PasswordResetInvalid, InvalidLinkMessage);

    /// <summary>Whether a reset link can still be used, so its page can say so before the user types a password.</summary>
    public async Task<bool> IsUsableAsync(string? token, CancellationToken ct) => await FindUsableAsync(token, ct) is not null;

    Task<PasswordResetToken?> FindUsableAsync(string? token, CancellationToken ct) =>
        db.PasswordResetTokens.FindUsableAsync(token, TokenPrefix, clock.GetUtcNow().UtcDateTime, ct);

    /// <summary>Sets a new password with a reset link's secret, which then stops working.</summary>
    public async Task<Accounts.Failure?> ResetAsync(string? token, string? newPassword, CancellationToken ct)
    {
        if (accounts.ValidatePassword(newPassword) is { } weak)
        {
            return await IsUsableAsync(token, ct) ? weak : InvalidLink();
        }
        // Looked up before the transaction, so a made-up link never takes SQLite's write lock.
        if (await FindUsableAsync(token, ct) is not { } reset)
        {
            return InvalidLink();
        }
        var now = clock.GetUtcNow().UtcDateTime;
        // Hashed before the transaction: on SQLite it holds the only write lock, and hashing takes tens of milliseconds.
        var hash = hasher.HashPassword(await db.Users.AsNoTracking().SingleAsync(u => u.Id == reset.UserId, ct), newPassword!);
        // The account's row first, as a reset request for it takes it, so the two cannot deadlock.
        await using var transaction = await AccountLock.BeginAsync(db, reset.UserId, ct);
        // Used by one request only, even when two arrive together.
        if (!await db.PasswordResetTokens.ClaimAsync(reset.Id, now, ct))
        {
            return InvalidLink();
        }
        var user = await db.Users.SingleAsync(u => u.Id == reset.UserId, ct);
        // A reset is the answer to a forgotten or stolen password (or to an address someone else signed up with): tokens
        // minted with the old password must not outlive it. A change, made with the password, leaves them to the user's list.
        await SetPasswordAsync(user, hash, now, keepSession: null, revokeTokens: true, ct);
        // A reset proves the mailbox, so it also lifts a lockout.
        user.FailedSignInCount = 0;
        user.LockedOutUntilUtc = null;
        user.EmailConfirmedUtc = now;
        audit.Record(AuditActions.PasswordReset, null, "user", user.Id, actorUserId: user.Id, actorEmail: user.Email);
        await db.SaveChangesAsync(ct);
        await transaction.CommitAsync(ct);
        stamps.Forget(user.Id);
        throttle.Clear(user.Email);
        return null;
    }

    /// <summary>
    /// Changes the signed-in user's password, checking the current one as a sign-in does (failures count toward a
    /// lockout). Their other sessions end; <paramref name="currentSession"/>, the one making the change, goes on.
    /// </summary>
    public async Task<(User? User, Accounts.Failure? Failure)> ChangeAsync(Guid userId, string? currentPassword, string? newPassword, Guid? currentSession, CancellationToken ct)
    {
        var email = await db.Users.Where(u => u.Id == userId).Select(u => u.Email).SingleAsync(ct);
        if (accounts.ValidatePassword(newPassword) is { } weak)
        {
            return (null, weak with { Field = "new_password" });
        }
        var (user, failure) = await accounts.VerifyPasswordAsync(email, currentPassword ?? "", ct, signingIn: false);
        if (failure is not null)
        {
            return (null, failure.Code == ProblemCodes.InvalidCredentials ? failure with { Message = "The current password is wrong." } : failure);
        }
        if (string.Equals(newPassword, currentPassword, StringComparison.Ordinal))
        {
            // Checked after the current one is verified, so it tells nothing to someone guessing it.
            return (null, new Accounts.Failure(StatusCodes.Status400BadRequest, ProblemCodes.ValidationFailed, "Choose a new password different from the current one.", "new_password"));
        }
        var hash = hasher.HashPassword(user!, newPassword!);
        // The new password and the end of pending links and other sessions together, or neither (the account's row first,
        // as every change of its links takes it).
        await using var transaction = await AccountLock.BeginAsync(db, user!.Id, ct);
        await SetPasswordAsync(user!, hash, clock.GetUtcNow().UtcDateTime, currentSession, revokeTokens: false, ct);
        audit.Record(AuditActions.PasswordChanged, null, "user", user!.Id, actorUserId: user.Id, actorEmail: user.Email);
        await db.SaveChangesAsync(ct);
        await transaction.CommitAsync(ct);
        stamps.Forget(user.Id);
        return (user, null);
    }

    /// <summary>
    /// The new password's hash and stamp, the end of other pending links, of email changes and of the sessions but <paramref name="keepSession"/>,
    /// with <paramref name="revokeTokens"/> of the personal access tokens too, and an email saying so (saved by the caller, in its transaction).
    /// </summary>
    async Task SetPasswordAsync(User user, string passwordHash, DateTime now, Guid? keepSession, bool revokeTokens, CancellationToken ct)
    {
        user.PasswordHash = passwordHash;
        user.SecurityStamp = Guid.NewGuid();
        await EndPendingLinksAsync(db, user.Id, now, ct);
        // A pending email change may come from the stolen session a new password is meant to end (ADR-139).
        await EmailChanges.EndPendingAsync(db, user.Id, "a new password ended it.", now, ct);
        await sessions.EndAllAsync(user.Id, keepSession, ct);
        if (revokeTokens)
        {
            await db.PersonalAccessTokens.Where(t => t.UserId == user.Id && t.RevokedUtc == null).ExecuteUpdateAsync(s => s.SetProperty(t => t.RevokedUtc, now), ct);
        }
        Email(user, "Your password was changed",
            $"The password of your account {user.Email} was changed on {now:yyyy-MM-dd} at {now:HH:mm} UTC, and its other sessions were signed out" +
            (revokeTokens ? " and its personal access tokens revoked.\n\n" : ".\n\n") +
            "If it was not you, reset your password at once (\"Forgot your password?\" on the sign-in page) and tell your organization's owner.",
            now);
    }

    /// <summary>
    /// Ends the user's other reset links and queues a new one to their address, in the email <paramref name="body"/> writes
    /// around the link (saved by the caller, in its transaction). Not limited: the callers limit what leads here.
    /// </summary>
    internal async Task AddResetLinkAsync(User user, string baseUrl, string subject, Func<string, string> body, DateTime now, CancellationToken ct)
    {
        // Only the latest link works.
        await EndPendingLinksAsync(db, user.Id, now, ct);
        var secret = SecretToken.Generate(TokenPrefix);
        db.PasswordResetTokens.Add(new PasswordResetToken { UserId = user.Id, TokenHash = SecretToken.Hash(secret), CreatedUtc = now, ExpiresUtc = now + LinkLifetime });
        ResetEmail(user, subject, body($"{baseUrl}/reset-password?token={secret}"), now);
    }

    /// <summary>Queues an email to the user in this context's transaction (saved by the caller).</summary>
    void Email(User user, string subject, string body, DateTime now) =>
        db.OutboxEmails.Add(new OutboxEmail { Recipient = user.Email, Subject = subject, Body = body, CreatedUtc = now });

    /// <summary>Queues an email about the user's reset links: withdrawn if it has not gone out when they end.</summary>
    void ResetEmail(User user, string subject, string body, DateTime now) =>
        db.OutboxEmails.Add(new OutboxEmail
        {
            Recipient = user.Email,
            Subject = subject,
            Body = body,
            CreatedUtc = now,
            ExpiresUtc = now + LinkLifetime,
            About = OutboxEmail.AboutPasswordReset(user.Id),
        });

    /// <summary>
    /// Ends the user's unused reset links, and withdraws the emails carrying them that have not gone out yet: a newer
    /// link or a new password replaces them, and an email change moves the account away from the mailbox they went to.
    /// </summary>
    internal static async Task EndPendingLinksAsync(AppDbContext db, Guid userId, DateTime now, CancellationToken ct)
    {
        await db.PasswordResetTokens.Where(t => t.UserId == userId && t.UsedUtc == null).ExecuteUpdateAsync(s => s.SetProperty(t => t.UsedUtc, now), ct);
        await db.OutboxEmails.WithdrawUnsentAsync(OutboxEmail.AboutPasswordReset(userId), "a newer reset link, a new password or a new email address ended it.", now, ct);
    }
}
