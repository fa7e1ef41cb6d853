using AgentMarket.Audit;
using AgentMarket.Platform.Auth;
using AgentMarket.Platform.Data;
using AgentMarket.Platform.Errors;
using AgentMarket.Platform.Mail;
using Microsoft.EntityFrameworkCore;

namespace AgentMarket.Identity;

/// <summary>
/// Moving the signed-in user's account to a new email address (ADR-139): asked for with the current password, finished
/// by a link emailed to the new address, and told to the old one. Opening the link moves the account if no other has
/// taken the address meanwhile, and ends the user's other sessions. Shared by the API and the pages.
/// </summary>
public sealed class EmailChanges(
    AppDbContext db, Accounts accounts, UserSessions sessions, IConfiguration configuration, IHostEnvironment environment, TimeProvider clock, AuditLog audit,
    Microsoft.Extensions.Options.IOptions<AdminOptions> admin, ILogger<EmailChanges> logger)
{
    public const string TokenPrefix = "am_emc_";

    // Longer than a reset link's hour: the new mailbox may be one the user does not read on the spot.
    public static readonly TimeSpan LinkLifetime = TimeSpan.FromHours(24);

    public const string InvalidLinkMessage =
        "This link does not change your email: it was used, replaced by a newer one or ended by a new password, or it has expired. Ask for a new one on your account page.";

    public const string TakenMessage = "Another account now uses this address, so your email was not changed.";

    public const string OtherAccountMessage =
        "This link is for another account: sign in as the account that asked for the change, then open the link again. Nothing changed.";

    /// <summary>A pending change as its link's page shows it: the account that asked, and the address it would move to.</summary>
    public sealed record Pending(Guid UserId, string NewEmail);

    /// <summary>
    /// Checks the current password (failures count toward a lockout, as a password change's check), then emails a link to
    /// <paramref name="newEmail"/> and a notice to the current address. An address another account has gets the same
    /// answer, a note instead of a link (ADR-139), so the form does not tell who has an account.
    /// </summary>
    public async Task<Accounts.Failure?> RequestAsync(Guid userId, string? newEmail, string? password, string requestBaseUrl, CancellationToken ct)
    {
        if (Accounts.ValidateEmail(newEmail) is { } invalid)
        {
            return invalid;
        }
        var normalized = User.NormalizeEmail(newEmail!);
        var user = await db.Users.AsNoTracking().SingleAsync(u => u.Id == userId, ct);
        if (normalized == user.Email)
        {
            return new Accounts.Failure(StatusCodes.Status400BadRequest, ProblemCodes.ValidationFailed, "This is already your email address.", "email");
        }
        if (string.IsNullOrEmpty(user.PasswordHash))
        {
            return await WithoutPasswordAsync(userId, ct);
        }
        if (admin.Value.Email is { Length: > 0 } bootstrap && User.NormalizeEmail(bootstrap) == user.Email)
        {
            // Moved off that address, the account would leave Admin:Email free, and the next start would create a second
            // operator there with Admin:Password (OperatorBootstrap).
            return new Accounts.Failure(StatusCodes.Status409Conflict, ProblemCodes.EmailChangeNotAllowed,
                "This account is the operator the configuration names (Admin:Email). Change Admin:Email to the new address first, then change it here.");
        }
        // The link's address is Marketplace:PublicUrl, never the request's Host (as for reset links, ADR-124).
        if (Platform.Ui.PublicAddress.ForEmails(configuration, environment, requestBaseUrl) is not { } baseUrl)
        {
            logger.LogWarning("An email change was asked for, but Marketplace:PublicUrl is not set: its link cannot be sent.");
            return new Accounts.Failure(StatusCodes.Status503ServiceUnavailable, ProblemCodes.ServiceUnavailable,
                "The marketplace cannot email the confirmation link: its public address is not configured. Ask its operator.");
        }
        var (_, failure) = await accounts.VerifyPasswordAsync(user.Email, password ?? "", ct, signingIn: false);
        if (failure is not null)
        {
            return failure.Code == ProblemCodes.InvalidCredentials ? failure with { Message = "The current password is wrong." } : failure;
        }
        var now = clock.GetUtcNow().UtcDateTime;
        await using var transaction = await AccountLock.BeginAsync(db, userId, ct);
        // Read again under the lock: a change confirmed or undone meanwhile moved the account, and the notice goes to where it is now.
        user = await db.Users.AsNoTracking().SingleAsync(u => u.Id == userId, ct);
        var since = LinkEmailLimit.WindowStart(now);
        var recent = await db.EmailChangeTokens.Where(t => t.UserId == userId && t.CreatedUtc > since).Select(t => t.CreatedUtc).ToListAsync(ct);
        if (LinkEmailLimit.RetryAfter(recent, now) is { } retryAfter)
        {
            return new Accounts.Failure(StatusCodes.Status429TooManyRequests, ProblemCodes.RateLimited,
                "You asked to change your email several times just now. Wait a little, then ask again.", RetryAfter: retryAfter);
        }

        // Only the latest link works.
        await EndPendingAsync(db, userId, "a newer email change replaced it.", now, ct);
        var secret = SecretToken.Generate(TokenPrefix);
        // An address held for another account's undo link (ADR-142) is answered as a taken one.
        var taken = await db.Users.AnyAsync(u => u.Email == normalized, ct) || await EmailChangeReverts.IsHeldAsync(db, normalized, userId, now, ct);
        // A taken address's request is recorded as a link already used, so the limits above count it too.
        db.EmailChangeTokens.Add(new EmailChangeToken
        {
            UserId = userId,
            NewEmail = normalized,
            TokenHash = SecretToken.Hash(secret),
            CreatedUtc = now,
            ExpiresUtc = now + LinkLifetime,
            UsedUtc = taken ? now : null,
        });
        if (taken)
        {
            // No link: its owner could only be told, on opening it, that the address is theirs already.
            Email(normalized, "Someone asked to use your address",
                $"Someone signed in to another account asked to use {normalized} as its email. An account already uses this address, so nothing changed and no link was sent.\n\n" +
                "If it was you, sign in with this address instead. Otherwise you can ignore this email.",
                now);
        }
        else
        {
            db.OutboxEmails.Add(new OutboxEmail
            {
                Recipient = normalized,
                Subject = "Confirm your new email address",
                Body = $"Someone signed in to the account {user.Email} ({user.Name}) asked to use {normalized} as its email from now on.\n\n" +
                    $"If that is your account, sign in to it and open this link to confirm: {baseUrl}/account/email/confirm?token={secret}\n\n" +
                    $"The link works once, for {LinkLifetime.TotalHours:0} hours. If it is not your account, ignore this email: nothing changes.",
                CreatedUtc = now,
                ExpiresUtc = now + LinkLifetime,
                About = OutboxEmail.AboutEmailChange(userId),
            });
        }
        // The same whether or not the address is taken; never withdrawn: a stolen session's request must reach the owner.
        Email(user.Email, "A change of your email address was asked for",
            $"On {now:yyyy-MM-dd} at {now:HH:mm} UTC someone signed in to your account {user.Email} asked to change its email to {normalized}, and a confirmation link was sent there. " +
            "Nothing changes until it is opened.\n\n" +
            "If it was not you, change your password at once (on your account page, or \"Forgot your password?\" on the sign-in page): that ends the link and signs out your other sessions. " +
            "Then tell your organization's owner.",
            now);
        audit.Record(AuditActions.EmailChangeRequested, null, "user", userId, before: new { email = user.Email }, after: new { email = normalized },
            actorUserId: userId, actorEmail: user.Email);
        await db.SaveChangesAsync(ct);
        await transaction.CommitAsync(ct);
        return null;
    }

    /// <summary>Whose change a link finishes and to which address, or null when it cannot be used, so its page can say so at once.</summary>
    public async Task<Pending?> PendingAsync(string? token, CancellationToken ct) =>
        await FindUsableAsync(token, ct) is { } change ? new Pending(change.UserId, change.NewEmail) : null;

    /// <summary>
    /// Moves the link's account to its new address, which then signs in instead of the old one, when the caller is
    /// signed in as that account: the link alone is not enough, or a stranger could get someone who owns an address to
    /// move the stranger's account onto it (invitations and single sign-on then follow the address). The user's other
    /// sessions end; <paramref name="callerSession"/> goes on. The old address is told, with a link to undo it (ADR-142).
    /// </summary>
    public async Task<(User? User, bool KeptSession, Accounts.Failure? Failure)> ConfirmAsync(
        string? token, Guid? callerUserId, Guid? callerSession, string requestBaseUrl, CancellationToken ct)
    {
        // Looked up before the transaction, so a made-up link never takes SQLite's write lock.
        if (await FindUsableAsync(token, ct) is not { } change)
        {
            return (null, false, InvalidLink());
        }
        if (callerUserId != change.UserId)
        {
            return (null, false, new Accounts.Failure(StatusCodes.Status403Forbidden, ProblemCodes.EmailChangeOtherAccount, OtherAccountMessage));
        }
        if (await IsTakenAsync(change, ct))
        {
            return (null, false, Taken());
        }
        try
        {
            var baseUrl = Platform.Ui.PublicAddress.ForEmails(configuration, environment, requestBaseUrl);
            return await ChangeAsync(change, callerSession, baseUrl, ct) is { } user ? (user, callerSession is not null, null) : (null, false, InvalidLink());
        }
        catch (DbUpdateException)
        {
            // Another account took the address between the check and the update: the unique index refused it.
            db.ChangeTracker.Clear();
            if (await IsTakenAsync(change, ct))
            {
                return (null, false, Taken());
            }
            throw;
        }
    }

    /// <summary>
    /// Ends the user's unused email change links and withdraws the unsent emails carrying them (a newer request, a new
    /// password: whoever asked may have been someone with a stolen session). Saved at once, in the caller's transaction if any.
    /// </summary>
    public static async Task EndPendingAsync(AppDbContext db, Guid userId, string reason, DateTime now, CancellationToken ct)
    {
        await db.EmailChangeTokens.Where(t => t.UserId == userId && t.UsedUtc == null).ExecuteUpdateAsync(s => s.SetProperty(t => t.UsedUtc, now), ct);
        await db.OutboxEmails.WithdrawUnsentAsync(OutboxEmail.AboutEmailChange(userId), reason, now, ct);
    }

    async Task<User?> ChangeAsync(EmailChangeToken change, Guid? keepSession, string? baseUrl, CancellationToken ct)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        // The new address, the used link and the end of other sessions together, or none of them; the account's row
        // first, so an undo at the same time either ends this link or comes after and ends this change's undo link.
        await using var transaction = await AccountLock.BeginAsync(db, change.UserId, ct);
        // Used by one request only, even when two arrive together.
        if (!await db.EmailChangeTokens.ClaimAsync(change.Id, now, ct))
        {
            return null;
        }
        var user = await db.Users.SingleAsync(u => u.Id == change.UserId, ct);
        var previous = user.Email;
        user.Email = change.NewEmail;
        // The link was opened from the new mailbox.
        user.EmailConfirmedUtc = now;
        // Their cookies carry the old address, which the pages and invitations read; a stolen one must not outlive the change.
        await sessions.EndAllAsync(user.Id, keepSession, ct);
        // A reset link sent to the old mailbox ends: that mailbox's one way back is the undo link, which also ends whoever
        // holds the account then (ADR-142).
        await Passwords.EndPendingLinksAsync(db, user.Id, now, ct);
        // The change may come from a stolen session whose thief knew the password: the old address can undo it.
        var undo = baseUrl is null
            ? "If it was not you, tell your organization's owner and the marketplace's operator at once."
            : $"If it was not you, undo it within {EmailChangeReverts.LinkLifetime.TotalDays:0} days: " +
                $"{baseUrl}/account/email/revert?token={EmailChangeReverts.Issue(db, user.Id, previous, user.Email, now)}\n\n" +
                $"That puts the account back on {previous}, clears its password (whoever changed the email knew it), signs out all its sessions and ends its access tokens; " +
                "we then email you a link to choose a new password. Then tell your organization's owner.";
        Email(previous, "Your email address was changed",
            $"The email of your account was changed from {previous} to {user.Email} on {now:yyyy-MM-dd} at {now:HH:mm} UTC, and its other sessions were signed out. " +
            $"It now signs in with {user.Email}.\n\n{undo}",
            now);
        audit.Record(AuditActions.EmailChanged, null, "user", user.Id, before: new { email = previous }, after: new { email = user.Email },
            actorUserId: user.Id, actorEmail: user.Email);
        await db.SaveChangesAsync(ct);
        await transaction.CommitAsync(ct);
        return user;
    }

    Task<EmailChangeToken?> FindUsableAsync(string? token, CancellationToken ct) =>
        db.EmailChangeTokens.FindUsableAsync(token, TokenPrefix, clock.GetUtcNow().UtcDateTime, ct);

    /// <summary>Whether another account has the address, or it is held for another account's undo link (ADR-142).</summary>
    async Task<bool> IsTakenAsync(EmailChangeToken change, CancellationToken ct) =>
        await db.Users.AnyAsync(u => u.Email == change.NewEmail && u.Id != change.UserId, ct)
        || await EmailChangeReverts.IsHeldAsync(db, change.NewEmail, change.UserId, clock.GetUtcNow().UtcDateTime, ct);

    /// <summary>
    /// An account without a password signs in through an identity provider, which vouches for its address (SSO links
    /// accounts by it): it has no password to confirm a change with, and the provider's address is the one to keep.
    /// </summary>
    async Task<Accounts.Failure> WithoutPasswordAsync(Guid userId, CancellationToken ct)
    {
        var provider = await db.ExternalLogins.Where(l => l.UserId == userId)
            .Join(db.IdentityProviders.Where(p => p.Enabled), l => l.ProviderId, p => p.Id, (_, p) => p.Name).FirstOrDefaultAsync(ct);
        return new Accounts.Failure(StatusCodes.Status409Conflict, ProblemCodes.EmailChangeNotAllowed, provider is not null
            ? $"Your account signs in with {provider}, which vouches for its email address: it cannot be changed here."
            : "Your account has no password. Set one first (\"Forgot your password?\" on the sign-in page), then change your email.");
    }

    void Email(string recipient, string subject, string body, DateTime now) =>
        db.OutboxEmails.Add(new OutboxEmail { Recipient = recipient, Subject = subject, Body = body, CreatedUtc = now });

    static Accounts.Failure InvalidLink() => new(StatusCodes.Status400BadRequest, ProblemCodes.EmailChangeInvalid, InvalidLinkMessage);

    static Accounts.Failure Taken() => new(StatusCodes.Status409Conflict, ProblemCodes.EmailTaken, TakenMessage);
}
