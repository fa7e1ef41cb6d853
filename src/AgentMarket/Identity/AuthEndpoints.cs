using System.ComponentModel.DataAnnotations;
using AgentMarket.Audit;
using AgentMarket.Platform.Data;
using AgentMarket.Platform.Errors;
using AgentMarket.Platform.Tenancy;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace AgentMarket.Identity;

public sealed record UserResponse(Guid Uuid, string Email, string Name);
public sealed record OrganizationResponse(Guid Uuid, string Name);
public sealed record ProjectSummary(Guid Uuid, string Name);
public sealed record SignUpResponse(UserResponse User, OrganizationResponse Organization, ProjectSummary Project);

public sealed record UpdateMeRequest([property: Required, MaxLength(100)] string Name);

public sealed record SignUpRequest(
    [property: Required, MaxLength(254)] string Email,
    [property: Required, MaxLength(128)] string Password,
    [property: Required, MaxLength(100)] string Name);

public sealed record SignInRequest([property: Required, MaxLength(254)] string Email, [property: Required, MaxLength(128)] string Password);

public sealed record PasswordResetRequest([property: Required, MaxLength(254)] string Email);

public sealed record ResetPasswordRequest([property: Required, MaxLength(100)] string Token, [property: Required, MaxLength(128)] string Password);

public sealed record ChangePasswordRequest([property: Required, MaxLength(128)] string CurrentPassword, [property: Required, MaxLength(128)] string NewPassword);

public sealed record ChangeEmailRequest([property: Required, MaxLength(254)] string Email, [property: Required, MaxLength(128)] string Password);

public sealed record ConfirmEmailChangeRequest([property: Required, MaxLength(100)] string Token);

public sealed record RevertEmailChangeRequest([property: Required, MaxLength(100)] string Token);

public sealed record CreateTokenRequest(
    [property: Required, MaxLength(254)] string Email,
    [property: Required, MaxLength(128)] string Password,
    [property: Required, MinLength(1), MaxLength(100)] string Name,
    DateTime? ExpiresAt);

public sealed record CreatedTokenResponse(Guid Uuid, string Name, string Token, string Prefix, DateTime? ExpiresAt);
public sealed record TokenResponse(Guid Uuid, string Name, string Prefix, DateTime Created, DateTime? ExpiresAt, DateTime? LastUsed, bool Revoked);

public sealed record MeResponse(UserResponse User, bool IsOperator, IReadOnlyList<MyOrganization> Organizations);
public sealed record MyOrganization(Guid Uuid, string Name, MembershipRole Role, bool IsProvider);

static class AuthEndpoints
{
    public static void MapAuth(this IEndpointRouteBuilder routes)
    {
        var auth = routes.MapGroup("/api/auth").WithTags("Identity").RequireRateLimiting(IdentityModule.AuthRateLimit);
        auth.MapPost("/signup", SignUpAsync).WithName("SignUp").AllowAnyone();
        auth.MapPost("/signin", SignInAsync).WithName("SignIn").AllowAnyone();
        auth.MapPost("/signout", SignOutAsync).WithName("SignOut").AllowAnyone();
        auth.MapPost("/tokens", CreateTokenAsync).WithName("CreateToken").AllowAnyone();
        auth.MapPost("/password-reset", RequestPasswordResetAsync).WithName("RequestPasswordReset").AllowAnyone();
        auth.MapPost("/password-reset/confirm", ResetPasswordAsync).WithName("ResetPassword").AllowAnyone();
        auth.MapPost("/password", ChangePasswordAsync).WithName("ChangePassword").RequireUser();
        auth.MapPost("/email-change/confirm", ConfirmEmailChangeAsync).WithName("ConfirmEmailChange").RequireUser();
        // Anonymous: whoever lost the account to the change has lost its session too (ADR-142).
        auth.MapPost("/email-change/revert", RevertEmailChangeAsync).WithName("RevertEmailChange").AllowAnyone();
        auth.MapGet("/tokens", ListTokensAsync).WithName("ListTokens").RequireUser().DisableRateLimiting();
        auth.MapDelete("/tokens/{uuid:guid}", RevokeTokenAsync).WithName("RevokeToken").RequireUser().DisableRateLimiting();
        auth.MapSessions();

        routes.MapGet("/api/me", GetMeAsync).WithTags("Identity").WithName("GetMe").RequireUser();
        routes.MapPatch("/api/me", UpdateMeAsync).WithTags("Identity").WithName("UpdateMe").RequireUser();
        // It checks the password, so it shares sign-in's limit per client address.
        routes.MapPost("/api/me/email", RequestEmailChangeAsync).WithTags("Identity").WithName("RequestEmailChange").RequireUser()
            .RequireRateLimiting(IdentityModule.AuthRateLimit);
    }

    static async Task<IResult> UpdateMeAsync(UpdateMeRequest request, Accounts accounts, UserSessions sessions, CurrentTenant tenant, AppDbContext db, HttpContext http, CancellationToken ct)
    {
        var (user, failure) = await accounts.RenameAsync(tenant.UserId!.Value, request.Name, ct);
        if (failure is not null)
        {
            return failure.ToProblem(http);
        }
        if (UserSessions.CurrentId(http.User) is not null)
        {
            await sessions.RenewAsync(http, user!); // the cookie carries the name the pages show
        }
        return await GetMeAsync(tenant, db, ct);
    }

    static async Task<IResult> SignUpAsync(SignUpRequest request, Accounts accounts, UserSessions sessions, HttpContext http, CancellationToken ct)
    {
        var (result, failure) = await accounts.SignUpAsync(request.Email, request.Password, request.Name, ct);
        if (failure is not null)
        {
            return failure.ToProblem(http);
        }
        await sessions.SignInAsync(http, result!.User);
        return TypedResults.Created("/api/me", new SignUpResponse(
            new UserResponse(result.User.Id, result.User.Email, result.User.Name),
            new OrganizationResponse(result.Organization.Id, result.Organization.Name),
            new ProjectSummary(result.Project.Id, result.Project.Name)));
    }

    static async Task<IResult> SignInAsync(SignInRequest request, Accounts accounts, UserSessions sessions, HttpContext http, CancellationToken ct)
    {
        var (user, failure) = await accounts.VerifyPasswordAsync(request.Email, request.Password, ct);
        if (failure is not null)
        {
            return failure.ToProblem(http);
        }
        await sessions.SignInAsync(http, user!);
        return TypedResults.Ok(new UserResponse(user!.Id, user.Email, user.Name));
    }

    /// <summary>Ends the cookie's session on the server too, so a copy of the cookie stops working as well.</summary>
    static async Task<NoContent> SignOutAsync(UserSessions sessions, HttpContext http)
    {
        await sessions.SignOutAsync(http);
        return TypedResults.NoContent();
    }

    /// <summary>Always 202, whether or not an account has the address: the answer does not tell who has an account.</summary>
    static async Task<Accepted> RequestPasswordResetAsync(PasswordResetRequest request, Passwords passwords, HttpContext http, CancellationToken ct)
    {
        await passwords.RequestResetAsync(request.Email, InvitationEndpoints.PublicBaseUrl(http), ct);
        return TypedResults.Accepted((string?)null);
    }

    static async Task<IResult> ResetPasswordAsync(ResetPasswordRequest request, Passwords passwords, HttpContext http, CancellationToken ct) =>
        await passwords.ResetAsync(request.Token, request.Password, ct) is { } failure ? failure.ToProblem(http) : TypedResults.NoContent();

    /// <summary>Ends the user's other sessions; a cookie session that made the change gets a new cookie and stays signed in.</summary>
    static async Task<IResult> ChangePasswordAsync(ChangePasswordRequest request, Passwords passwords, UserSessions sessions, CurrentTenant tenant, HttpContext http, CancellationToken ct)
    {
        var current = UserSessions.CurrentId(http.User);
        var (user, failure) = await passwords.ChangeAsync(tenant.UserId!.Value, request.CurrentPassword, request.NewPassword, current, ct);
        if (failure is not null)
        {
            return failure.ToProblem(http);
        }
        if (current is not null)
        {
            await sessions.RenewAsync(http, user!);
        }
        return TypedResults.NoContent();
    }

    /// <summary>202 once the link is on its way to the new address; an address another account has gets the same answer (ADR-139).</summary>
    static async Task<IResult> RequestEmailChangeAsync(ChangeEmailRequest request, EmailChanges changes, CurrentTenant tenant, HttpContext http, CancellationToken ct) =>
        await changes.RequestAsync(tenant.UserId!.Value, request.Email, request.Password, InvitationEndpoints.PublicBaseUrl(http), ct) is { } failure
            ? failure.ToProblem(http)
            : TypedResults.Accepted((string?)null);

    /// <summary>Only the link's user, signed in, may use it (ADR-139); a cookie session stays signed in, with the new address.</summary>
    static async Task<IResult> ConfirmEmailChangeAsync(ConfirmEmailChangeRequest request, EmailChanges changes, UserSessions sessions, CurrentTenant tenant, HttpContext http, CancellationToken ct)
    {
        var (user, keptSession, failure) = await changes.ConfirmAsync(request.Token, tenant.UserId, UserSessions.CurrentId(http.User), InvitationEndpoints.PublicBaseUrl(http), ct);
        if (failure is not null)
        {
            return failure.ToProblem(http);
        }
        if (keptSession)
        {
            await sessions.RenewAsync(http, user!);
        }
        return TypedResults.NoContent();
    }

    /// <summary>The account goes back to the address the link was sent to, without a password; a reset link is emailed there (ADR-142).</summary>
    static async Task<IResult> RevertEmailChangeAsync(RevertEmailChangeRequest request, EmailChangeReverts reverts, HttpContext http, CancellationToken ct) =>
        await reverts.RevertAsync(request.Token, InvitationEndpoints.PublicBaseUrl(http), ct) is { } failure ? failure.ToProblem(http) : TypedResults.NoContent();

    static async Task<IResult> CreateTokenAsync(CreateTokenRequest request, Accounts accounts, TokenIssuer issuer, TimeProvider clock, HttpContext http, CancellationToken ct)
    {
        if (request.ExpiresAt is { } expires && expires.ToUniversalTime() <= clock.GetUtcNow().UtcDateTime)
        {
            return ApiProblem.Invalid("expires_at", "The expiry must be in the future.");
        }
        var (user, failure) = await accounts.VerifyPasswordAsync(request.Email, request.Password, ct);
        if (failure is not null)
        {
            return failure.ToProblem(http);
        }
        var (token, secret) = await issuer.IssueAsync(user!.Id, request.Name, request.ExpiresAt?.ToUniversalTime(), ct);
        return TypedResults.Created($"/api/auth/tokens/{token.Id}", new CreatedTokenResponse(token.Id, token.Name, secret, token.Prefix, token.ExpiresUtc));
    }

    static async Task<Ok<List<TokenResponse>>> ListTokensAsync(CurrentTenant tenant, AppDbContext db, CancellationToken ct)
    {
        var userId = tenant.UserId;
        var tokens = await db.PersonalAccessTokens.AsNoTracking()
            .Where(t => t.UserId == userId)
            .OrderByDescending(t => t.CreatedUtc)
            .Select(t => new TokenResponse(t.Id, t.Name, t.Prefix, t.CreatedUtc, t.ExpiresUtc, t.LastUsedUtc, t.RevokedUtc != null))
            .ToListAsync(ct);
        return TypedResults.Ok(tokens);
    }

    static async Task<IResult> RevokeTokenAsync(Guid uuid, CurrentTenant tenant, AppDbContext db, AuditLog audit, TimeProvider clock, CancellationToken ct)
    {
        var userId = tenant.UserId;
        var now = clock.GetUtcNow().UtcDateTime;
        var exists = await db.PersonalAccessTokens.AnyAsync(t => t.Id == uuid && t.UserId == userId, ct);
        if (!exists)
        {
            return ApiProblem.NotFound("token");
        }
        if (await db.PersonalAccessTokens.Where(t => t.Id == uuid && t.UserId == userId && t.RevokedUtc == null)
            .ExecuteUpdateAsync(s => s.SetProperty(t => t.RevokedUtc, now), ct) > 0)
        {
            await audit.RecordAsync(AuditActions.PersonalTokenRevoked, null, "personal_token", uuid, ct: ct);
        }
        return TypedResults.NoContent();
    }

    static async Task<IResult> GetMeAsync(CurrentTenant tenant, AppDbContext db, CancellationToken ct)
    {
        var userId = tenant.UserId;
        var user = await db.Users.AsNoTracking().FirstOrDefaultAsync(u => u.Id == userId, ct);
        if (user is null)
        {
            return ApiProblem.NotFound("user");
        }
        var organizations = await db.Memberships.AsNoTracking()
            .Where(m => m.UserId == userId)
            .OrderBy(m => m.CreatedUtc)
            .Select(m => new MyOrganization(m.OrganizationId, m.Organization!.Name, m.Role, db.Providers.Any(p => p.OrganizationId == m.OrganizationId)))
            .ToListAsync(ct);
        return TypedResults.Ok(new MeResponse(new UserResponse(user.Id, user.Email, user.Name), user.IsOperator, organizations));
    }
}
