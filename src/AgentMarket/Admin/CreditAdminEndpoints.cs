using System.ComponentModel.DataAnnotations;
using AgentMarket.Credits.Ledger;
using AgentMarket.Payments;
using AgentMarket.Platform.Api;
using AgentMarket.Platform.Errors;
using AgentMarket.Platform.Tenancy;

namespace AgentMarket.Admin;

/// <param name="ExpectedRefundedCents">The payment's refunded total the amount was chosen from; when it has changed since, 409 <c>refund_conflict</c>.</param>
public sealed record RefundRequest([property: Range(1, long.MaxValue)] long? AmountCents, [property: Range(0, long.MaxValue)] long? ExpectedRefundedCents = null);

/// <summary>Operator tools for money: the ledger check, every organization's payments, and refunds.</summary>
static class CreditAdminEndpoints
{
    public static void MapCreditAdmin(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/api/admin/ledger/check", CheckAsync).WithTags("Admin").WithName("AdminLedgerCheck").RequireOperator();
        routes.MapGet("/api/admin/payments", ListPaymentsAsync).WithTags("Admin").WithName("AdminListPayments").RequireOperator();
        routes.MapPost("/api/admin/payments/{uuid:guid}/refund", RefundAsync).WithTags("Admin").WithName("AdminRefundPayment").RequireOperator();
    }

    static async Task<IResult> CheckAsync(LedgerCheck check, CancellationToken ct) => TypedResults.Ok(await check.RunAsync(ct));

    static async Task<IResult> ListPaymentsAsync(string? status, Guid? organization, int? limit, int? offset, PaymentAdministration payments, CancellationToken ct)
    {
        PaymentStatus? only = null;
        if (!string.IsNullOrEmpty(status))
        {
            if (!Enum.TryParse<PaymentStatus>(status.Replace("_", "", StringComparison.Ordinal), ignoreCase: true, out var parsed) || !Enum.IsDefined(parsed))
            {
                return ApiProblem.Invalid("status", "Use pending, succeeded, failed, refunded or partially_refunded.");
            }
            only = parsed;
        }
        return TypedResults.Ok(await payments.ListAsync(only, organization, PageRequest.From(limit, offset), ct));
    }

    static async Task<IResult> RefundAsync(Guid uuid, RefundRequest? request, PaymentAdministration payments, CancellationToken ct)
    {
        var (payment, failure) = await payments.RefundAsync(uuid, request?.AmountCents, request?.ExpectedRefundedCents, ct);
        return failure is not null
            ? ApiProblem.Create(failure.Status, failure.Code, failure.Message)
            : TypedResults.Ok(new { uuid = payment!.Id, status = payment.Status, refunded_cents = payment.RefundedCents });
    }
}
