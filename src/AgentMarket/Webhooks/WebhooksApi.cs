using AgentMarket.Identity;
using AgentMarket.Platform.Api;
using AgentMarket.Platform.Errors;
using AgentMarket.Platform.Tenancy;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace AgentMarket.Webhooks;

/// <summary>An event type and the fields of its <c>data</c>, each with what it means.</summary>
public sealed record WebhookEventTypeResponse(string Name, WebhookAudience Audience, string Description, IReadOnlyList<WebhookPayloadField> Fields);

/// <summary>
/// <c>/api/webhook-endpoints/</c> and <c>/api/webhook-deliveries/</c>: members read, managers and owners change.
/// Every query runs under the tenant filter, so another organization's ids answer 404.
/// </summary>
static class WebhooksApi
{
    public static void MapWebhooksApi(this IEndpointRouteBuilder routes)
    {
        var endpoints = routes.MapGroup("/api/webhook-endpoints").WithTags("Webhooks");
        endpoints.MapPost("/", CreateAsync).WithName("CreateWebhookEndpoint").RequireOrganization(MembershipRole.Manager);
        endpoints.MapGet("/", ListAsync).WithName("ListWebhookEndpoints").RequireOrganization();
        endpoints.MapGet("/{uuid:guid}", GetAsync).WithName("GetWebhookEndpoint").RequireOrganization();
        endpoints.MapPatch("/{uuid:guid}", UpdateAsync).WithName("UpdateWebhookEndpoint").RequireOrganization(MembershipRole.Manager);
        endpoints.MapDelete("/{uuid:guid}", DeleteAsync).WithName("DeleteWebhookEndpoint").RequireOrganization(MembershipRole.Manager);
        endpoints.MapPost("/{uuid:guid}/rotate-secret", RotateSecretAsync).WithName("RotateWebhookSecret").RequireOrganization(MembershipRole.Manager);
        endpoints.MapPost("/{uuid:guid}/test", SendTestAsync).WithName("SendWebhookTest").RequireOrganization(MembershipRole.Manager);
        endpoints.MapGet("/{uuid:guid}/deliveries", ListDeliveriesAsync).WithName("ListWebhookDeliveries").RequireOrganization();

        var deliveries = routes.MapGroup("/api/webhook-deliveries").WithTags("Webhooks");
        deliveries.MapGet("/{uuid:guid}", GetDeliveryAsync).WithName("GetWebhookDelivery").RequireOrganization();
        deliveries.MapPost("/{uuid:guid}/redeliver", RedeliverAsync).WithName("RedeliverWebhook").RequireOrganization(MembershipRole.Manager);

        routes.MapGet("/api/webhook-event-types/", () => TypedResults.Ok(WebhookEventTypes.All.Select(t => new WebhookEventTypeResponse(t.Name, t.Audience, t.Description, t.Fields))))
            .WithTags("Webhooks").WithName("ListWebhookEventTypes").AllowAnyone();
    }

    static async Task<IResult> CreateAsync(CreateWebhookEndpointRequest request, WebhookEndpoints endpoints, CancellationToken ct)
    {
        var (created, failure) = await endpoints.CreateAsync(request, ct);
        return failure is not null ? ToProblem(failure) : TypedResults.Created($"/api/webhook-endpoints/{created!.Uuid}", created);
    }

    static async Task<IResult> ListAsync(int? limit, int? offset, WebhookEndpoints endpoints, CancellationToken ct) =>
        TypedResults.Ok(await PageRequest.From(limit, offset).ToPageAsync(endpoints.List(), ct));

    static async Task<IResult> GetAsync(Guid uuid, WebhookEndpoints endpoints, CancellationToken ct) =>
        await endpoints.List(uuid).FirstOrDefaultAsync(ct) is { } endpoint ? TypedResults.Ok(endpoint) : ApiProblem.NotFound("webhook endpoint");

    static async Task<IResult> UpdateAsync(Guid uuid, UpdateWebhookEndpointRequest request, WebhookEndpoints endpoints, CancellationToken ct)
    {
        var (endpoint, failure) = await endpoints.UpdateAsync(uuid, request, ct);
        return failure is not null ? ToProblem(failure) : TypedResults.Ok(endpoint);
    }

    static async Task<IResult> DeleteAsync(Guid uuid, WebhookEndpoints endpoints, CancellationToken ct) =>
        await endpoints.DeleteAsync(uuid, ct) ? TypedResults.NoContent() : ApiProblem.NotFound("webhook endpoint");

    static async Task<IResult> RotateSecretAsync(Guid uuid, WebhookEndpoints endpoints, CancellationToken ct)
    {
        var (rotated, failure) = await endpoints.RotateSecretAsync(uuid, ct);
        return failure is not null ? ToProblem(failure) : TypedResults.Ok(rotated);
    }

    static async Task<IResult> SendTestAsync(Guid uuid, WebhookEndpoints endpoints, CancellationToken ct)
    {
        var (delivery, failure) = await endpoints.SendTestAsync(uuid, ct);
        return failure is not null ? ToProblem(failure) : TypedResults.Accepted($"/api/webhook-deliveries/{delivery!.Uuid}", delivery);
    }

    static async Task<IResult> ListDeliveriesAsync(Guid uuid, int? limit, int? offset, WebhookEndpoints endpoints, CancellationToken ct) =>
        await endpoints.EndpointExistsAsync(uuid, ct)
            ? TypedResults.Ok(await PageRequest.From(limit, offset).ToPageAsync(endpoints.Deliveries(uuid), ct))
            : ApiProblem.NotFound("webhook endpoint");

    static async Task<IResult> GetDeliveryAsync(Guid uuid, WebhookEndpoints endpoints, CancellationToken ct) =>
        await endpoints.DeliveryDetailsAsync(uuid, ct) is { } delivery ? TypedResults.Ok(delivery) : ApiProblem.NotFound("webhook delivery");

    static async Task<IResult> RedeliverAsync(Guid uuid, WebhookEndpoints endpoints, CancellationToken ct)
    {
        var (delivery, failure) = await endpoints.RedeliverAsync(uuid, ct);
        return failure is not null ? ToProblem(failure) : TypedResults.Accepted($"/api/webhook-deliveries/{delivery!.Uuid}", delivery);
    }

    static ProblemHttpResult ToProblem(WebhookEndpoints.Failure failure) =>
        failure.Field is { } field && failure.Code == ProblemCodes.ValidationFailed
            ? ApiProblem.Invalid(field, failure.Message)
            : failure.Field is { } named
                ? ApiProblem.Create(failure.Status, failure.Code, failure.Message,
                    new Dictionary<string, object?> { ["errors"] = new Dictionary<string, string[]> { [named] = [failure.Message] } })
                : ApiProblem.Create(failure.Status, failure.Code, failure.Message);
}
