using AgentMarket.Credits.Ledger;
using AgentMarket.Credits.Plans;
using AgentMarket.Payments;
using AgentMarket.Platform.Data;
using AgentMarket.Platform.Events;
using AgentMarket.Platform.Mail;
using Microsoft.EntityFrameworkCore;

namespace AgentMarket.Credits;

/// <summary>
/// After credits are spent: the low-balance alert (an email in the outbox and a <c>credits.low_balance</c> event, once
/// per crossing below the threshold) and auto top-up for Plus and Pro (buys the chosen package through the saved payment
/// path — in the sandbox it completes at once). The run gateway calls this after settling.
/// </summary>
sealed class SpendControls(AppDbContext db, CreditLedger ledger, Fulfilment fulfilment, IPaymentProvider provider, TimeProvider clock)
{
    public async Task AfterSpendAsync(Guid organization, CancellationToken ct)
    {
        var settings = await db.OrganizationPlans.FirstOrDefaultAsync(p => p.OrganizationId == organization, ct);
        if (settings is null)
        {
            return;
        }
        var balance = await ledger.BalanceAsync(organization, ct);
        var now = clock.GetUtcNow().UtcDateTime;

        if (settings.LowBalanceThreshold is { } threshold)
        {
            if (balance.Available < threshold && !settings.LowBalanceAlerted)
            {
                settings.LowBalanceAlerted = true;
                var owners = await db.Memberships.Where(m => m.OrganizationId == organization && m.Role == Identity.MembershipRole.Owner).Select(m => m.User!.Email).ToListAsync(ct);
                foreach (var owner in owners)
                {
                    db.OutboxEmails.Add(new OutboxEmail
                    {
                        Recipient = owner,
                        Subject = "Your credit balance is low",
                        Body = $"Your organization has {balance.Available:N0} credits available, below your alert threshold of {threshold:N0}. Buy more credits to keep your agents running.",
                        CreatedUtc = now,
                    });
                }
                db.OutboxEvents.Add(OutboxEvent.Create(organization, "credits.low_balance", new { available = balance.Available, threshold }, now));
            }
            else if (balance.Available >= threshold && settings.LowBalanceAlerted)
            {
                settings.LowBalanceAlerted = false; // re-arm: the next crossing alerts again
            }
            await db.SaveChangesAsync(ct);
        }

        if (settings is { AutoTopUpPackageId: { } packageId, AutoTopUpThreshold: { } topUpBelow } && balance.Available < topUpBelow)
        {
            await AutoTopUpAsync(settings, packageId, ct);
        }
    }

    async Task AutoTopUpAsync(OrganizationPlan settings, Guid packageId, CancellationToken ct)
    {
        var plan = await db.Plans.AsNoTracking().FirstAsync(p => p.Code == settings.PlanCode, ct);
        var package = await db.CreditPackages.AsNoTracking().FirstOrDefaultAsync(p => p.Id == packageId && p.Active, ct);
        // Only the sandbox can "charge" without the buyer present; never hand out credits another provider did not collect.
        if (!plan.CanTopUp || package is null || provider.Kind != PaymentProviderKind.Sandbox)
        {
            return;
        }
        // One automatic purchase per crossing: the key names the last purchase-or-spend the balance was computed after.
        var lastOperation = await db.LedgerOperations.Where(o => o.OrganizationId == settings.OrganizationId && o.Code == "purchase")
            .OrderByDescending(o => o.CreatedUtc).Select(o => (Guid?)o.Id).FirstOrDefaultAsync(ct);
        var payment = new Payment
        {
            OrganizationId = settings.OrganizationId,
            Provider = PaymentProviderKind.Sandbox,
            Purpose = PaymentPurpose.AutoTopUp,
            PackageId = package.Id,
            AmountCents = package.PriceCents,
            Credits = package.TotalCredits,
            Description = $"Auto top-up: {package.Name} package, {package.TotalCredits:N0} credits",
            Status = PaymentStatus.Pending,
            IdempotencyKey = $"auto_topup:{settings.OrganizationId}:{lastOperation?.ToString() ?? "first"}",
            CreatedUtc = clock.GetUtcNow().UtcDateTime,
        };
        db.Payments.Add(payment);
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException)
        {
            db.Entry(payment).State = EntityState.Detached;
            return; // another request already started this top-up
        }
        await fulfilment.SucceedAsync(payment.Id, null, SandboxPaymentProvider.SucceedingCard[^4..], ct);
    }
}
