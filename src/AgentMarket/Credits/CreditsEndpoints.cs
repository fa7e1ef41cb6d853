using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Text;
using System.Text.Json;
using AgentMarket.Credits.Ledger;
using AgentMarket.Credits.Plans;
using AgentMarket.Identity;
using AgentMarket.Payments;
using AgentMarket.Platform.Api;
using AgentMarket.Platform.Data;
using AgentMarket.Platform.Errors;
using AgentMarket.Platform.Tenancy;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;

namespace AgentMarket.Credits;

public sealed record BalanceResponse(Guid Organization, string Plan, long Balance, long Available, long Reserved, long Granted, long Paid, long Debt);
public sealed record PackageResponse(Guid Uuid, string Name, long Credits, long BonusCredits, long PriceCents, string Price);
public sealed record PlanResponse(string Code, string Name, long MonthlyPriceCents, long YearlyMonthlyPriceCents, long YearlyPriceCents,
    long MonthlyCredits, long DailyCredits, int ConcurrentSessions, int StorageGb, int WidgetPages, bool CanTopUp, bool IsCustom, IReadOnlyList<string> Features);
public sealed record PurchaseRequest(Guid? PackageUuid, string? Plan, BillingInterval? Interval) : IValidatableObject
{
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if ((PackageUuid is null) == (Plan is null))
        {
            yield return new ValidationResult("Send either package_uuid or plan (with interval).", [nameof(PackageUuid)]);
        }
    }
}
public sealed record ChangePlanRequest([property: Required, MaxLength(40)] string Plan, BillingInterval Interval = BillingInterval.Monthly);
public sealed record TransactionResponse(Guid Uuid, string Type, long Amount, long? BalanceAfter, string? Description, string? Reference, DateTime Created);
public sealed record CreditSettings(long? LowBalanceThreshold, Guid? AutoTopUpPackageUuid, long? AutoTopUpThreshold, long? SessionCreditCap,
    string? AutoTopUpFailureReason = null, DateTime? AutoTopUpFailedAt = null, SavedCard? SavedCard = null, DateTime? AutoTopUpPausedUntil = null);

/// <summary>The card Stripe keeps for the organization's automatic payments (brand and last four digits only).</summary>
public sealed record SavedCard(string? Brand, string? Last4);
/// <summary>
/// <c>PATCH /api/credits/settings/</c>'s body: a field left out keeps its setting, <c>null</c> switches it off, a value
/// sets it. Each is read as raw JSON to tell the first two apart.
/// </summary>
public sealed record CreditSettingsPatch(JsonElement LowBalanceThreshold, JsonElement AutoTopUpPackageUuid, JsonElement AutoTopUpThreshold, JsonElement SessionCreditCap)
{
    /// <summary>The settings after the patch, or the field whose value has the wrong type.</summary>
    public (CreditSettingsRequest? Request, string? WrongField) ApplyTo(CreditSettings current)
    {
        if (!Number(LowBalanceThreshold, current.LowBalanceThreshold, out var lowBalance))
        {
            return (null, "low_balance_threshold");
        }
        if (!Number(AutoTopUpThreshold, current.AutoTopUpThreshold, out var topUpBelow))
        {
            return (null, "auto_top_up_threshold");
        }
        if (!Number(SessionCreditCap, current.SessionCreditCap, out var sessionCap))
        {
            return (null, "session_credit_cap");
        }
        Guid? package = current.AutoTopUpPackageUuid;
        switch (AutoTopUpPackageUuid.ValueKind)
        {
            case JsonValueKind.Undefined:
                break;
            case JsonValueKind.Null:
                package = null;
                break;
            case JsonValueKind.String when AutoTopUpPackageUuid.TryGetGuid(out var id):
                package = id;
                break;
            default:
                return (null, "auto_top_up_package_uuid");
        }
        return (new CreditSettingsRequest(lowBalance, package, topUpBelow, sessionCap), null);
    }

    static bool Number(JsonElement value, long? current, out long? result)
    {
        (var valid, result) = value.ValueKind switch
        {
            JsonValueKind.Undefined => (true, current),
            JsonValueKind.Null => (true, (long?)null),
            JsonValueKind.Number when value.TryGetInt64(out var number) => (true, number),
            _ => (false, current),
        };
        return valid;
    }
}

public sealed record CreditSettingsRequest(
    [property: Range(0, 100_000_000)] long? LowBalanceThreshold,
    Guid? AutoTopUpPackageUuid,
    [property: Range(0, 100_000_000)] long? AutoTopUpThreshold,
    [property: Range(1, 100_000_000)] long? SessionCreditCap);

static class CreditsEndpoints
{
    public static void MapCredits(this IEndpointRouteBuilder routes)
    {
        var credits = routes.MapGroup("/api/credits").WithTags("Credits");
        credits.MapGet("/balance", GetBalanceAsync).WithName("GetBalance").RequireOrganization();
        credits.MapGet("/packages", ListPackagesAsync).WithName("ListPackages").AllowAnyone();
        credits.MapPost("/purchase", PurchaseAsync).WithName("Purchase").RequireOrganization(MembershipRole.Manager);
        credits.MapGet("/transactions", ListTransactionsAsync).WithName("ListTransactions").RequireOrganization();
        credits.MapGet("/plan", GetPlanAsync).WithName("GetPlan").RequireOrganization();
        credits.MapPost("/plan", ChangePlanAsync).WithName("ChangePlan").RequireOrganization(MembershipRole.Owner);
        credits.MapGet("/settings", GetSettingsAsync).WithName("GetCreditSettings").RequireOrganization();
        credits.MapPatch("/settings", UpdateSettingsAsync).WithName("UpdateCreditSettings").RequireOrganization(MembershipRole.Manager);

        routes.MapGet("/api/plans", ListPlansAsync).WithTags("Credits").WithName("ListPlans").AllowAnyone();
    }

    static async Task<IResult> GetBalanceAsync(CurrentTenant tenant, AppDbContext db, CreditGrants grants, CreditLedger ledger, CancellationToken ct)
    {
        var organization = tenant.RequiredOrganizationId;
        var plan = await db.OrganizationPlans.AsNoTracking().Where(p => p.OrganizationId == organization).Select(p => p.PlanCode).FirstAsync(ct);
        await grants.EnsureAsync(organization, plan, ct);
        var balance = await ledger.BalanceAsync(organization, ct);
        return TypedResults.Ok(new BalanceResponse(organization, plan, balance.Balance, balance.Available, balance.Reserved, balance.Granted, balance.Paid, balance.Debt));
    }

    static async Task<IResult> ListPackagesAsync(AppDbContext db, CancellationToken ct)
    {
        var packages = await db.CreditPackages.AsNoTracking().Where(p => p.Active).OrderBy(p => p.SortOrder).ToListAsync(ct);
        return TypedResults.Ok(packages.ConvertAll(p => new PackageResponse(p.Id, p.Name, p.Credits, p.BonusCredits, p.PriceCents, Money.Format(p.PriceCents))));
    }

    static async Task<IResult> ListPlansAsync(AppDbContext db, CancellationToken ct)
    {
        var plans = await db.Plans.AsNoTracking().OrderBy(p => p.SortOrder).ToListAsync(ct);
        return TypedResults.Ok(plans.ConvertAll(ToResponse));
    }

    internal static async Task<IResult> PurchaseAsync(PurchaseRequest request, [FromHeader(Name = "Idempotency-Key")] string? idempotencyKey, Checkouts checkouts,
        CurrentTenant tenant, HttpContext http, CancellationToken ct)
    {
        if (idempotencyKey is { Length: > 100 })
        {
            return ApiProblem.Invalid("Idempotency-Key", "Use at most 100 characters.");
        }
        if (request.PackageUuid is null && !tenant.HasRole(MembershipRole.Owner))
        {
            // Managers buy packages; the plan is the owner's, as on the pricing page and POST /api/credits/plan/.
            return ApiProblem.Forbidden(ProblemCodes.InsufficientRole, "Changing the plan needs the owner role.");
        }
        var urls = CheckoutUrlsFor(http);
        var (checkout, failure) = request.PackageUuid is { } package
            ? await checkouts.ForPackageAsync(package, idempotencyKey, urls, ct)
            : await checkouts.ForPlanAsync(request.Plan!.Trim().ToLowerInvariant(), request.Interval ?? BillingInterval.Monthly, idempotencyKey, urls, ct);
        return failure is not null ? ToProblem(failure) : TypedResults.Created($"/api/payments/{checkout!.CheckoutUuid}", checkout);
    }

    static async Task<IResult> GetPlanAsync(PlanChanges plans, CancellationToken ct) => TypedResults.Ok(await plans.CurrentAsync(ct));

    static async Task<IResult> ChangePlanAsync(ChangePlanRequest request, [FromHeader(Name = "Idempotency-Key")] string? idempotencyKey, PlanChanges plans, HttpContext http, CancellationToken ct)
    {
        var (result, failure) = await plans.ChangeAsync(request.Plan.Trim().ToLowerInvariant(), request.Interval, idempotencyKey, CheckoutUrlsFor(http), ct);
        return failure is not null ? ToProblem(failure) : TypedResults.Ok(result);
    }

    static async Task<IResult> ListTransactionsAsync(string? type, DateTime? from, DateTime? to, string? format, int? limit, int? offset,
        CurrentTenant tenant, AppDbContext db, CancellationToken ct)
    {
        if (type is not null && !TransactionHistory.Types.Contains(type))
        {
            return ApiProblem.Invalid("type", $"Use one of: {string.Join(", ", TransactionHistory.Types)}.");
        }
        var query = TransactionHistory.Query(db, tenant.RequiredOrganizationId, type, from, to);
        if (string.Equals(format, "csv", StringComparison.OrdinalIgnoreCase))
        {
            var rows = await query.Take(100_000).ToListAsync(ct);
            return TypedResults.File(Encoding.UTF8.GetBytes(ToCsv(rows)), "text/csv", "transactions.csv");
        }
        return TypedResults.Ok(await PageRequest.From(limit, offset).ToPageAsync(query, ct));
    }

    static async Task<IResult> GetSettingsAsync(CreditSettingsChanges settings, CancellationToken ct) => TypedResults.Ok(await settings.CurrentAsync(ct));

    static async Task<IResult> UpdateSettingsAsync(CreditSettingsPatch patch, CreditSettingsChanges settings, CancellationToken ct)
    {
        var (request, wrongField) = patch.ApplyTo(await settings.CurrentAsync(ct));
        if (request is null)
        {
            // A value of the wrong JSON type, as the binder answers for every other route.
            return ApiProblem.BadRequest(ProblemCodes.MalformedJson, $"The JSON value of '{wrongField}' has the wrong type: " + (wrongField == "auto_top_up_package_uuid"
                ? "give a package's uuid, or null to switch automatic top-ups off." : "give a whole number of credits, or null to switch it off."));
        }
        var invalid = new List<ValidationResult>();
        if (!Validator.TryValidateObject(request, new ValidationContext(request), invalid, validateAllProperties: true))
        {
            var first = invalid[0];
            return ApiProblem.Invalid(JsonNamingPolicy.SnakeCaseLower.ConvertName(first.MemberNames.First()), first.ErrorMessage ?? "Out of range.");
        }
        var (updated, failure) = await settings.UpdateAsync(request, ct);
        return failure switch
        {
            null => TypedResults.Ok(updated),
            { Field: { } field } => ApiProblem.Invalid(field, failure.Message),
            _ => ApiProblem.Create(failure.Status, failure.Code, failure.Message, failure.Extensions),
        };
    }

    public static PlanResponse ToResponse(Plan p) => new(p.Code, p.Name, p.MonthlyPriceCents, p.YearlyMonthlyPriceCents, p.YearlyPriceCents,
        p.MonthlyCredits, p.DailyCredits, p.ConcurrentSessions, p.StorageGb, p.WidgetPages, p.CanTopUp, p.IsCustom, p.Features);

    public static CheckoutUrls CheckoutUrlsFor(HttpContext http) => new(InvitationEndpoints.PublicBaseUrl(http), "/credits/success", "/credits");

    public static IResult ToProblem(Checkouts.Failure failure) => ApiProblem.Create(failure.Status, failure.Code, failure.Message, failure.Extensions);

    static string ToCsv(List<TransactionResponse> rows)
    {
        var csv = new StringBuilder("uuid,type,amount,balance_after,description,reference,created\n");
        foreach (var r in rows)
        {
            csv.Append(CultureInfo.InvariantCulture, $"{r.Uuid},{r.Type},{r.Amount},{r.BalanceAfter},{CsvText.Field(r.Description)},{CsvText.Field(r.Reference)},{r.Created:O}\n");
        }
        return csv.ToString();
    }
}

/// <summary>USD amounts are integer cents; this is the only place they become text.</summary>
public static class Money
{
    public static string Format(long cents) => (cents / 100m).ToString("$#,##0.00", CultureInfo.InvariantCulture);
}
