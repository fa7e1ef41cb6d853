using System.Net.Mail;
using AgentMarket.Platform.Data;
using Microsoft.EntityFrameworkCore;

namespace AgentMarket.Identity.Sso;

/// <summary>
/// Turns a validated identity-provider profile into our user: the provider's rules first (verified email, allowed
/// domains), then the account already linked to this subject, else the account with the same (verified) email, else a
/// new user who joins the organization mapped to their email domain or gets their own, as at sign-up. An account whose
/// address was never proven is the provider's user's only from now on: whatever its creator set up ends (ADR-151).
/// </summary>
public sealed class SsoAccounts(
    AppDbContext db, OrganizationFactory organizations, UserSessions sessions, SessionStamps stamps, Audit.AuditLog audit, ILogger<SsoAccounts> logger, TimeProvider clock)
{
    public async Task<User> SignInAsync(IdentityProvider provider, SsoProfile profile, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(profile.Email) || !MailAddress.TryCreate(profile.Email.Trim(), out var address) || address.Address != profile.Email.Trim())
        {
            throw new SsoRefusedException(SsoRefusal.EmailMissing);
        }
        // Linking and provisioning trust the email, so only an address the provider verified may be used.
        if (!profile.EmailVerified)
        {
            throw new SsoRefusedException(SsoRefusal.EmailUnverified);
        }
        var email = User.NormalizeEmail(profile.Email);
        var domain = email[(email.LastIndexOf('@') + 1)..];
        var allowed = provider.AllowedDomains().ToList();
        if (allowed.Count > 0 && !allowed.Contains(domain, StringComparer.Ordinal))
        {
            throw new SsoRefusedException(SsoRefusal.DomainNotAllowed);
        }

        try
        {
            return await SignInOnceAsync(provider, profile, email, domain, ct);
        }
        catch (DbUpdateException)
        {
            // A concurrent first sign-in (same subject or same email) won a unique index: the account exists now.
            db.ChangeTracker.Clear();
            return await SignInOnceAsync(provider, profile, email, domain, ct);
        }
    }

    async Task<User> SignInOnceAsync(IdentityProvider provider, SsoProfile profile, string email, string domain, CancellationToken ct)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        Organization? created = null;
        var link = await db.ExternalLogins.FirstOrDefaultAsync(l => l.ProviderId == provider.Id && l.Subject == profile.Subject, ct);
        User user;
        if (link is not null)
        {
            user = await db.Users.FirstAsync(u => u.Id == link.UserId, ct);
            link.LastSignInUtc = now;
        }
        else
        {
            user = await db.Users.FirstOrDefaultAsync(u => u.Email == email, ct)
                // An address an account left is held for its undo link (ADR-142): no new account may take it meanwhile.
                ?? (await EmailChangeReverts.IsHeldAsync(db, email, null, now, ct) ? throw new SsoRefusedException(SsoRefusal.EmailHeld) : NewUser(email, profile.Name, now));
            if (db.Entry(user).State == EntityState.Added)
            {
                created = await JoinOrganizationAsync(provider, user, domain, now, ct);
            }
            db.ExternalLogins.Add(new ExternalLogin { ProviderId = provider.Id, Subject = profile.Subject, UserId = user.Id, CreatedUtc = now, LastSignInUtc = now });
        }
        // An identity provider's administrator must not be able to take over the platform: operators use their password.
        if (user.IsOperator)
        {
            db.ChangeTracker.Clear();
            throw new SsoRefusedException(SsoRefusal.OperatorAccount);
        }
        // Sign-up takes any address without proof, so an account found by it may have been opened by someone else first.
        await using var claim = link is null && db.Entry(user).State != EntityState.Added && user.EmailConfirmedUtc is null
            ? await AccountLock.BeginAsync(db, user.Id, ct)
            : null;
        if (claim is not null)
        {
            // Read again under the lock: a reset link used meanwhile proves the address.
            await db.Entry(user).ReloadAsync(ct);
            if (user.EmailConfirmedUtc is null)
            {
                await EndUnprovenAccessAsync(user, provider, now, ct);
            }
        }
        if (user.Email == email)
        {
            // The provider verified the address (checked above).
            user.EmailConfirmedUtc = now;
        }
        user.LastSignInUtc = now;
        audit.Record(Audit.AuditActions.SignInSucceeded, null, "user", user.Id, after: new { via = "sso", identity_provider = provider.Id }, actorUserId: user.Id, actorEmail: user.Email);
        await db.SaveChangesAsync(ct);
        if (claim is not null)
        {
            await claim.CommitAsync(ct);
            stamps.Forget(user.Id);
        }
        if (created is not null)
        {
            await organizations.CommittedAsync(created, ct);
        }
        logger.LogInformation("Single sign-on for user {UserId} through identity provider {ProviderId} ({Outcome})", user.Id, provider.Id,
            link is not null ? "linked account" : created is not null ? "new user, new organization" : "first sign-in");
        return user;
    }

    /// <summary>
    /// The account has the provider's verified address, but nobody ever proved they read it there: whoever signed up with
    /// it may not be the person the provider vouches for. Their ways in end: the password (an empty hash never verifies),
    /// every session, every personal access token and pending reset or email-change link (saved by the caller, in its transaction).
    /// </summary>
    async Task EndUnprovenAccessAsync(User user, IdentityProvider provider, DateTime now, CancellationToken ct)
    {
        var hadPassword = user.PasswordHash.Length > 0;
        user.PasswordHash = "";
        user.SecurityStamp = Guid.NewGuid();
        var sessionsEnded = await sessions.EndAllAsync(user.Id, keep: null, ct);
        var tokensRevoked = await db.PersonalAccessTokens.Where(t => t.UserId == user.Id && t.RevokedUtc == null)
            .ExecuteUpdateAsync(s => s.SetProperty(t => t.RevokedUtc, now), ct);
        await Passwords.EndPendingLinksAsync(db, user.Id, now, ct);
        await EmailChanges.EndPendingAsync(db, user.Id, "single sign-on proved who owns the address.", now, ct);
        audit.Record(Audit.AuditActions.UnprovenAccountClaimed, null, "user", user.Id,
            before: new { password = hadPassword, sessions = sessionsEnded, personal_tokens = tokensRevoked }, after: new { identity_provider = provider.Id },
            actorUserId: user.Id, actorEmail: user.Email);
    }

    User NewUser(string email, string? name, DateTime now)
    {
        var displayName = string.IsNullOrWhiteSpace(name) ? email[..email.IndexOf('@')] : name.Trim();
        // No password: PasswordHasher never verifies an empty hash, so this account signs in through its provider only.
        var user = new User { Email = email, Name = displayName.Length > 100 ? displayName[..100] : displayName, CreatedUtc = now };
        db.Users.Add(user);
        return user;
    }

    /// <summary>Joins the organization mapped to the email domain with the provider's default role; else creates the user's own.</summary>
    async Task<Organization?> JoinOrganizationAsync(IdentityProvider provider, User user, string domain, DateTime now, CancellationToken ct)
    {
        var mapped = await db.IdentityProviderDomains.AsNoTracking()
            .Where(d => d.ProviderId == provider.Id && d.Domain == domain).Select(d => (Guid?)d.OrganizationId).FirstOrDefaultAsync(ct);
        if (mapped is { } organizationId)
        {
            db.Memberships.Add(new Membership { OrganizationId = organizationId, UserId = user.Id, Role = provider.DefaultRole, CreatedUtc = now });
            return null;
        }
        var (organization, _) = await organizations.CreateAsync(db, $"{user.Name}'s Organization", user.Id, ct);
        return organization;
    }
}
