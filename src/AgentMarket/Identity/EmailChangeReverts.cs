using AgentMarket.Audit;
using AgentMarket.Platform.Auth;
using AgentMarket.Platform.Data;
using AgentMarket.Platform.Errors;
using AgentMarket.Platform.Mail;
using Microsoft.EntityFrameworkCore;

namespace AgentMarket.Identity;

/// <summary>
/// "This wasn't me" (ADR-142): the notice of a made email change carries a link, to the address the account left, that
/// puts the account back on it. Whoever made the change knew the password, so undoing it also clears the password, ends
/// every session, token and pending link of the account, and emails a reset link to the restored address. Anonymous:
/// the owner has lost the session. Shared by the API and the page.
/// </summary>
public sealed class EmailChangeReverts(
    AppDbContext db, Passwords passwords, UserSessions sessions, SessionStamps stamps, IConfiguration configuration, IHostEnvironment environment,
    TimeProvider clock, AuditLog audit, ILogger<EmailChangeReverts> logger)
{
    public const string TokenPrefix = "am_emr_";

    // Long enough for an owner away for a few days to notice; the account is the thief's, with a new password, until then.
    public static readonly TimeSpan LinkLifetime = TimeSpan.FromDays(7);

    public const string InvalidLinkMessage =
        "This link does not undo an email change: it was used, the change was undone with an earlier link, or it has expired. If your account was taken, tell the marketplace's operator.";

    public const string TakenMessage =
        "Another account now uses the previous address, so the change was not undone and nothing changed. Tell the marketplace's operator.";

    /// <summary>A change as its undo link's page shows it.</summary>
    public sealed record Pending(string OldEmail, string NewEmail, DateTime ChangedUtc);

    /// <summary>
    /// Records an undo link for a change just made from <paramref name="oldEmail"/> to <paramref name="newEmail"/> and
    /// returns its secret, for the notice to the old address (saved by the caller, with the change).
    /// </summary>
    internal static string Issue(AppDbContext db, Guid userId, string oldEmail, string newEmail, DateTime now)
    {
        var secret = SecretToken.Generate(TokenPrefix);
        db.EmailRevertTokens.Add(new EmailRevertToken
        {
            UserId = userId,
            OldEmail = oldEmail,
            NewEmail = newEmail,
            TokenHash = SecretToken.Hash(secret),
            CreatedUtc = now,
            ExpiresUtc = now + LinkLifetime,
        });
        return secret;
    }

    /// <summary>The change a link undoes, or null when it cannot be used, so its page can say so at once.</summary>
    public async Task<Pending?> PendingAsync(string? token, CancellationToken ct) =>
        await FindUsableAsync(token, ct) is { } revert ? new Pending(revert.OldEmail, revert.NewEmail, revert.CreatedUtc) : null;

    /// <summary>Puts the link's account back on the address it left, unless another account has taken it since (nothing changes then).</summary>
    public async Task<Accounts.Failure?> RevertAsync(string? token, string requestBaseUrl, CancellationToken ct)
    {
        // Looked up before the transaction, so a made-up link never takes SQLite's write lock.
        if (await FindUsableAsync(token, ct) is not { } revert)
        {
            return InvalidLink();
        }
        if (await IsTakenAsync(revert, ct))
        {
            return Taken();
        }
        try
        {
            if (!await UndoAsync(revert, Platform.Ui.PublicAddress.ForEmails(configuration, environment, requestBaseUrl), ct))
            {
                return InvalidLink();
            }
        }
        catch (DbUpdateException)
        {
            // Another account took the address between the check and the update: the unique index refused it.
            db.ChangeTracker.Clear();
            if (await IsTakenAsync(revert, ct))
            {
                return Taken();
            }
            throw;
        }
        stamps.Forget(revert.UserId);
        return null;
    }

    async Task<bool> UndoAsync(EmailRevertToken revert, string? baseUrl, CancellationToken ct)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        // All of it or none of it: the address back, the password cleared, every way in ended. The account's row first,
        // so a change being confirmed meanwhile either ends before (and its undo link is ended below) or waits.
        await using var transaction = await AccountLock.BeginAsync(db, revert.UserId, ct);
        // Used by one request only, even when two arrive together.
        if (!await db.EmailRevertTokens.ClaimAsync(revert.Id, now, ct))
        {
            return false;
        }
        var user = await db.Users.SingleAsync(u => u.Id == revert.UserId, ct);
        var left = user.Email;
        // Later changes' links would move the account away from the address just restored (after A→B→C, B's link, sent
        // to B, would take it back from A). Earlier changes' links stay: the earliest owner's link wins.
        await db.EmailRevertTokens.Where(t => t.UserId == user.Id && t.UsedUtc == null && t.CreatedUtc >= revert.CreatedUtc)
            .ExecuteUpdateAsync(s => s.SetProperty(t => t.UsedUtc, now), ct);
        user.Email = revert.OldEmail;
        // The link went to the restored address.
        user.EmailConfirmedUtc = now;
        // Whoever made the change knew the password (it is asked for): only a reset link, to the restored address, sets one.
        user.PasswordHash = "";
        user.SecurityStamp = Guid.NewGuid();
        await sessions.EndAllAsync(user.Id, keep: null, ct);
        // Tokens too (an email change leaves them): whoever had the session could have created one with the password.
        await db.PersonalAccessTokens.Where(t => t.UserId == user.Id && t.RevokedUtc == null).ExecuteUpdateAsync(s => s.SetProperty(t => t.RevokedUtc, now), ct);
        await EmailChanges.EndPendingAsync(db, user.Id, "the account's email change was undone.", now, ct);
        // Single sign-on linked since the change (SsoAccounts links a provider login to the account with the same verified
        // email, so the new address's) would let whoever holds it sign in without any password. Earlier ones stay: the
        // owner's own, which the change did not bring.
        var linked = await db.ExternalLogins.Where(l => l.UserId == user.Id && l.CreatedUtc >= revert.CreatedUtc)
            .Select(l => new { identity_provider = l.ProviderId, subject = l.Subject }).ToListAsync(ct);
        await db.ExternalLogins.Where(l => l.UserId == user.Id && l.CreatedUtc >= revert.CreatedUtc).ExecuteDeleteAsync(ct);
        if (baseUrl is null)
        {
            logger.LogWarning("An email change was undone, but Marketplace:PublicUrl is not set: no reset link can be sent.");
            await Passwords.EndPendingLinksAsync(db, user.Id, now, ct);
        }
        else
        {
            await passwords.AddResetLinkAsync(user, baseUrl, "Choose a new password",
                link => $"The change of your account's email to {revert.NewEmail} was undone: it signs in with {user.Email} again. " +
                    "Its password was cleared, since whoever made the change knew it, and all its sessions and personal access tokens were ended.\n\n" +
                    $"Choose a new password: {link}\n\nThe link works once, for {Passwords.LinkLifetime.TotalMinutes:0} minutes; after that, use \"Forgot your password?\" on the sign-in page.",
                now, ct);
        }
        if (left != user.Email)
        {
            db.OutboxEmails.Add(new OutboxEmail
            {
                Recipient = left,
                Subject = "An email change was undone",
                Body = $"The account that used {left} was moved back to its previous address on {now:yyyy-MM-dd} at {now:HH:mm} UTC, from a link sent there when its email changed. " +
                    $"It no longer signs in with {left}.\n\nIf this is your account and you did not expect this, tell the marketplace's operator.",
                CreatedUtc = now,
            });
        }
        audit.Record(AuditActions.EmailChangeReverted, null, "user", user.Id, before: new { email = left, external_logins = linked }, after: new { email = user.Email },
            actorUserId: user.Id, actorEmail: user.Email);
        await db.SaveChangesAsync(ct);
        await transaction.CommitAsync(ct);
        return true;
    }

    Task<EmailRevertToken?> FindUsableAsync(string? token, CancellationToken ct) =>
        db.EmailRevertTokens.FindUsableAsync(token, TokenPrefix, clock.GetUtcNow().UtcDateTime, ct);

    /// <summary>
    /// Whether a live undo link names <paramref name="email"/> as the address its account left (for another account than
    /// <paramref name="exceptUserId"/>): the address is held for it, and sign-up, a first single sign-on and email changes
    /// treat it as taken, or a thief could void the owner's link by opening an account on it right after the change.
    /// </summary>
    internal static Task<bool> IsHeldAsync(AppDbContext db, string email, Guid? exceptUserId, DateTime now, CancellationToken ct)
    {
        var live = db.EmailRevertTokens.Where(t => t.OldEmail == email && t.UsedUtc == null && t.ExpiresUtc > now);
        return (exceptUserId is { } except ? live.Where(t => t.UserId != except) : live).AnyAsync(ct);
    }

    Task<bool> IsTakenAsync(EmailRevertToken revert, CancellationToken ct) => db.Users.AnyAsync(u => u.Email == revert.OldEmail && u.Id != revert.UserId, ct);

    static Accounts.Failure InvalidLink() => new(StatusCodes.Status400BadRequest, ProblemCodes.EmailRevertInvalid, InvalidLinkMessage);

    static Accounts.Failure Taken() => new(StatusCodes.Status409Conflict, ProblemCodes.EmailTaken, TakenMessage);
}
