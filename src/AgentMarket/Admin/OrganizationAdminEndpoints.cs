using System.ComponentModel.DataAnnotations;
using AgentMarket.Audit;
using AgentMarket.Credits.Ledger;
using AgentMarket.Identity;
using AgentMarket.Platform.Api;
using AgentMarket.Platform.Data;
using AgentMarket.Platform.Errors;
using AgentMarket.Platform.Tenancy;
using AgentMarket.Subscriptions;
using Microsoft.EntityFrameworkCore;

namespace AgentMarket.Admin;

public sealed record SuspendRequest([property: Required, MinLength(1), MaxLength(1000)] string Reason);
public sealed record AdjustCreditsRequest([property: Required] long? Credits, [property: Required, MinLength(1), MaxLength(500)] string Reason);

public sealed record AdminOrganizationSummary(Guid Uuid, string Name, DateTime Created, bool Suspended, int MembersCount);
public sealed record AdminOrganizationMember(Guid Uuid, string Email, string Name, MembershipRole Role);
public sealed record AdminOrganizationDetails(Guid Uuid, string Name, DateTime Created, bool Suspended, DateTime? SuspendedAt, string? SuspensionReason,
    string? Plan, bool IsProvider, WalletBalance Balance, int SubscriptionsCount, IReadOnlyList<AdminOrganizationMember> Members);
public sealed record AdminUserSummary(Guid Uuid, string Email, string Name, bool IsOperator, DateTime Created, DateTime? LastSignIn, int OrganizationsCount);
public sealed record AdminUserMembership(Guid Organization, string OrganizationName, MembershipRole Role, bool Suspended);
public sealed record AdminUserDetails(Guid Uuid, string Email, string Name, bool IsOperator, DateTime Created, DateTime? LastSignIn, bool LockedOut,
    IReadOnlyList<AdminUserMembership> Organizations);
public sealed record AdminEndedAccess(Guid Uuid, int SessionsEnded, int PersonalTokensRevoked);
public sealed record AdjustCreditsResponse(Guid Operation, long Credits, long BalanceAfter, bool Replayed);

// The searches' ToLower() runs in the database as lower(), where the process's culture plays no part.
#pragma warning disable CA1304, CA1311

/// <summary>Operators' view of users and organizations: search, details, suspension, manual credit adjustments, ending a user's access.</summary>
static class OrganizationAdminEndpoints
{
    public static void MapOrganizationAdmin(this IEndpointRouteBuilder routes)
    {
        var organizations = routes.MapGroup("/api/admin/organizations").WithTags("Admin");
        organizations.MapGet("/", ListOrganizationsAsync).WithName("AdminListOrganizations").RequireOperator();
        organizations.MapGet("/{uuid:guid}", GetOrganizationAsync).WithName("AdminGetOrganization").RequireOperator();
        organizations.MapPost("/{uuid:guid}/suspend", SuspendAsync).WithName("AdminSuspendOrganization").RequireOperator();
        organizations.MapPost("/{uuid:guid}/reactivate", ReactivateAsync).WithName("AdminReactivateOrganization").RequireOperator();
        organizations.MapPost("/{uuid:guid}/credits/adjust", AdjustCreditsAsync).WithName("AdminAdjustCredits").RequireOperator();

        var users = routes.MapGroup("/api/admin/users").WithTags("Admin");
        users.MapGet("/", ListUsersAsync).WithName("AdminListUsers").RequireOperator();
        users.MapGet("/{uuid:guid}", GetUserAsync).WithName("AdminGetUser").RequireOperator();
        users.MapPost("/{uuid:guid}/end-sessions", EndSessionsAsync).WithName("AdminEndUserSessions").RequireOperator();
    }

    static async Task<IResult> ListOrganizationsAsync(string? q, bool? suspended, int? limit, int? offset, AppDbContext db, CurrentTenant tenant, CancellationToken ct)
    {
        tenant.EnterSystemScope(); // operators see every organization's memberships
        var query = Search(db, q);
        if (suspended is { } only)
        {
            query = query.Where(o => (o.SuspendedUtc != null) == only);
        }
        var page = query.OrderByDescending(o => o.CreatedUtc)
            .Select(o => new AdminOrganizationSummary(o.Id, o.Name, o.CreatedUtc, o.SuspendedUtc != null, db.Memberships.Count(m => m.OrganizationId == o.Id)));
        return TypedResults.Ok(await PageRequest.From(limit, offset).ToPageAsync(page, ct));
    }

    static async Task<IResult> GetOrganizationAsync(Guid uuid, AppDbContext db, CreditLedger ledger, CurrentTenant tenant, CancellationToken ct)
    {
        tenant.EnterSystemScope();
        return await DetailsAsync(uuid, db, ledger, ct) is { } details ? TypedResults.Ok(details) : ApiProblem.NotFound("organization");
    }

    /// <summary>Organizations whose name or any member's email contains <paramref name="q"/> (all when it is blank), case-insensitively.</summary>
    internal static IQueryable<Organization> Search(AppDbContext db, string? q)
    {
        var query = db.Organizations.AsNoTracking();
        if (string.IsNullOrWhiteSpace(q))
        {
            return query;
        }
        var pattern = ContainsPattern(q);
        return query.Where(o => EF.Functions.Like(o.Name.ToLower(), pattern, "\\")
            || db.Memberships.Any(m => m.OrganizationId == o.Id && EF.Functions.Like(m.User!.Email, pattern, "\\")));
    }

    internal static async Task<AdminOrganizationDetails?> DetailsAsync(Guid uuid, AppDbContext db, CreditLedger ledger, CancellationToken ct)
    {
        var organization = await db.Organizations.AsNoTracking().FirstOrDefaultAsync(o => o.Id == uuid, ct);
        if (organization is null)
        {
            return null;
        }
        var members = await db.Memberships.AsNoTracking().Where(m => m.OrganizationId == uuid).OrderBy(m => m.Role).ThenBy(m => m.CreatedUtc)
            .Select(m => new AdminOrganizationMember(m.UserId, m.User!.Email, m.User.Name, m.Role)).ToListAsync(ct);
        var plan = await db.OrganizationPlans.AsNoTracking().Where(p => p.OrganizationId == uuid).Select(p => p.PlanCode).FirstOrDefaultAsync(ct);
        var subscriptions = await db.CustomerAgentConfigs.AsNoTracking().CountAsync(c => c.OrganizationId == uuid && c.State != SubscriptionState.Terminated, ct);
        var isProvider = await db.Providers.AsNoTracking().AnyAsync(p => p.OrganizationId == uuid, ct);
        return new AdminOrganizationDetails(organization.Id, organization.Name, organization.CreatedUtc, organization.SuspendedUtc is not null, organization.SuspendedUtc,
            organization.SuspensionReason, plan, isProvider, await ledger.BalanceAsync(uuid, ct), subscriptions, members);
    }

    static async Task<IResult> SuspendAsync(Guid uuid, SuspendRequest request, Suspensions suspensions, CancellationToken ct) =>
        await suspensions.SuspendAsync(uuid, request.Reason.Trim(), ct) is { } organization
            ? TypedResults.Ok(new { uuid = organization.Id, suspended = true, suspended_at = organization.SuspendedUtc, reason = organization.SuspensionReason })
            : ApiProblem.NotFound("organization");

    static async Task<IResult> ReactivateAsync(Guid uuid, Suspensions suspensions, CancellationToken ct) =>
        await suspensions.ReactivateAsync(uuid, ct) is { } organization
            ? TypedResults.Ok(new { uuid = organization.Id, suspended = false })
            : ApiProblem.NotFound("organization");

    static async Task<IResult> AdjustCreditsAsync(Guid uuid, AdjustCreditsRequest request, HttpContext http, CreditAdjustments adjustments, CancellationToken ct)
    {
        var key = http.Request.Headers["Idempotency-Key"].ToString();
        var (result, problem) = await adjustments.AdjustAsync(uuid, request.Credits!.Value, request.Reason.Trim(), key.Length > 0 ? key : null, ct);
        return problem ?? TypedResults.Ok(result);
    }

    static async Task<IResult> ListUsersAsync(string? q, int? limit, int? offset, AppDbContext db, CurrentTenant tenant, CancellationToken ct)
    {
        tenant.EnterSystemScope();
        var query = db.Users.AsNoTracking();
        if (!string.IsNullOrWhiteSpace(q))
        {
            var pattern = ContainsPattern(q);
            query = query.Where(u => EF.Functions.Like(u.Email, pattern, "\\") || EF.Functions.Like(u.Name.ToLower(), pattern, "\\"));
        }
        var page = query.OrderByDescending(u => u.CreatedUtc)
            .Select(u => new AdminUserSummary(u.Id, u.Email, u.Name, u.IsOperator, u.CreatedUtc, u.LastSignInUtc, db.Memberships.Count(m => m.UserId == u.Id)));
        return TypedResults.Ok(await PageRequest.From(limit, offset).ToPageAsync(page, ct));
    }

    /// <summary>Signs the user out everywhere and revokes their personal access tokens (a stolen laptop, a departing employee).</summary>
    static async Task<IResult> EndSessionsAsync(Guid uuid, UserSessions sessions, CancellationToken ct) =>
        await sessions.EndEveryAccessAsync(uuid, ct) is { } ended
            ? TypedResults.Ok(new AdminEndedAccess(uuid, ended.SessionsEnded, ended.TokensRevoked))
            : ApiProblem.NotFound("user");

    /// <summary>A LIKE pattern matching <paramref name="text"/> anywhere, lower-cased, with LIKE's wildcards escaped.</summary>
    static string ContainsPattern(string text) =>
        "%" + text.Trim().ToLowerInvariant().Replace("\\", "\\\\", StringComparison.Ordinal).Replace("%", "\\%", StringComparison.Ordinal).Replace("_", "\\_", StringComparison.Ordinal) + "%";

    static async Task<IResult> GetUserAsync(Guid uuid, AppDbContext db, CurrentTenant tenant, TimeProvider clock, CancellationToken ct)
    {
        tenant.EnterSystemScope();
        var user = await db.Users.AsNoTracking().FirstOrDefaultAsync(u => u.Id == uuid, ct);
        if (user is null)
        {
            return ApiProblem.NotFound("user");
        }
        var organizations = await db.Memberships.AsNoTracking().Where(m => m.UserId == uuid).OrderBy(m => m.CreatedUtc)
            .Select(m => new AdminUserMembership(m.OrganizationId, m.Organization!.Name, m.Role, m.Organization.SuspendedUtc != null)).ToListAsync(ct);
        return TypedResults.Ok(new AdminUserDetails(user.Id, user.Email, user.Name, user.IsOperator, user.CreatedUtc, user.LastSignInUtc,
            user.LockedOutUntilUtc > clock.GetUtcNow().UtcDateTime, organizations));
    }
}

#pragma warning restore CA1304, CA1311

/// <summary>An operator's manual credit adjustment: a ledger <c>adjustment</c> with the reason, audited once per idempotency key.</summary>
sealed class CreditAdjustments(AppDbContext db, CreditLedger ledger, AuditLog audit)
{
    /// <summary>
    /// The most one adjustment moves, either way: a million dollars of credits, far above any real correction, and far
    /// enough below the 64-bit range that no sum of balances the ledger keeps or checks can overflow from a typo.
    /// </summary>
    public const long MaxCredits = 100_000_000;

    internal async Task<(AdjustCreditsResponse? Result, IResult? Problem)> AdjustAsync(Guid organizationId, long credits, string reason, string? idempotencyKey, CancellationToken ct)
    {
        if (credits == 0 || credits is > MaxCredits or < -MaxCredits)
        {
            return (null, ApiProblem.Invalid("credits", $"An adjustment adds (positive) or removes (negative) between 1 and {MaxCredits:N0} credits."));
        }
        if (!await db.Organizations.AnyAsync(o => o.Id == organizationId, ct))
        {
            return (null, ApiProblem.NotFound("organization"));
        }
        var result = await ledger.AdjustAsync($"admin-adjustment:{organizationId}:{idempotencyKey ?? Guid.CreateVersion7().ToString()}", organizationId, credits, reason, ct);
        switch (result.Status)
        {
            case LedgerStatus.Ok:
                break;
            case LedgerStatus.InsufficientCredits:
                return (null, ApiProblem.Create(StatusCodes.Status409Conflict, ProblemCodes.InsufficientCredits,
                    $"The organization has {result.Available:N0} paid credits available; an adjustment cannot take more."));
            case LedgerStatus.IdempotencyConflict:
                return (null, ApiProblem.Conflict(ProblemCodes.IdempotencyConflict, "This Idempotency-Key was used for a different adjustment."));
            default:
                return (null, ApiProblem.BadRequest(ProblemCodes.ValidationFailed, $"The ledger refused the adjustment ({result.Status})."));
        }
        if (!result.Replayed)
        {
            // The ledger commits in its own transaction; the entry follows it (a crash in between loses the entry, never the money).
            await audit.RecordAsync(AuditActions.CreditAdjusted, organizationId, "organization", organizationId,
                after: new { credits, reason, operation = result.OperationId, balance_after = result.BalanceAfter }, ct: ct);
        }
        return (new AdjustCreditsResponse(result.OperationId, credits, result.BalanceAfter, result.Replayed), null);
    }
}
