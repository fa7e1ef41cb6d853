using System.ComponentModel.DataAnnotations;
using AgentMarket.Credits.Ledger;
using AgentMarket.Payments;
using AgentMarket.Platform.Data;
using AgentMarket.Platform.Errors;
using AgentMarket.Platform.Tenancy;
using Microsoft.EntityFrameworkCore;

namespace AgentMarket.Admin;

public sealed record RefundRequest([property: Range(1, long.MaxValue)] long? AmountCents);

/// <summary>Operator tools for money: the ledger check and refunds.</summary>
static class CreditAdminEndpoints
{
    public static void MapCreditAdmin(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/api/admin/ledger/check", CheckAsync).WithTags("Admin").WithName("AdminLedgerCheck").RequireOperator();
        routes.MapPost("/api/admin/payments/{uuid:guid}/refund", RefundAsync).WithTags("Admin").WithName("AdminRefundPayment").RequireOperator();
    }

    static async Task<IResult> CheckAsync(LedgerCheck check, CancellationToken ct) => TypedResults.Ok(await check.RunAsync(ct));

    static async Task<IResult> RefundAsync(Guid uuid, RefundRequest? request, CurrentTenant tenant, Fulfilment fulfilment, AppDbContext db, CancellationToken ct)
    {
        tenant.EnterSystemScope(); // operators act on any organization's payment
        if (await db.Payments.AsNoTracking().AnyAsync(p => p.Id == uuid && p.Provider == PaymentProviderKind.Stripe, ct))
        {
            // Booking it here would take the credits back without returning the money; Stripe's webhook books it once paid back.
            return ApiProblem.Conflict("refund_in_stripe",
                "This payment was made through Stripe: refund it in Stripe's dashboard, and its charge.refunded event applies the refund here.");
        }
        var payment = await fulfilment.RefundAsync(uuid, request?.AmountCents ?? long.MaxValue, $"operator:{Guid.CreateVersion7()}", ct);
        return payment is null
            ? ApiProblem.NotFound("payment")
            : TypedResults.Ok(new { uuid = payment.Id, status = payment.Status, refunded_cents = payment.RefundedCents });
    }
}
