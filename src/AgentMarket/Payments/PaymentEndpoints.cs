using System.ComponentModel.DataAnnotations;
using AgentMarket.Credits;
using AgentMarket.Platform.Api;
using AgentMarket.Platform.Data;
using AgentMarket.Platform.Errors;
using AgentMarket.Platform.Tenancy;
using Microsoft.EntityFrameworkCore;

namespace AgentMarket.Payments;

public sealed record CompleteSandboxRequest([property: Required, MaxLength(40)] string CardNumber);
public sealed record PaymentResponse(Guid Uuid, PaymentPurpose Purpose, PaymentStatus Status, long AmountCents, string Amount, long RefundedCents, long Credits,
    string Description, string? PlanCode, PaymentProviderKind Provider, string? FailureReason, Guid? Receipt, DateTime Created, DateTime? Completed);
public sealed record ReceiptResponse(Guid Uuid, string Number, Guid Payment, string BillTo, IReadOnlyList<ReceiptLine> Lines,
    long SubtotalCents, long TaxCents, long TotalCents, string Currency, PaymentStatus Status, bool TestMode, DateTime Issued);

static class PaymentEndpoints
{
    public static void MapPayments(this IEndpointRouteBuilder routes)
    {
        var payments = routes.MapGroup("/api/payments").WithTags("Payments");
        payments.MapGet("/", ListPaymentsAsync).WithName("ListPayments").RequireOrganization();
        payments.MapGet("/{uuid:guid}", GetPaymentAsync).WithName("GetPayment").RequireOrganization();
        payments.MapPost("/sandbox/{uuid:guid}/complete", CompleteSandboxAsync).WithName("CompleteSandboxCheckout").RequireOrganization();

        var receipts = routes.MapGroup("/api/receipts").WithTags("Payments");
        receipts.MapGet("/", ListReceiptsAsync).WithName("ListReceipts").RequireOrganization();
        receipts.MapGet("/{uuid:guid}", GetReceiptAsync).WithName("GetReceipt").RequireOrganization();
    }

    static async Task<IResult> ListPaymentsAsync(int? limit, int? offset, AppDbContext db, CancellationToken ct)
    {
        var page = await PageRequest.From(limit, offset).ToPageAsync(db.Payments.AsNoTracking().OrderByDescending(p => p.CreatedUtc), ct);
        var receipts = await ReceiptIdsAsync(db, page.Items.Select(p => p.Id).ToList(), ct);
        return TypedResults.Ok(new Page<PaymentResponse>(page.Items.Select(p => ToResponse(p, receipts.GetValueOrDefault(p.Id))).ToList(), page.Total, page.Limit, page.Offset));
    }

    static async Task<IResult> GetPaymentAsync(Guid uuid, AppDbContext db, CancellationToken ct)
    {
        var payment = await db.Payments.AsNoTracking().FirstOrDefaultAsync(p => p.Id == uuid, ct);
        if (payment is null)
        {
            return ApiProblem.NotFound("payment");
        }
        var receipts = await ReceiptIdsAsync(db, [payment.Id], ct);
        return TypedResults.Ok(ToResponse(payment, receipts.GetValueOrDefault(payment.Id)));
    }

    /// <summary>The sandbox checkout's API twin: pay a pending sandbox checkout with a test card.</summary>
    static async Task<IResult> CompleteSandboxAsync(Guid uuid, CompleteSandboxRequest request, SandboxCheckout sandbox, CancellationToken ct)
    {
        var (payment, failure) = await sandbox.CompleteAsync(uuid, request.CardNumber, ct);
        if (failure is not null)
        {
            return CreditsEndpoints.ToProblem(failure);
        }
        var receipt = await sandbox.ReceiptIdAsync(payment!.Id, ct);
        return TypedResults.Ok(ToResponse(payment, receipt));
    }

    static async Task<IResult> ListReceiptsAsync(int? limit, int? offset, AppDbContext db, CancellationToken ct)
    {
        var page = await PageRequest.From(limit, offset).ToPageAsync(db.Receipts.AsNoTracking().OrderByDescending(r => r.Sequence), ct);
        return TypedResults.Ok(new Page<ReceiptResponse>(page.Items.Select(ToResponse).ToList(), page.Total, page.Limit, page.Offset));
    }

    static async Task<IResult> GetReceiptAsync(Guid uuid, AppDbContext db, CancellationToken ct) =>
        await db.Receipts.AsNoTracking().FirstOrDefaultAsync(r => r.Id == uuid, ct) is { } receipt
            ? TypedResults.Ok(ToResponse(receipt))
            : ApiProblem.NotFound("receipt");

    static async Task<Dictionary<Guid, Guid>> ReceiptIdsAsync(AppDbContext db, List<Guid> payments, CancellationToken ct) =>
        await db.Receipts.AsNoTracking().Where(r => payments.Contains(r.PaymentId)).ToDictionaryAsync(r => r.PaymentId, r => r.Id, ct);

    static PaymentResponse ToResponse(Payment p, Guid receipt) => new(p.Id, p.Purpose, p.Status, p.AmountCents, Money.Format(p.AmountCents), p.RefundedCents, p.Credits,
        p.Description, p.PlanCode, p.Provider, p.FailureReason, receipt == Guid.Empty ? null : receipt, p.CreatedUtc, p.CompletedUtc);

    public static ReceiptResponse ToResponse(Receipt r) => new(r.Id, r.Number, r.PaymentId, r.BillTo, r.Lines, r.SubtotalCents, r.TaxCents, r.TotalCents,
        r.Currency, r.Status, r.TestMode, r.IssuedUtc);
}

/// <summary>Completes a sandbox checkout with a test card (the checkout page and its API twin share this).</summary>
sealed class SandboxCheckout(AppDbContext db, IPaymentProvider provider, Fulfilment fulfilment)
{
    public async Task<(Payment? Payment, Checkouts.Failure? Failure)> CompleteAsync(Guid paymentId, string cardNumber, CancellationToken ct)
    {
        var payment = await db.Payments.AsNoTracking().FirstOrDefaultAsync(p => p.Id == paymentId, ct);
        if (payment is null || payment.Provider != PaymentProviderKind.Sandbox || provider.Kind != PaymentProviderKind.Sandbox)
        {
            return (null, new Checkouts.Failure(StatusCodes.Status404NotFound, ProblemCodes.NotFound, "The checkout was not found."));
        }
        if (payment.Status == PaymentStatus.Succeeded)
        {
            return (payment, null); // paying twice (a double click, a retry) changes nothing
        }
        if (payment.Status != PaymentStatus.Pending && payment.Status != PaymentStatus.Failed)
        {
            return (null, new Checkouts.Failure(StatusCodes.Status409Conflict, "checkout_closed", "This checkout can no longer be paid."));
        }
        switch (SandboxPaymentProvider.Judge(cardNumber))
        {
            case SandboxPaymentProvider.CardVerdict.Invalid:
                return (null, new Checkouts.Failure(StatusCodes.Status400BadRequest, ProblemCodes.ValidationFailed, "Enter a valid card number.",
                    new Dictionary<string, object?> { ["errors"] = new Dictionary<string, string[]> { ["card_number"] = ["Enter a valid card number."] } }));
            case SandboxPaymentProvider.CardVerdict.Declined:
                await fulfilment.FailAsync(payment.Id, "Your card was declined.", ct);
                return (null, new Checkouts.Failure(StatusCodes.Status402PaymentRequired, "card_declined", "Your card was declined. Try another card."));
        }
        var digits = new string(cardNumber.Where(char.IsAsciiDigit).ToArray());
        var paid = await fulfilment.SucceedAsync(payment.Id, $"sandbox_{payment.Id:N}", digits[^4..], ct);
        return (paid, null);
    }

    public async Task<Guid> ReceiptIdAsync(Guid paymentId, CancellationToken ct) =>
        await db.Receipts.AsNoTracking().Where(r => r.PaymentId == paymentId).Select(r => r.Id).FirstOrDefaultAsync(ct);
}
