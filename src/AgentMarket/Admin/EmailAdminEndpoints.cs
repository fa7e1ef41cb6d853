using AgentMarket.Platform.Api;
using AgentMarket.Platform.Errors;
using AgentMarket.Platform.Tenancy;

namespace AgentMarket.Admin;

/// <summary>Operators watch the email outbox and send failed emails again (ADR-123).</summary>
static class EmailAdminEndpoints
{
    public static void MapEmailAdmin(this IEndpointRouteBuilder routes)
    {
        var emails = routes.MapGroup("/api/admin/emails").WithTags("Admin");
        emails.MapGet("/", ListAsync).WithName("AdminListEmails").RequireOperator();
        emails.MapPost("/{uuid:guid}/retry", RetryAsync).WithName("AdminRetryEmail").RequireOperator();
    }

    static async Task<IResult> ListAsync(string? state, int? limit, int? offset, EmailOutbox outbox, CancellationToken ct)
    {
        EmailState? only = null;
        if (!string.IsNullOrEmpty(state))
        {
            if (!Enum.TryParse<EmailState>(state, ignoreCase: true, out var parsed) || !Enum.IsDefined(parsed))
            {
                return ApiProblem.Invalid("state", "Use pending, sent, failed or withdrawn.");
            }
            only = parsed;
        }
        return TypedResults.Ok(await outbox.ListAsync(only, PageRequest.From(limit, offset), ct));
    }

    static async Task<IResult> RetryAsync(Guid uuid, EmailOutbox outbox, CancellationToken ct)
    {
        var (email, failure) = await outbox.RetryAsync(uuid, ct);
        return failure is null ? TypedResults.Ok(email) : ApiProblem.Create(failure.Status, failure.Code, failure.Message);
    }
}
