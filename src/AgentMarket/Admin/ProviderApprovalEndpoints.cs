using System.ComponentModel.DataAnnotations;
using AgentMarket.Platform.Api;
using AgentMarket.Platform.Data;
using AgentMarket.Platform.Errors;
using AgentMarket.Platform.Tenancy;
using AgentMarket.Providers;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace AgentMarket.Admin;

public sealed record RejectRequest([property: Required, MinLength(1), MaxLength(1000)] string Reason);
public sealed record ProfileChangeApproveRequest([property: Required, MaxLength(64)] string Revision);
public sealed record ProfileChangeRejectRequest([property: Required, MinLength(1), MaxLength(1000)] string Reason, [property: Required, MaxLength(64)] string Revision);
public sealed record ProviderApplicationResponse(Guid Uuid, string Handle, string Name, string? Bio, ProviderState State, string? DecisionReason, Guid Organization, string OrganizationName, DateTime Created);

/// <summary>
/// The operator's queue of provider applications, and of approved providers' profile edits (ADR-170), used when
/// auto-approval is off. A decision on an edit names the revision the operator read: 409 <c>provider_profile_changed</c>
/// when the provider edited or withdrew it since.
/// </summary>
static class ProviderApprovalEndpoints
{
    public static void MapProviderApprovals(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/admin/providers").WithTags("Admin");
        group.MapGet("/", ListAsync).WithName("AdminListProviders").RequireOperator();
        group.MapPost("/{uuid:guid}/approve", ApproveAsync).WithName("AdminApproveProvider").RequireOperator();
        group.MapPost("/{uuid:guid}/reject", RejectAsync).WithName("AdminRejectProvider").RequireOperator();
        group.MapGet("/profile-changes", ListProfileChangesAsync).WithName("AdminListProviderProfileChanges").RequireOperator();
        group.MapPost("/{uuid:guid}/profile-change/approve", ApproveProfileChangeAsync).WithName("AdminApproveProviderProfileChange").RequireOperator();
        group.MapPost("/{uuid:guid}/profile-change/reject", RejectProfileChangeAsync).WithName("AdminRejectProviderProfileChange").RequireOperator();
    }

    static async Task<IResult> ListProfileChangesAsync(ProviderProfileDecisions decisions, CancellationToken ct) =>
        TypedResults.Ok(await decisions.WaitingAsync(200, ct));

    static async Task<IResult> ApproveProfileChangeAsync(Guid uuid, ProfileChangeApproveRequest request, ProviderProfileDecisions decisions, CancellationToken ct) =>
        ProfileDecision(await decisions.ApproveAsync(uuid, request.Revision, ct));

    static async Task<IResult> RejectProfileChangeAsync(Guid uuid, ProfileChangeRejectRequest request, ProviderProfileDecisions decisions, CancellationToken ct) =>
        ProfileDecision(await decisions.RejectAsync(uuid, request.Revision, request.Reason, ct));

    static IResult ProfileDecision((ProviderProfileDecisions.Outcome Outcome, Provider? Provider) decision) => decision.Outcome switch
    {
        ProviderProfileDecisions.Outcome.Done => TypedResults.Ok(ProviderEndpoints.ToResponse(decision.Provider!)),
        ProviderProfileDecisions.Outcome.Changed => ApiProblem.Conflict(ProblemCodes.ProviderProfileChanged,
            "The provider edited or withdrew its profile edit since you read it: nothing changed. Read the queue again."),
        _ => ApiProblem.NotFound("pending profile change"),
    };

    static async Task<IResult> ListAsync(string? state, int? limit, int? offset, AppDbContext db, CancellationToken ct)
    {
        ProviderState? filter = null;
        if (state is not null)
        {
            if (!EnumNames<ProviderState>.TryParse(state, out var parsed))
            {
                return ApiProblem.Invalid("state", "Use pending, approved or rejected.");
            }
            filter = parsed;
        }
        var query = db.Providers.AsNoTracking()
            .Where(p => filter == null || p.State == filter)
            .OrderBy(p => p.CreatedUtc)
            .Select(p => new ProviderApplicationResponse(p.Id, p.Handle, p.Name, p.Bio, p.State, p.DecisionReason, p.OrganizationId, p.Organization!.Name, p.CreatedUtc));
        return TypedResults.Ok(await PageRequest.From(limit, offset).ToPageAsync(query, ct));
    }

    static Task<IResult> ApproveAsync(Guid uuid, ProviderDecisions decisions, CancellationToken ct) =>
        DecideAsync(decisions.DecideAsync(uuid, ProviderState.Approved, null, ct));

    static Task<IResult> RejectAsync(Guid uuid, RejectRequest request, ProviderDecisions decisions, CancellationToken ct) =>
        DecideAsync(decisions.DecideAsync(uuid, ProviderState.Rejected, request.Reason.Trim(), ct));

    static async Task<IResult> DecideAsync(Task<Provider?> decision) =>
        await decision is { } provider ? TypedResults.Ok(ProviderEndpoints.ToResponse(provider)) : ApiProblem.NotFound("provider");
}
