using AgentMarket.Identity;
using AgentMarket.Platform.Api;
using AgentMarket.Platform.Errors;
using AgentMarket.Platform.Tenancy;
using Microsoft.EntityFrameworkCore;

namespace AgentMarket.Keys;

static class KeysEndpoints
{
    public static void MapKeys(this IEndpointRouteBuilder routes)
    {
        var keys = routes.MapGroup("/api/agent-api-keys").WithTags("Keys");
        keys.MapPost("/", CreateAsync).WithName("CreateAgentKey").RequireOrganization(MembershipRole.Manager);
        keys.MapGet("/", ListAsync).WithName("ListAgentKeys").RequireOrganization();
        keys.MapGet("/{uuid:guid}", GetAsync).WithName("GetAgentKey").RequireOrganization();
        keys.MapPatch("/{uuid:guid}", UpdateAsync).WithName("UpdateAgentKey").RequireOrganization(MembershipRole.Manager);
        keys.MapPost("/{uuid:guid}/regenerate", RegenerateAsync).WithName("RegenerateAgentKey").RequireOrganization(MembershipRole.Manager);
        keys.MapDelete("/{uuid:guid}", RevokeAsync).WithName("RevokeAgentKey").RequireOrganization(MembershipRole.Manager);
    }

    static async Task<IResult> CreateAsync(CreateKeyRequest request, AgentKeys keys, CancellationToken ct)
    {
        var (created, failure) = await keys.CreateAsync(request, ct);
        return failure is not null ? ToProblem(failure) : TypedResults.Created($"/api/agent-api-keys/{created!.Uuid}", created);
    }

    static async Task<IResult> ListAsync(Guid? config, int? limit, int? offset, AgentKeys keys, CancellationToken ct) =>
        TypedResults.Ok(await PageRequest.From(limit, offset).ToPageAsync(keys.List(config), ct));

    static async Task<IResult> GetAsync(Guid uuid, AgentKeys keys, CancellationToken ct) =>
        await keys.List(null, uuid).FirstOrDefaultAsync(ct) is { } key ? TypedResults.Ok(key) : ApiProblem.NotFound("key");

    static async Task<IResult> UpdateAsync(Guid uuid, UpdateKeyRequest request, AgentKeys keys, CancellationToken ct)
    {
        var (updated, failure) = await keys.UpdateAllowedOriginsAsync(uuid, request.AllowedOrigins, ct);
        return failure is not null ? ToProblem(failure) : TypedResults.Ok(updated);
    }

    static async Task<IResult> RegenerateAsync(Guid uuid, RegenerateKeyRequest? request, AgentKeys keys, CancellationToken ct)
    {
        var (created, failure) = await keys.RegenerateAsync(uuid, request?.GraceHours, ct);
        return failure is not null ? ToProblem(failure) : TypedResults.Ok(created);
    }

    static async Task<IResult> RevokeAsync(Guid uuid, AgentKeys keys, CancellationToken ct) =>
        await keys.RevokeAsync(uuid, ct) ? TypedResults.NoContent() : ApiProblem.NotFound("key");

    static Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult ToProblem(AgentKeys.Failure failure) =>
        failure.Field is { } field && failure.Code == ProblemCodes.ValidationFailed
            ? ApiProblem.Invalid(field, failure.Message)
            : ApiProblem.Create(failure.Status, failure.Code, failure.Message);
}
