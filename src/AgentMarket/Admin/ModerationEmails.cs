using AgentMarket.Identity;
using AgentMarket.Platform.Data;
using AgentMarket.Platform.Mail;
using Microsoft.EntityFrameworkCore;

namespace AgentMarket.Admin;

/// <summary>
/// Emails about an operator's decision on what a provider organization submitted (a listing, a listing edit, a profile
/// edit: ADR-169, ADR-170), to its owners and managers, the roles that edit listings and the profile.
/// </summary>
static class ModerationEmails
{
    /// <summary>Adds the emails to the outbox; the caller's save, which records the decision, writes them with it.</summary>
    public static async Task QueueAsync(AppDbContext db, Guid organizationId, string subject, string body, DateTime now, CancellationToken ct)
    {
        // The operator acts for no organization, so the provider's memberships are out of the request's tenant filter.
        var recipients = await db.Memberships.IgnoreQueryFilters().AsNoTracking()
            .Where(m => m.OrganizationId == organizationId && (m.Role == MembershipRole.Owner || m.Role == MembershipRole.Manager))
            .Select(m => m.User!.Email).Distinct().ToListAsync(ct);
        foreach (var recipient in recipients)
        {
            db.OutboxEmails.Add(new OutboxEmail { Recipient = recipient, Subject = subject, Body = body, CreatedUtc = now });
        }
    }
}
