using System.Text.Json;
using AgentMarket.Audit;
using AgentMarket.Credits.Ledger;
using AgentMarket.Identity;
using AgentMarket.Payments;
using AgentMarket.Payments.Stripe;
using AgentMarket.Platform.Data;
using AgentMarket.Platform.Errors;
using AgentMarket.Platform.Tenancy;
using AgentMarket.Providers;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace AgentMarket.Payouts;

public sealed record ConnectResponse(string Account, string OnboardingUrl, bool TransfersEnabled);

/// <summary>
/// Stripe Connect for payouts (SPEC §4): <c>POST /api/stripe/connect/</c> creates the provider's Express account once and
/// answers a fresh onboarding link; <c>account.updated</c> and <c>transfer.*</c> webhooks keep accounts and payouts current.
/// </summary>
static class StripeConnectEndpoints
{
    public static void MapStripeConnect(this IEndpointRouteBuilder routes) =>
        routes.MapPost("/api/stripe/connect", ConnectAsync).WithTags("Payouts").WithName("StripeConnect").RequireOrganization(MembershipRole.Manager);

    static async Task<IResult> ConnectAsync(StripeOnboarding onboarding, HttpContext http, CancellationToken ct)
    {
        var (connected, failure) = await onboarding.StartAsync(new Uri($"{http.Request.Scheme}://{http.Request.Host}"), ct);
        return failure is not null ? ApiProblem.Create(failure.Status, failure.Code, failure.Message) : TypedResults.Ok(connected);
    }
}

/// <summary>Creates the provider's Express account once and makes a fresh onboarding link; shared by the API and the payouts page.</summary>
sealed class StripeOnboarding(PayoutSettingsService settings, StripeClient stripe, IOptions<StripeOptions> options, AppDbContext db, CurrentTenant tenant)
{
    public async Task<(ConnectResponse? Connected, PayoutSettingsService.Failure? Failure)> StartAsync(Uri site, CancellationToken ct)
    {
        if (await settings.MineAsync(ct) is not { } provider)
        {
            return (null, new(StatusCodes.Status404NotFound, ProblemCodes.NotFound, "The provider was not found."));
        }
        if (!options.Value.Enabled)
        {
            return (null, new(StatusCodes.Status409Conflict, StripeEndpoints.NotConfigured, "Stripe is not configured on this marketplace; payouts are made by the operator."));
        }
        if (provider.State != ProviderState.Approved)
        {
            return (null, new(StatusCodes.Status409Conflict, "provider_not_approved", "Payouts open once the provider application is approved."));
        }
        var row = await settings.EnsureAsync(provider, ct);
        if (row.StripeAccountId is null)
        {
            var email = await db.Users.AsNoTracking().Where(u => u.Id == tenant.UserId).Select(u => u.Email).FirstOrDefaultAsync(ct);
            row.StripeAccountId = await stripe.CreateExpressAccountAsync(email ?? "", provider.Id, ct);
            row.Method = PayoutMethod.StripeConnect;
            await db.SaveChangesAsync(ct);
        }
        var url = await stripe.CreateAccountLinkAsync(row.StripeAccountId, new Uri(site, "/provider/payouts?connect=refresh"), new Uri(site, "/provider/payouts?connect=done"), ct);
        return (new ConnectResponse(row.StripeAccountId, url, row.StripeTransfersEnabled), null);
    }
}

/// <summary>Connect's webhook events, handed over by the Stripe webhook's handler (system scope).</summary>
sealed class StripeConnectEvents(AppDbContext db, CreditLedger ledger, AuditLog audit, TimeProvider clock, ILogger<StripeConnectEvents> logger)
{
    sealed record Account(string Id, bool PayoutsEnabled = false, Dictionary<string, string>? Capabilities = null);

    /// <summary>A transfer; <see cref="AmountReversed"/> is in cents, so in credits, and grows with each partial reversal.</summary>
    sealed record Transfer(string Id, long Amount = 0, long AmountReversed = 0, bool Reversed = false, Dictionary<string, string>? Metadata = null);

    /// <summary><c>account.updated</c>: whether the account may receive transfers now.</summary>
    public async Task AccountUpdatedAsync(JsonElement data, CancellationToken ct)
    {
        var account = data.Deserialize<Account>(StripeJson.Options) ?? throw new JsonException("account.updated without an account.");
        var settings = await db.PayoutSettings.FirstOrDefaultAsync(s => s.StripeAccountId == account.Id, ct);
        if (settings is null)
        {
            return; // an account of another platform integration
        }
        settings.StripeTransfersEnabled = account.Capabilities?.GetValueOrDefault("transfers") == "active" || account.PayoutsEnabled;
        settings.UpdatedUtc = clock.GetUtcNow().UtcDateTime;
        await db.SaveChangesAsync(ct);
    }

    /// <summary>
    /// <c>transfer.created</c>, <c>transfer.updated</c>, <c>transfer.reversed</c>: records the transfer on its payout. A
    /// reversal returns what Stripe took back to the provider's earnings, once however the events repeat or overlap, so the
    /// next payout run pays it again.
    /// </summary>
    public async Task TransferAsync(string type, JsonElement data, CancellationToken ct)
    {
        var transfer = data.Deserialize<Transfer>(StripeJson.Options) ?? throw new JsonException($"{type} without a transfer.");
        if (!Guid.TryParse(transfer.Metadata?.GetValueOrDefault("payout_id"), out var payoutId)
            || await db.Payouts.FirstOrDefaultAsync(p => p.Id == payoutId, ct) is not { } payout)
        {
            return;
        }
        if (type == "transfer.reversed" || transfer.Reversed || transfer.AmountReversed > 0)
        {
            logger.LogWarning("Stripe reversed transfer {Transfer} of payout {Payout}", transfer.Id, payout.Id);
            await ReturnReversedAsync(payout, transfer, ct);
        }
        else if (payout.Status is PayoutStatus.Pending)
        {
            // The transfer call's answer was lost but Stripe made it: the event completes the payout.
            payout.Status = PayoutStatus.Paid;
            payout.PaidUtc ??= clock.GetUtcNow().UtcDateTime;
            payout.Note = null;
        }
        payout.StripeTransferId ??= transfer.Id;
        payout.Reference ??= transfer.Id;
        await db.SaveChangesAsync(ct);
    }

    async Task ReturnReversedAsync(Payout payout, Transfer transfer, CancellationToken ct)
    {
        // A full reversal may come without amount_reversed; never return more than the payout moved.
        var reversed = Math.Min(transfer.AmountReversed > 0 ? transfer.AmountReversed : payout.Credits, payout.Credits);
        // Stripe's amount_reversed is cumulative, so each return is what it adds to what was already returned. Two events
        // handled at once read the same total: the return is keyed by that total, so only one of them books it, and the
        // other (refused as a conflict, or a replay) reads again and returns only what is still missing. Each booked key
        // raises the total, so this ends.
        var returned = await ReturnedAsync(payout, ct);
        while (reversed > returned)
        {
            var back = await ledger.PayoutReversalAsync($"payout:{payout.Id}:returned-after:{returned}", payout.ProviderId, reversed - returned,
                $"Payout {payout.Period} reversed by Stripe", payout.Id.ToString(), ct);
            if (back.Succeeded && !back.Replayed)
            {
                var organization = await db.Providers.AsNoTracking().Where(p => p.Id == payout.ProviderId).Select(p => p.OrganizationId).SingleAsync(ct);
                audit.Record(AuditActions.PayoutReversed, organization, "payout", payout.Id,
                    before: new { status = payout.Status.ToString() }, after: new { reversed_cents = reversed, returned_credits = reversed - returned, transfer = transfer.Id });
                returned = reversed;
                break;
            }
            if (back.Status is not (LedgerStatus.Ok or LedgerStatus.IdempotencyConflict))
            {
                throw new InvalidOperationException($"Returning the reversal of payout {payout.Id} failed: {back.Status}");
            }
            returned = await ReturnedAsync(payout, ct);
        }
        payout.Status = PayoutStatus.Reversed;
        payout.Note = $"Stripe reversed {returned:N0} of {payout.Credits:N0} cents; the credits are back in the provider's earnings for the next payout run.";
    }

    /// <summary>What reversals of the payout have put back in the provider's earnings so far.</summary>
    Task<long> ReturnedAsync(Payout payout, CancellationToken ct) => db.LedgerOperations.AsNoTracking()
        .Where(o => o.Kind == OperationKind.PayoutReversal && o.ReferenceId == payout.Id.ToString())
        .Join(db.LedgerTransfers.AsNoTracking(), o => o.Id, t => t.OperationId, (o, t) => t.Amount)
        .SumAsync(ct);
}
