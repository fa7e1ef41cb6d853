using AgentMarket.Platform.Data;
using AgentMarket.Providers;
using Microsoft.EntityFrameworkCore;

namespace AgentMarket.Admin;

/// <summary>One field of a waiting profile edit: the value buyers see now and the one proposed ("" removes it).</summary>
public sealed record ProfileFieldChange(string Field, string? Live, string? Proposed);

/// <summary>An approved provider's profile edit waiting for an operator; a decision names its <paramref name="Revision"/>.</summary>
public sealed record ProfileChangeReviewResponse(
    Guid Provider, string Handle, Guid Organization, string OrganizationName, DateTime Submitted, string Revision, IReadOnlyList<ProfileFieldChange> Fields);

/// <summary>
/// An operator's decision on an approved provider's profile edit (ADR-170): approval puts it on every listing and the
/// provider's page, rejection keeps it with the note for the provider to read. Either way the provider organization's
/// owners and managers get an email, written in the same save as the decision.
/// </summary>
public sealed class ProviderProfileDecisions(AppDbContext db, TimeProvider clock, Audit.AuditLog audit)
{
    public enum Outcome
    {
        Done,

        /// <summary>No such provider, or no edit of its profile waits.</summary>
        NotFound,

        /// <summary>The provider edited or withdrew the edit since the operator read its revision.</summary>
        Changed,
    }

    /// <summary>The waiting edits, oldest submission first.</summary>
    public async Task<List<ProfileChangeReviewResponse>> WaitingAsync(int limit, CancellationToken ct)
    {
        var rows = await db.ProviderProfileChanges.AsNoTracking().Where(c => c.RejectedUtc == null)
            .Join(db.Providers.AsNoTracking().Include(p => p.Organization).Where(p => p.State == ProviderState.Approved),
                c => c.ProviderId, p => p.Id, (c, p) => new { Change = c, Provider = p })
            .OrderBy(r => r.Change.SubmittedUtc).Take(limit).ToListAsync(ct);
        return [.. rows.Select(r => new ProfileChangeReviewResponse(r.Provider.Id, r.Provider.Handle, r.Provider.OrganizationId, r.Provider.Organization!.Name,
            r.Change.SubmittedUtc, ProviderProfileChanges.Revision(r.Provider, r.Change), FieldsOf(r.Provider, r.Change)))];
    }

    public Task<(Outcome Outcome, Provider? Provider)> ApproveAsync(Guid providerId, string revision, CancellationToken ct) =>
        DecideAsync(providerId, revision, (provider, change) =>
        {
            var fields = ProviderProfileChanges.Fields(change);
            ProviderProfileChanges.ApplyTo(change, provider);
            db.ProviderProfileChanges.Remove(change);
            audit.Record(Audit.AuditActions.ProviderProfileChangeApproved, provider.OrganizationId, "provider", provider.Id,
                after: new { change = fields, submitted = change.SubmittedUtc });
            return ("Your profile edit is approved",
                $"An operator approved the edit of @{provider.Handle}'s profile: buyers see it now on your listings and your provider page.");
        }, ct);

    public Task<(Outcome Outcome, Provider? Provider)> RejectAsync(Guid providerId, string revision, string reason, CancellationToken ct) =>
        DecideAsync(providerId, revision, (provider, change) =>
        {
            change.RejectedUtc = clock.GetUtcNow().UtcDateTime;
            change.RejectionNote = reason.Trim();
            audit.Record(Audit.AuditActions.ProviderProfileChangeRejected, provider.OrganizationId, "provider", provider.Id,
                after: new { change = ProviderProfileChanges.Fields(change), submitted = change.SubmittedUtc, reason = change.RejectionNote });
            return ("Your profile edit was not approved",
                $"An operator did not approve the edit of @{provider.Handle}'s profile, which buyers keep seeing as it was. Their note: {change.RejectionNote}\n\n" +
                "Your provider dashboard shows it; edit the profile again to send a new proposal.");
        }, ct);

    async Task<(Outcome, Provider?)> DecideAsync(Guid providerId, string revision, Func<Provider, ProviderProfileChange, (string Subject, string Body)> decide, CancellationToken ct)
    {
        var provider = await db.Providers.FirstOrDefaultAsync(p => p.Id == providerId, ct);
        var change = provider is null ? null : await db.ProviderProfileChanges.FirstOrDefaultAsync(c => c.ProviderId == providerId && c.RejectedUtc == null, ct);
        if (provider is null || change is null || provider.State != ProviderState.Approved)
        {
            return (Outcome.NotFound, null);
        }
        // Read and decided in one request otherwise: the provider's edit between the operator's read and this is refused.
        if (revision != ProviderProfileChanges.Revision(provider, change))
        {
            return (Outcome.Changed, null);
        }
        var (subject, body) = decide(provider, change);
        await ModerationEmails.QueueAsync(db, provider.OrganizationId, subject, body, clock.GetUtcNow().UtcDateTime, ct);
        await db.SaveChangesAsync(ct);
        return (Outcome.Done, provider);
    }

    static List<ProfileFieldChange> FieldsOf(Provider provider, ProviderProfileChange change)
    {
        var fields = new List<ProfileFieldChange>();
        if (change.Name is not null)
        {
            fields.Add(new("name", provider.Name, change.Name));
        }
        if (change.Bio is not null)
        {
            fields.Add(new("bio", provider.Bio, change.Bio));
        }
        if (change.AvatarUrl is not null)
        {
            fields.Add(new("avatar_url", provider.AvatarUrl, change.AvatarUrl));
        }
        return fields;
    }
}
