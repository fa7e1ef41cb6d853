using System.Net.Mail;
using System.Security.Claims;
using AgentMarket.Audit;
using AgentMarket.Platform.Auth;
using AgentMarket.Platform.Data;
using AgentMarket.Platform.Errors;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace AgentMarket.Identity;

/// <summary>Sign-up and password checks with lockout, shared by the API and the pages (sessions: <see cref="UserSessions"/>).</summary>
public sealed class Accounts(AppDbContext db, OrganizationFactory organizations, IPasswordHasher<User> hasher, IOptions<AccountOptions> options, TimeProvider clock, AuditLog audit,
    SignInThrottle throttle, IHttpContextAccessor http)
{
    public sealed record SignUpResult(User User, Organization Organization, Project Project);

    public sealed record Failure(int Status, string Code, string Message, string? Field = null, TimeSpan? RetryAfter = null);

    /// <summary>Validates and creates the user, "{Name}'s Organization" and its Default project in one transaction.</summary>
    public async Task<(SignUpResult? Result, Failure? Failure)> SignUpAsync(string email, string password, string name, CancellationToken cancellationToken)
    {
        if (ValidateSignUp(email, password, name) is { } invalid)
        {
            return (null, invalid);
        }
        var normalized = User.NormalizeEmail(email);
        if (await db.Users.AnyAsync(u => u.Email == normalized, cancellationToken)
            || await EmailChangeReverts.IsHeldAsync(db, normalized, null, clock.GetUtcNow().UtcDateTime, cancellationToken))
        {
            return (null, EmailTaken());
        }
        var user = new User { Email = normalized, Name = name.Trim(), CreatedUtc = clock.GetUtcNow().UtcDateTime };
        user.PasswordHash = hasher.HashPassword(user, password);
        db.Users.Add(user);
        var (organization, project) = await organizations.CreateAsync(db, $"{user.Name}'s Organization", user.Id, cancellationToken);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException)
        {
            db.ChangeTracker.Clear();
            if (await db.Users.AnyAsync(u => u.Email == normalized, cancellationToken))
            {
                // A concurrent sign-up with the same email won the unique index.
                return (null, EmailTaken());
            }
            throw;
        }
        await organizations.CommittedAsync(organization, cancellationToken);
        return (new SignUpResult(user, organization, project), null);
    }

    /// <summary>
    /// Checks the password, counting failures: too many in a row from one client address stop that address trying the
    /// email for a while (<see cref="SignInThrottle"/>), and many more from anywhere lock the account itself. A check that
    /// is not a sign-in (confirming a password change) neither records a sign-in nor moves the last sign-in time.
    /// </summary>
    public async Task<(User? User, Failure? Failure)> VerifyPasswordAsync(string email, string password, CancellationToken cancellationToken, bool signingIn = true)
    {
        var normalized = User.NormalizeEmail(email ?? "");
        var address = http.HttpContext?.Connection.RemoteIpAddress?.ToString() ?? "local";
        var now = clock.GetUtcNow().UtcDateTime;
        if (throttle.LockedFor(normalized, address) is { } wait)
        {
            // Answered before looking the email up: the same for an account and for no account.
            await audit.RecordAsync(AuditActions.SignInFailed, null, "user", null, after: new { reason = "address_locked_out" }, actorEmail: normalized, ct: cancellationToken);
            return (null, Locked(wait));
        }
        var user = await db.Users.FirstOrDefaultAsync(u => u.Email == normalized, cancellationToken);
        if (user is null)
        {
            // Hash anyway so a missing account takes as long as a wrong password.
            hasher.HashPassword(new User { Email = normalized, Name = "" }, password ?? "");
            var lockedOut = throttle.Failed(normalized, address);
            await audit.RecordAsync(AuditActions.SignInFailed, null, "user", null, after: new { reason = "unknown_email" }, actorEmail: normalized, ct: cancellationToken);
            return (null, lockedOut is { } unknownWait ? Locked(unknownWait) : InvalidCredentials());
        }
        if (user.LockedOutUntilUtc > now)
        {
            await audit.RecordAsync(AuditActions.SignInFailed, null, "user", user.Id, after: new { reason = "locked_out" }, actorUserId: user.Id, actorEmail: user.Email, ct: cancellationToken);
            return (null, Locked(user.LockedOutUntilUtc.Value - now));
        }
        var verdict = hasher.VerifyHashedPassword(user, user.PasswordHash, password ?? "");
        if (verdict == PasswordVerificationResult.Failed)
        {
            user.FailedSignInCount++;
            if (user.FailedSignInCount >= options.Value.AccountLockoutThreshold)
            {
                user.FailedSignInCount = 0;
                user.LockedOutUntilUtc = now.AddMinutes(options.Value.LockoutMinutes);
            }
            var addressWait = throttle.Failed(normalized, address);
            var lockout = user.LockedOutUntilUtc > now ? user.LockedOutUntilUtc.Value - now : addressWait;
            // A password change's check is told apart in the trail: it is a signed-in user mistyping, not a sign-in attempt.
            var reason = signingIn ? "wrong_password" : "wrong_current_password";
            audit.Record(AuditActions.SignInFailed, null, "user", user.Id, after: new { reason = lockout is null ? reason : $"{reason}_locked_out" }, actorUserId: user.Id, actorEmail: user.Email);
            await db.SaveChangesAsync(cancellationToken);
            return (null, lockout is { } lockedFor ? Locked(lockedFor) : InvalidCredentials());
        }
        if (verdict == PasswordVerificationResult.SuccessRehashNeeded)
        {
            user.PasswordHash = hasher.HashPassword(user, password!);
        }
        user.FailedSignInCount = 0;
        user.LockedOutUntilUtc = null;
        throttle.Succeeded(normalized, address);
        if (signingIn)
        {
            user.LastSignInUtc = now;
            audit.Record(AuditActions.SignInSucceeded, null, "user", user.Id, actorUserId: user.Id, actorEmail: user.Email);
        }
        await db.SaveChangesAsync(cancellationToken);
        return (user, null);
    }

    /// <summary>The user's claims; a sign-in cookie's also name its session (<see cref="UserSessions"/>).</summary>
    public static ClaimsPrincipal PrincipalFor(User user, string scheme, Guid? sessionId = null)
    {
        List<Claim> claims =
        [
            new(AppClaims.UserId, user.Id.ToString()),
            new(AppClaims.Email, user.Email),
            new(AppClaims.Name, user.Name),
            new(AppClaims.SecurityStamp, user.SecurityStamp.ToString()),
        ];
        if (user.IsOperator)
        {
            claims.Add(new Claim(AppClaims.Operator, "true"));
        }
        if (sessionId is { } session)
        {
            claims.Add(new Claim(AppClaims.Session, session.ToString()));
        }
        return new ClaimsPrincipal(new ClaimsIdentity(claims, scheme, AppClaims.Name, null));
    }

    public Failure? ValidatePassword(string? password) =>
        string.IsNullOrEmpty(password) || password.Length < options.Value.MinimumPasswordLength
            ? new Failure(StatusCodes.Status400BadRequest, ProblemCodes.ValidationFailed, $"The password must have at least {options.Value.MinimumPasswordLength} characters.", "password")
            : null;

    /// <summary>Changes the user's display name (audited when it changes). The caller renews a cookie that carries it.</summary>
    public async Task<(User? User, Failure? Failure)> RenameAsync(Guid userId, string? name, CancellationToken ct)
    {
        if (ValidateName(name) is { } invalid)
        {
            return (null, invalid);
        }
        var user = await db.Users.FirstAsync(u => u.Id == userId, ct);
        var renamed = name!.Trim();
        if (renamed != user.Name)
        {
            audit.Record(AuditActions.UserRenamed, null, "user", user.Id, before: new { name = user.Name }, after: new { name = renamed });
            user.Name = renamed;
            await db.SaveChangesAsync(ct);
        }
        return (user, null);
    }

    static Failure? ValidateName(string? name) =>
        string.IsNullOrWhiteSpace(name) || name.Trim().Length > 100
            ? new Failure(StatusCodes.Status400BadRequest, ProblemCodes.ValidationFailed, "Enter your name (up to 100 characters).", "name")
            : null;

    Failure? ValidateSignUp(string? email, string? password, string? name) => ValidateEmail(email) ?? ValidateName(name) ?? ValidatePassword(password);

    /// <summary>An address a user may sign in with (at sign-up, or as their new email).</summary>
    public static Failure? ValidateEmail(string? email) =>
        string.IsNullOrWhiteSpace(email) || email.Length > 254 || !MailAddress.TryCreate(email.Trim(), out var parsed) || parsed.Address != email.Trim()
            ? new Failure(StatusCodes.Status400BadRequest, ProblemCodes.ValidationFailed, "Enter a valid email address.", "email")
            : null;

    static Failure EmailTaken() => new(StatusCodes.Status409Conflict, ProblemCodes.EmailTaken, "An account with this email already exists.", "email");

    static Failure InvalidCredentials() => new(StatusCodes.Status401Unauthorized, ProblemCodes.InvalidCredentials, "The email or password is wrong.");

    static Failure Locked(TimeSpan remaining) =>
        new(StatusCodes.Status429TooManyRequests, ProblemCodes.AccountLocked, "Too many failed sign-ins. Try again later.", RetryAfter: remaining);
}

static class FailureResults
{
    /// <summary>Maps an expected account failure to its problem response (with <c>Retry-After</c> for a lockout).</summary>
    public static IResult ToProblem(this Accounts.Failure failure, HttpContext http)
    {
        if (failure.RetryAfter is { } retry)
        {
            Platform.Api.RetryAfter.Set(http.Response, retry);
        }
        return failure.Field is { } field && failure.Code == ProblemCodes.ValidationFailed
            ? ApiProblem.Invalid(field, failure.Message)
            : ApiProblem.Create(failure.Status, failure.Code, failure.Message);
    }
}
