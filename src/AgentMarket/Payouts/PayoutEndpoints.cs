using System.ComponentModel.DataAnnotations;
using AgentMarket.Identity;
using AgentMarket.Platform.Data;
using AgentMarket.Platform.Errors;
using AgentMarket.Platform.Tenancy;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace AgentMarket.Payouts;

public sealed record PayoutLineResponse(Guid? Listing, string Description, long Runs, long GrossCredits, long CommissionCredits, long NetCredits);
public sealed record StatementTotals(long Runs, long GrossCredits, long CommissionCredits, long NetCredits, long AmountCents);
public sealed record PayoutResponse(
    Guid Uuid, Guid Provider, string Period, DateOnly StatementFrom, DateOnly StatementTo, long Credits, long AmountCents, string Currency,
    PayoutMethod Method, PayoutStatus Status, string? Reference, string? Note, DateTime Created, DateTime? Paid,
    IReadOnlyList<PayoutLineResponse>? Lines, StatementTotals? Totals);
public sealed record PayoutSettingsResponse(PayoutMethod Method, long MinimumCents, long MinimumFloorCents, string? StripeAccount, bool StripeTransfersEnabled);
public sealed record PayoutSettingsRequest(PayoutMethod? Method, [property: Range(1, PayoutSettings.MaximumMinimumCents)] long? MinimumCents);
public sealed record PayoutRunRequest([property: Required] string? Period);
public sealed record MarkPaidRequest([property: Required, MinLength(1), MaxLength(200)] string? Reference);
public sealed record PayoutRunResponse(string Period, int Created, int AlreadyExisting, int BelowMinimum, IReadOnlyList<PayoutResponse> Payouts);

/// <summary>
/// Providers' payouts and settings under <c>/api/providers/mine/</c> (their own organization only), and the operator's
/// payout run, list and mark-paid under <c>/api/admin/payouts/</c> (operators only; 404 for everyone else).
/// </summary>
static class PayoutEndpoints
{
    public static void MapPayouts(this IEndpointRouteBuilder routes)
    {
        var mine = routes.MapGroup("/api/providers/mine").WithTags("Payouts");
        mine.MapGet("/payouts", ListMineAsync).WithName("ListMyPayouts").RequireOrganization();
        mine.MapGet("/payouts/{uuid:guid}", GetMineAsync).WithName("GetMyPayout").RequireOrganization();
        mine.MapGet("/payout-settings", GetSettingsAsync).WithName("GetMyPayoutSettings").RequireOrganization();
        mine.MapPut("/payout-settings", PutSettingsAsync).WithName("UpdateMyPayoutSettings").RequireOrganization(MembershipRole.Manager);

        var admin = routes.MapGroup("/api/admin/payouts").WithTags("Admin");
        admin.MapPost("/run", RunAsync).WithName("AdminRunPayouts").RequireOperator();
        admin.MapGet("/", ListAllAsync).WithName("AdminListPayouts").RequireOperator();
        admin.MapPost("/{uuid:guid}/mark-paid", MarkPaidAsync).WithName("AdminMarkPayoutPaid").RequireOperator();
    }

    static async Task<IResult> ListMineAsync(PayoutSettingsService settings, AppDbContext db, CancellationToken ct)
    {
        if (await settings.MineAsync(ct) is null)
        {
            return ApiProblem.NotFound("provider");
        }
        // The tenant filter keeps this to the organization's own payouts.
        var payouts = await db.Payouts.AsNoTracking().OrderByDescending(p => p.Period).Take(120).ToListAsync(ct);
        return TypedResults.Ok(new { results = payouts.Select(p => ToResponse(p, withLines: false)).ToList(), count = payouts.Count });
    }

    static async Task<IResult> GetMineAsync(Guid uuid, AppDbContext db, CancellationToken ct)
    {
        var payout = await db.Payouts.AsNoTracking().Include(p => p.Lines).FirstOrDefaultAsync(p => p.Id == uuid, ct);
        return payout is null ? ApiProblem.NotFound("payout") : TypedResults.Ok(ToResponse(payout, withLines: true));
    }

    static async Task<IResult> GetSettingsAsync(PayoutSettingsService settings, CancellationToken ct) =>
        await settings.MineAsync(ct) is { } provider ? TypedResults.Ok(await settings.GetAsync(provider, ct)) : ApiProblem.NotFound("provider");

    static async Task<IResult> PutSettingsAsync(PayoutSettingsRequest request, PayoutSettingsService settings, HttpContext http, CancellationToken ct)
    {
        if (await settings.MineAsync(ct) is not { } provider)
        {
            return ApiProblem.NotFound("provider");
        }
        var (response, failure) = await settings.UpdateAsync(provider, request, ct);
        return failure is not null
            ? (failure.Field is { } field ? ApiProblem.Invalid(field, failure.Message) : ApiProblem.Create(failure.Status, failure.Code, failure.Message))
            : TypedResults.Ok(response);
    }

    static async Task<IResult> RunAsync(PayoutRunRequest request, PayoutAdministration payouts, CancellationToken ct)
    {
        var (run, failure) = await payouts.RunAsync(request.Period, ct);
        return run is null
            ? Problem(failure!)
            : TypedResults.Ok(new PayoutRunResponse(run.Period, run.Created, run.AlreadyExisting, run.BelowMinimum,
                run.Payouts.Select(p => ToResponse(p, withLines: false)).ToList()));
    }

    static async Task<IResult> ListAllAsync(string? status, string? period, PayoutAdministration payouts, CancellationToken ct)
    {
        PayoutStatus? wanted = null;
        if (!string.IsNullOrEmpty(status))
        {
            if (!EnumNames<PayoutStatus>.TryParse(status, out var parsed))
            {
                return ApiProblem.Invalid("status", "Use claimed, pending, paid or reversed.");
            }
            wanted = parsed;
        }
        var list = await payouts.ListAsync(wanted, period, 500, ct);
        return TypedResults.Ok(new { results = list.Select(p => ToResponse(p.Payout, withLines: false)).ToList(), count = list.Count });
    }

    /// <summary>A manual payout's money has gone out: the operator records the bank reference. Repeating it with the same reference changes nothing.</summary>
    static async Task<IResult> MarkPaidAsync(Guid uuid, MarkPaidRequest request, PayoutAdministration payouts, CancellationToken ct)
    {
        var (payout, failure) = await payouts.MarkPaidAsync(uuid, request.Reference!, ct);
        return failure is not null ? Problem(failure) : TypedResults.Ok(ToResponse(payout!, withLines: true));
    }

    static ProblemHttpResult Problem(PayoutAdministration.Failure failure) =>
        failure.Field is { } field ? ApiProblem.Invalid(field, failure.Message) : ApiProblem.Create(failure.Status, failure.Code, failure.Message);

    public static PayoutResponse ToResponse(Payout p, bool withLines) => new(
        p.Id, p.ProviderId, p.Period, p.StatementFrom, p.StatementTo, p.Credits, p.AmountCents, "usd", p.Method, p.Status, p.Reference, p.Note, p.CreatedUtc, p.PaidUtc,
        withLines ? p.Lines.OrderBy(l => l.ListingId is null).ThenByDescending(l => l.NetCredits)
            .Select(l => new PayoutLineResponse(l.ListingId, l.Description, l.Runs, l.GrossCredits, l.CommissionCredits, l.NetCredits)).ToList() : null,
        withLines ? new StatementTotals(p.Lines.Sum(l => l.Runs), p.Lines.Sum(l => l.GrossCredits), p.Lines.Sum(l => l.CommissionCredits), p.Lines.Sum(l => l.NetCredits), p.AmountCents) : null);
}
