using AgentMarket.Identity;
using AgentMarket.Platform.Api;
using AgentMarket.Platform.Data;
using AgentMarket.Platform.Errors;
using AgentMarket.Platform.Tenancy;
using Microsoft.EntityFrameworkCore;

namespace AgentMarket.Audit;

public sealed record AuditEntryResponse(Guid Uuid, DateTime OccurredAt, string Action, AuditActor Actor, Guid? Organization,
    AuditTarget? Target, System.Text.Json.JsonElement? Before, System.Text.Json.JsonElement? After, string? ClientIp);
public sealed record AuditActor(Guid? Uuid, string? Email);
public sealed record AuditTarget(string? Type, string? Id);

/// <summary>
/// Reading the audit log: operators across organizations, owners for their own organization. Reading is all there is:
/// no route changes or deletes an entry.
/// </summary>
static class AuditEndpoints
{
    public static void MapAuditLog(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/api/admin/audit/", ListAllAsync).WithTags("Admin").WithName("AdminAuditLog").RequireOperator();
        routes.MapGet("/api/organizations/{uuid:guid}/audit/", ListOrganizationAsync).WithTags("Organizations").WithName("OrganizationAuditLog")
            .RequireOrganization(MembershipRole.Owner, "uuid");
    }

    static Task<IResult> ListAllAsync(Guid? organization, string? actor, string? action, string? target_type, string? target,
        DateTime? from, DateTime? to, int? limit, int? offset, AppDbContext db, CancellationToken ct) =>
        ListAsync(db.AuditEntries.AsNoTracking().Where(e => organization == null || e.OrganizationId == organization),
            actor, action, target_type, target, from, to, limit, offset, ct);

    static Task<IResult> ListOrganizationAsync(CurrentTenant tenant, string? actor, string? action, string? target_type, string? target,
        DateTime? from, DateTime? to, int? limit, int? offset, AppDbContext db, CancellationToken ct)
    {
        var organization = tenant.RequiredOrganizationId;
        return ListAsync(db.AuditEntries.AsNoTracking().Where(e => e.OrganizationId == organization),
            actor, action, target_type, target, from, to, limit, offset, ct);
    }

    static async Task<IResult> ListAsync(IQueryable<AuditEntry> query, string? actor, string? action, string? targetType, string? target,
        DateTime? from, DateTime? to, int? limit, int? offset, CancellationToken ct)
    {
        if (from is { } f && to is { } t && f.ToUniversalTime() > t.ToUniversalTime())
        {
            return ApiProblem.Invalid("from", "from must not be after to.");
        }
        if (!string.IsNullOrWhiteSpace(actor))
        {
            if (Guid.TryParse(actor, out var actorId))
            {
                query = query.Where(e => e.ActorUserId == actorId);
            }
            else
            {
                var email = User.NormalizeEmail(actor);
                query = query.Where(e => e.ActorEmail == email);
            }
        }
        if (!string.IsNullOrWhiteSpace(action))
        {
            // "credits" finds every credits.* action; "credits.adjusted" exactly that one.
            var exact = action.Trim();
            var prefix = exact + ".";
            query = query.Where(e => e.Action == exact || e.Action.StartsWith(prefix));
        }
        if (!string.IsNullOrWhiteSpace(targetType))
        {
            var type = targetType.Trim();
            query = query.Where(e => e.TargetType == type);
        }
        if (!string.IsNullOrWhiteSpace(target))
        {
            var id = target.Trim();
            query = query.Where(e => e.TargetId == id);
        }
        if (from is { } start)
        {
            var utc = start.ToUniversalTime();
            query = query.Where(e => e.OccurredUtc >= utc);
        }
        if (to is { } end)
        {
            var utc = end.ToUniversalTime();
            query = query.Where(e => e.OccurredUtc < utc);
        }
        var page = await PageRequest.From(limit, offset).ToPageAsync(query.OrderByDescending(e => e.OccurredUtc).ThenByDescending(e => e.Id), ct);
        return TypedResults.Ok(new Page<AuditEntryResponse>(page.Items.Select(ToResponse).ToList(), page.Total, page.Limit, page.Offset));
    }

    static AuditEntryResponse ToResponse(AuditEntry e) => new(e.Id, e.OccurredUtc, e.Action, new AuditActor(e.ActorUserId, e.ActorEmail), e.OrganizationId,
        e.TargetType is null && e.TargetId is null ? null : new AuditTarget(e.TargetType, e.TargetId), Parse(e.Before), Parse(e.After), e.ClientIp);

    static System.Text.Json.JsonElement? Parse(string? json) => json is null ? null : System.Text.Json.JsonDocument.Parse(json).RootElement.Clone();
}
