using System.ComponentModel.DataAnnotations;
using AgentMarket.Audit;
using AgentMarket.Platform.Data;
using AgentMarket.Platform.Errors;
using AgentMarket.Platform.Events;
using AgentMarket.Platform.Tenancy;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace AgentMarket.Webhooks;

public sealed record CreateWebhookEndpointRequest(
    [property: Required, MaxLength(WebhookEndpoint.MaxUrlLength)] string Url,
    [property: Required, MinLength(1), MaxLength(50)] List<string> Events,
    [property: MaxLength(WebhookEndpoint.MaxDescriptionLength)] string? Description = null,
    bool? Enabled = null);

/// <summary>A partial update: a null member keeps its value.</summary>
public sealed record UpdateWebhookEndpointRequest(
    [property: MaxLength(WebhookEndpoint.MaxUrlLength)] string? Url = null,
    [property: MinLength(1), MaxLength(50)] List<string>? Events = null,
    [property: MaxLength(WebhookEndpoint.MaxDescriptionLength)] string? Description = null,
    bool? Enabled = null);

public sealed record WebhookEndpointResponse(
    Guid Uuid, string Url, string Description, IReadOnlyList<string> Events, bool Enabled, string? DisabledReason, DateTime? Disabled,
    DateTime Created, DateTime Updated);

/// <summary>The endpoint as created, with its signing secret: the only time, with a rotation, that the secret is shown.</summary>
public sealed record CreatedWebhookEndpointResponse(
    Guid Uuid, string Url, string Description, IReadOnlyList<string> Events, bool Enabled, DateTime Created, string Secret);

public sealed record WebhookSecretResponse(Guid Uuid, string Secret, DateTime? PreviousSecretExpires);

public sealed record WebhookDeliveryResponse(
    Guid Uuid, Guid Endpoint, Guid Event, string EventType, WebhookDeliveryState State, int Attempts, DateTime? NextAttempt,
    DateTime? LastAttempt, int? LastResponseCode, string? LastError, int? LastDurationMs, DateTime Created, DateTime? Completed);

public sealed record WebhookAttemptResponse(DateTime Started, int? ResponseCode, int DurationMs, string? ResponseBody, string? Error);

/// <summary>One delivery with its attempts, newest first: what the endpoint answered each time.</summary>
public sealed record WebhookDeliveryDetailsResponse(
    Guid Uuid, Guid Endpoint, Guid Event, string EventType, WebhookDeliveryState State, int Attempts, DateTime? NextAttempt,
    DateTime? LastAttempt, int? LastResponseCode, string? LastError, int? LastDurationMs, DateTime Created, DateTime? Completed,
    IReadOnlyList<WebhookAttemptResponse> Log);

/// <summary>Managing an organization's webhook endpoints and their delivery log; the API and the settings page share it.</summary>
public sealed class WebhookEndpoints(
    AppDbContext db, CurrentTenant tenant, WebhookSecrets secrets, WebhookUrls urls, IOptionsMonitor<WebhooksOptions> options, TimeProvider clock, AuditLog audit)
{
    public const string EndpointLimitCode = "webhook_endpoint_limit";
    public const string EndpointDisabledCode = "webhook_endpoint_disabled";
    public const string DeliveryInProgressCode = "webhook_delivery_in_progress";
    public const string SecretRotationConflictCode = "webhook_secret_rotation_conflict";

    // A rotation that loses to a concurrent one tries again on top of it; this many losses in a row (a burst of rotations
    // of one endpoint) end it with 409 rather than keep the request waiting.
    const int RotationAttempts = 10;

    // Manual redeliveries can grow a delivery's log without bound; the page and API show the latest ones.
    const int MaxLoggedAttempts = 50;

    const string TargetType = "webhook_endpoint";

    public sealed record Failure(int Status, string Code, string Message, string? Field = null);

    public IQueryable<WebhookEndpointResponse> List(Guid? endpointId = null) =>
        db.WebhookEndpoints.AsNoTracking()
            .Where(e => endpointId == null || e.Id == endpointId)
            .OrderByDescending(e => e.CreatedUtc).ThenByDescending(e => e.Id)
            .Select(e => new WebhookEndpointResponse(e.Id, e.Url, e.Description, e.EventTypes, e.Enabled, e.DisabledReason, e.DisabledUtc, e.CreatedUtc, e.UpdatedUtc));

    public async Task<(CreatedWebhookEndpointResponse? Created, Failure? Failure)> CreateAsync(CreateWebhookEndpointRequest request, CancellationToken ct)
    {
        var (events, invalidEvents) = EventTypesOf(request.Events);
        if (invalidEvents is not null)
        {
            return (null, invalidEvents);
        }
        var (url, invalidUrl) = await CheckUrlAsync(request.Url, ct);
        if (invalidUrl is not null)
        {
            return (null, invalidUrl);
        }
        var limit = options.CurrentValue.MaxEndpointsPerOrganization;
        if (await db.WebhookEndpoints.CountAsync(ct) >= limit)
        {
            return (null, new Failure(StatusCodes.Status409Conflict, EndpointLimitCode, $"An organization may have {limit} webhook endpoints; delete one first."));
        }
        var now = clock.GetUtcNow().UtcDateTime;
        var secret = WebhookSecrets.NewSecret();
        var endpoint = new WebhookEndpoint
        {
            OrganizationId = tenant.RequiredOrganizationId,
            Url = url!,
            Description = request.Description?.Trim() ?? "",
            EventTypes = events!,
            SecretCiphertext = secrets.Protect(secret),
            CreatedByUserId = tenant.UserId,
            CreatedUtc = now,
            UpdatedUtc = now,
        };
        if (request.Enabled == false)
        {
            Disable(endpoint, "Disabled when it was created.", now);
        }
        db.WebhookEndpoints.Add(endpoint);
        audit.Record(AuditActions.WebhookEndpointCreated, endpoint.OrganizationId, TargetType, endpoint.Id, after: Audited(endpoint));
        await db.SaveChangesAsync(ct);
        return (new CreatedWebhookEndpointResponse(endpoint.Id, endpoint.Url, endpoint.Description, endpoint.EventTypes, endpoint.Enabled, endpoint.CreatedUtc, secret), null);
    }

    public async Task<(WebhookEndpointResponse? Endpoint, Failure? Failure)> UpdateAsync(Guid endpointId, UpdateWebhookEndpointRequest request, CancellationToken ct)
    {
        var endpoint = await db.WebhookEndpoints.FirstOrDefaultAsync(e => e.Id == endpointId, ct);
        if (endpoint is null)
        {
            return (null, NotFound("webhook endpoint"));
        }
        var before = Audited(endpoint);
        if (request.Events is not null)
        {
            var (events, invalid) = EventTypesOf(request.Events);
            if (invalid is not null)
            {
                return (null, invalid);
            }
            endpoint.EventTypes = events!;
        }
        if (request.Url is not null)
        {
            var (url, invalid) = await CheckUrlAsync(request.Url, ct);
            if (invalid is not null)
            {
                return (null, invalid);
            }
            endpoint.Url = url!;
        }
        endpoint.Description = request.Description?.Trim() ?? endpoint.Description;
        var now = clock.GetUtcNow().UtcDateTime;
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        if (request.Enabled == true && !endpoint.Enabled)
        {
            // A fresh start: the failures that disabled it are history.
            endpoint.Enabled = true;
            endpoint.DisabledReason = null;
            endpoint.DisabledUtc = null;
            endpoint.ConsecutiveFailures = 0;
            endpoint.FailingSinceUtc = null;
        }
        else if (request.Enabled == false && endpoint.Enabled)
        {
            Disable(endpoint, "Disabled by a member of the organization.", now);
            await ClosePendingDeliveriesAsync(db, endpoint.Id, now, ct);
        }
        endpoint.UpdatedUtc = now;
        audit.RecordChanges(AuditActions.WebhookEndpointUpdated, endpoint.OrganizationId, TargetType, endpoint.Id, before, Audited(endpoint));
        await db.SaveChangesAsync(ct);
        await transaction.CommitAsync(ct);
        return (await List(endpoint.Id).FirstAsync(ct), null);
    }

    /// <summary>Deletes the endpoint and its delivery log (the database cascades); deliveries in flight finish, their results are dropped.</summary>
    public async Task<bool> DeleteAsync(Guid endpointId, CancellationToken ct)
    {
        var endpoint = await db.WebhookEndpoints.FirstOrDefaultAsync(e => e.Id == endpointId, ct);
        if (endpoint is null)
        {
            return false;
        }
        db.WebhookEndpoints.Remove(endpoint);
        audit.Record(AuditActions.WebhookEndpointDeleted, endpoint.OrganizationId, TargetType, endpoint.Id, before: Audited(endpoint));
        try
        {
            await db.SaveChangesAsync(ct);
            return true;
        }
        catch (DbUpdateConcurrencyException)
        {
            db.ChangeTracker.Clear();
            return false; // deleted meanwhile by another request, which audited it
        }
    }

    /// <summary>
    /// A new secret. Deliveries are signed with the one it replaces too for the grace period, a secret already in grace
    /// keeps its own end, and at most two earlier secrets sign: a third rotation ends the oldest, a rotation without grace
    /// (<see cref="WebhooksOptions.SecretRotationGraceHours"/> 0) ends them all (ADR-141).
    /// </summary>
    public async Task<(WebhookSecretResponse? Rotated, Failure? Failure)> RotateSecretAsync(Guid endpointId, CancellationToken ct)
    {
        var grace = TimeSpan.FromHours(options.CurrentValue.SecretRotationGraceHours);
        for (var attempt = 0; attempt < RotationAttempts; attempt++)
        {
            var endpoint = await db.WebhookEndpoints.AsNoTracking().FirstOrDefaultAsync(e => e.Id == endpointId, ct);
            if (endpoint is null)
            {
                return (null, NotFound("webhook endpoint"));
            }
            var now = clock.GetUtcNow().UtcDateTime;
            var secret = WebhookSecrets.NewSecret();
            var ciphertext = secrets.Protect(secret);
            var (previous, previousExpires) = grace > TimeSpan.Zero ? (endpoint.SecretCiphertext, (DateTime?)(now + grace)) : (null, null);
            var (older, olderExpires) = grace > TimeSpan.Zero && endpoint.PreviousSecretExpiresUtc > now
                ? (endpoint.PreviousSecretCiphertext, endpoint.PreviousSecretExpiresUtc)
                : (null, null);

            await using var transaction = await db.Database.BeginTransactionAsync(ct);
            // Only on top of the secret read above (each ciphertext is unique): of two rotations at once one updates, the
            // other re-reads and rotates the winner's secret, so both callers' secrets are stored and none is shown unstored.
            if (await db.WebhookEndpoints.Where(e => e.Id == endpointId && e.SecretCiphertext == endpoint.SecretCiphertext)
                .ExecuteUpdateAsync(u => u
                    .SetProperty(e => e.SecretCiphertext, ciphertext)
                    .SetProperty(e => e.PreviousSecretCiphertext, previous)
                    .SetProperty(e => e.PreviousSecretExpiresUtc, previousExpires)
                    .SetProperty(e => e.OlderSecretCiphertext, older)
                    .SetProperty(e => e.OlderSecretExpiresUtc, olderExpires)
                    .SetProperty(e => e.UpdatedUtc, now), ct) != 1)
            {
                continue;
            }
            audit.Record(AuditActions.WebhookEndpointSecretRotated, endpoint.OrganizationId, TargetType, endpoint.Id,
                after: new { previous_secret_expires = previousExpires, earlier_secrets_valid = (previous is null ? 0 : 1) + (older is null ? 0 : 1) });
            await db.SaveChangesAsync(ct);
            await transaction.CommitAsync(ct);
            return (new WebhookSecretResponse(endpoint.Id, secret, previousExpires), null);
        }
        return (null, new Failure(StatusCodes.Status409Conflict, SecretRotationConflictCode,
            "The endpoint's secret was being rotated by other requests at the same time; nothing changed. Rotate it again."));
    }

    /// <summary>Queues a <c>webhook.test</c> event for this endpoint alone; the dispatcher sends it on its next tick.</summary>
    public async Task<(WebhookDeliveryResponse? Delivery, Failure? Failure)> SendTestAsync(Guid endpointId, CancellationToken ct)
    {
        var endpoint = await db.WebhookEndpoints.AsNoTracking().FirstOrDefaultAsync(e => e.Id == endpointId, ct);
        if (endpoint is null)
        {
            return (null, NotFound("webhook endpoint"));
        }
        if (!endpoint.Enabled)
        {
            return (null, Disabled());
        }
        var now = clock.GetUtcNow().UtcDateTime;
        var test = OutboxEvent.Create(endpoint.OrganizationId, WebhookEventTypes.Test,
            new { endpoint = endpoint.Id, message = "A test event sent from the webhook settings." }, now);
        // Already dispatched: the fan-out must not offer it to the organization's other endpoints.
        test.DispatchedUtc = now;
        var delivery = new WebhookDelivery
        {
            OrganizationId = endpoint.OrganizationId,
            EndpointId = endpoint.Id,
            EventId = test.Id,
            EventType = test.Type,
            State = WebhookDeliveryState.Pending,
            NextAttemptUtc = now,
            CreatedUtc = now,
        };
        db.OutboxEvents.Add(test);
        db.WebhookDeliveries.Add(delivery);
        await db.SaveChangesAsync(ct);
        return (await Deliveries(null, delivery.Id).FirstAsync(ct), null);
    }

    /// <summary>The delivery log, newest first: one endpoint's, or one delivery.</summary>
    public IQueryable<WebhookDeliveryResponse> Deliveries(Guid? endpointId, Guid? deliveryId = null) =>
        db.WebhookDeliveries.AsNoTracking()
            .Where(d => endpointId == null || d.EndpointId == endpointId)
            .Where(d => deliveryId == null || d.Id == deliveryId)
            .OrderByDescending(d => d.CreatedUtc).ThenByDescending(d => d.Id)
            .Select(d => new WebhookDeliveryResponse(d.Id, d.EndpointId, d.EventId, d.EventType, d.State, d.Attempts,
                d.State == WebhookDeliveryState.Pending ? d.NextAttemptUtc : null, d.LastAttemptUtc, d.LastResponseCode, d.LastError, d.LastDurationMs,
                d.CreatedUtc, d.CompletedUtc));

    /// <summary>One delivery and its most recent attempts, or null when the organization has no such delivery.</summary>
    public async Task<WebhookDeliveryDetailsResponse?> DeliveryDetailsAsync(Guid deliveryId, CancellationToken ct)
    {
        if (await Deliveries(null, deliveryId).FirstOrDefaultAsync(ct) is not { } d)
        {
            return null;
        }
        var log = await db.WebhookAttempts.AsNoTracking()
            .Where(a => a.DeliveryId == deliveryId)
            .OrderByDescending(a => a.StartedUtc).ThenByDescending(a => a.Id).Take(MaxLoggedAttempts)
            .Select(a => new WebhookAttemptResponse(a.StartedUtc, a.ResponseCode, a.DurationMs, a.ResponseBody, a.Error))
            .ToListAsync(ct);
        return new WebhookDeliveryDetailsResponse(d.Uuid, d.Endpoint, d.Event, d.EventType, d.State, d.Attempts, d.NextAttempt, d.LastAttempt,
            d.LastResponseCode, d.LastError, d.LastDurationMs, d.Created, d.Completed, log);
    }

    public Task<bool> EndpointExistsAsync(Guid endpointId, CancellationToken ct) => db.WebhookEndpoints.AnyAsync(e => e.Id == endpointId, ct);

    /// <summary>
    /// Sends a delivery again, whatever became of it, with a fresh retry schedule and the same <c>webhook-id</c> (so a
    /// receiver that already processed it can tell). Refused while an attempt is in flight or the endpoint is disabled.
    /// </summary>
    public async Task<(WebhookDeliveryResponse? Delivery, Failure? Failure)> RedeliverAsync(Guid deliveryId, CancellationToken ct)
    {
        var delivery = await db.WebhookDeliveries.AsNoTracking().Where(d => d.Id == deliveryId).Select(d => new { d.EndpointId }).FirstOrDefaultAsync(ct);
        if (delivery is null)
        {
            return (null, NotFound("webhook delivery"));
        }
        if (!await db.WebhookEndpoints.AnyAsync(e => e.Id == delivery.EndpointId && e.Enabled, ct))
        {
            return (null, Disabled());
        }
        var now = clock.GetUtcNow().UtcDateTime;
        var queued = await db.WebhookDeliveries
            .Where(d => d.Id == deliveryId && d.State != WebhookDeliveryState.Sending)
            .ExecuteUpdateAsync(s => s
                .SetProperty(d => d.State, WebhookDeliveryState.Pending)
                .SetProperty(d => d.Attempts, 0)
                .SetProperty(d => d.NextAttemptUtc, now)
                .SetProperty(d => d.ClaimToken, (Guid?)null)
                .SetProperty(d => d.CompletedUtc, (DateTime?)null), ct);
        if (queued == 0)
        {
            return (null, new Failure(StatusCodes.Status409Conflict, DeliveryInProgressCode, "This delivery is being sent right now; try again when the attempt has finished."));
        }
        return (await Deliveries(null, deliveryId).FirstAsync(ct), null);
    }

    /// <summary>
    /// What the audit log records of an endpoint. Never its secret, nor its URL's path and query, which often carry a
    /// token of the receiver's (<c>…/hooks/T0/B0/secret</c>, <c>?token=</c>) that must not outlive its rotation in the log:
    /// the site, and a fingerprint of the whole URL so a change to any part of it shows.
    /// </summary>
    static object Audited(WebhookEndpoint endpoint)
    {
        var url = new Uri(endpoint.Url);
        var fingerprint = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(endpoint.Url)))[..12];
        return new
        {
            url = url.PathAndQuery == "/" ? url.GetLeftPart(UriPartial.Authority) : $"{url.GetLeftPart(UriPartial.Authority)}/…",
            url_fingerprint = fingerprint,
            events = endpoint.EventTypes.ToList(),
            endpoint.Description,
            endpoint.Enabled,
        };
    }

    internal static void Disable(WebhookEndpoint endpoint, string reason, DateTime now)
    {
        endpoint.Enabled = false;
        endpoint.DisabledReason = reason;
        endpoint.DisabledUtc = now;
    }

    /// <summary>A disabled endpoint is sent nothing: what was waiting for it fails, and can be redelivered once it is enabled again.</summary>
    internal static Task<int> ClosePendingDeliveriesAsync(AppDbContext db, Guid endpointId, DateTime now, CancellationToken ct) =>
        db.WebhookDeliveries
            .Where(d => d.EndpointId == endpointId && d.State == WebhookDeliveryState.Pending)
            .ExecuteUpdateAsync(s => s
                .SetProperty(d => d.State, WebhookDeliveryState.Failed)
                .SetProperty(d => d.NextAttemptUtc, (DateTime?)null)
                .SetProperty(d => d.LastError, "Not sent: the endpoint was disabled.")
                .SetProperty(d => d.CompletedUtc, now), ct);

    async Task<(string? Url, Failure? Failure)> CheckUrlAsync(string url, CancellationToken ct)
    {
        var (checkedUrl, problem) = await urls.CheckAsync(url, ct);
        return problem is null
            ? (checkedUrl, null)
            : (null, new Failure(StatusCodes.Status400BadRequest, problem.Code, problem.Message, "url"));
    }

    static (List<string>? Events, Failure? Failure) EventTypesOf(IReadOnlyList<string> requested)
    {
        var events = requested.Select(e => e?.Trim() ?? "").Distinct(StringComparer.Ordinal).ToList();
        if (events.Count == 0)
        {
            return (null, new Failure(StatusCodes.Status400BadRequest, ProblemCodes.ValidationFailed, "Subscribe to at least one event type.", "events"));
        }
        if (events.FirstOrDefault(e => !WebhookEventTypes.IsKnown(e)) is { } unknown)
        {
            return (null, new Failure(StatusCodes.Status400BadRequest, ProblemCodes.ValidationFailed,
                $"Unknown event type '{(unknown.Length > 60 ? unknown[..60] + "…" : unknown)}'; use {string.Join(", ", WebhookEventTypes.All.Select(t => t.Name))}.", "events"));
        }
        return (events, null);
    }

    static Failure NotFound(string what) => new(StatusCodes.Status404NotFound, ProblemCodes.NotFound, $"The {what} was not found.");

    static Failure Disabled() =>
        new(StatusCodes.Status409Conflict, EndpointDisabledCode, "The webhook endpoint is disabled; enable it first.");
}
