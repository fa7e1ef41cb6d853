using AgentMarket.Credits.Ledger;
using AgentMarket.Payments;
using AgentMarket.Platform.Data;
using AgentMarket.Platform.Events;
using AgentMarket.Platform.Mail;
using Microsoft.EntityFrameworkCore;

namespace AgentMarket.Credits;

/// <summary>
/// After credits are spent: the low-balance alert (an email in the outbox and a <c>credits.low_balance</c> event, once
/// per crossing below the threshold) and auto top-up for Plus and Pro (<see cref="AutoTopUps"/>: the chosen package, charged
/// to the saved payment method — in the sandbox it completes at once). The run gateway calls this after settling.
/// </summary>
sealed class SpendControls(AppDbContext db, CreditLedger ledger, AutoTopUps autoTopUps, TimeProvider clock)
{
    /// <summary>The fields of <c>credits.low_balance</c>.</summary>
    public static readonly IReadOnlyList<Webhooks.WebhookPayloadField> LowBalanceFields =
    [
        new("available", "Credits available now (the balance less what running runs have reserved)."),
        new("threshold", "The organization's alert threshold it fell below."),
    ];

    public async Task AfterSpendAsync(Guid organization, CancellationToken ct)
    {
        var settings = await db.OrganizationPlans.FirstOrDefaultAsync(p => p.OrganizationId == organization, ct);
        if (settings is null)
        {
            return;
        }
        // The top-up's key is read before the balance: a top-up that lands in between then shares this run's key (and is
        // not bought twice), while one that landed before both shows in the balance and in the key alike.
        var topUpKey = settings.AutoTopUpPackageId is null ? null : await autoTopUps.KeyAsync(settings, ct);
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

        if (settings is { AutoTopUpPackageId: { } packageId, AutoTopUpThreshold: { } topUpBelow } && topUpKey is not null && balance.Available < topUpBelow)
        {
            await autoTopUps.TopUpAsync(settings, packageId, topUpKey, ct);
        }
    }
}
