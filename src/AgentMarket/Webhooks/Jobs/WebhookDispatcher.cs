using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using AgentMarket.Audit;
using AgentMarket.Flows.Net;
using AgentMarket.Identity;
using AgentMarket.Platform;
using AgentMarket.Platform.Data;
using AgentMarket.Platform.Mail;
using AgentMarket.Platform.Tenancy;
using AgentMarket.Runtime;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace AgentMarket.Webhooks.Jobs;

/// <summary>
/// Delivers the outbox: fans new events out into one delivery per subscribed endpoint, then sends due deliveries. Safe
/// with any number of instances: an event is fanned out by whoever flips its <c>dispatched_utc</c> (a conditional update,
/// in the same transaction as the deliveries it creates), and a delivery is sent by whoever stamps its claim token on it
/// (a conditional update that also sets a lease); a result is recorded only under the claim that sent it.
/// </summary>
sealed class WebhookDispatcher(
    IServiceScopeFactory scopes, PlatformOutbound outbound, WebhookSecrets secrets, IOptionsMonitor<WebhooksOptions> options,
    TimeProvider clock, ILogger<WebhookDispatcher> logger) : PeriodicJob
{
    const int FanOutBatch = 200;
    const int SendBatch = 100;
    const string UserAgent = "AgentMarket-Webhooks/1";

    // Pruning scans old rows; once in a while is enough, and each replica keeps its own schedule.
    static readonly TimeSpan PruneInterval = TimeSpan.FromHours(1);
    DateTime _nextPruneUtc;

    protected override TimeSpan Interval => TimeSpan.FromSeconds(options.CurrentValue.PollIntervalSeconds);

    protected override string MetricName => "webhooks";

    protected override TimeProvider Clock => clock;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.CurrentValue.DispatcherEnabled)
        {
            return;
        }
        await base.ExecuteAsync(stoppingToken);
    }

    protected override async Task TickAsync(CancellationToken ct)
    {
        // Keep going while there is a backlog, instead of one batch per poll interval.
        while (await RunOnceAsync(ct) > 0 && !ct.IsCancellationRequested)
        {
        }
    }

    protected override void LogFailure(Exception exception) => logger.LogError(exception, "Webhook dispatch failed; retrying next tick");

    /// <summary>One pass: fan-out, sending, pruning. Returns how many events and deliveries it handled.</summary>
    public async Task<int> RunOnceAsync(CancellationToken ct)
    {
        var handled = await FanOutAsync(ct);
        handled += await SendDueAsync(ct);
        await PruneAsync(ct);
        return handled;
    }

    async Task<int> FanOutAsync(CancellationToken ct)
    {
        await using var scope = SystemScope(out var db);
        var events = await db.OutboxEvents.AsNoTracking()
            .Where(e => e.DispatchedUtc == null)
            .OrderBy(e => e.CreatedUtc).Take(FanOutBatch)
            .Select(e => new { e.Id, e.OrganizationId, e.Type })
            .ToListAsync(ct);
        if (events.Count == 0)
        {
            return 0;
        }
        var organizations = events.Select(e => e.OrganizationId).Distinct().ToList();
        var endpoints = await db.WebhookEndpoints.AsNoTracking()
            .Where(e => e.Enabled && organizations.Contains(e.OrganizationId))
            .Select(e => new { e.Id, e.OrganizationId, e.EventTypes })
            .ToListAsync(ct);
        var now = clock.GetUtcNow().UtcDateTime;

        // Most events have no subscriber: they are marked in one statement, with nothing to race over.
        var unheard = events.Where(e => !endpoints.Any(p => p.OrganizationId == e.OrganizationId && p.EventTypes.Contains(e.Type))).Select(e => e.Id).ToList();
        if (unheard.Count > 0)
        {
            await db.OutboxEvents.Where(e => unheard.Contains(e.Id) && e.DispatchedUtc == null)
                .ExecuteUpdateAsync(s => s.SetProperty(e => e.DispatchedUtc, now), ct);
        }

        var heard = events.Where(e => !unheard.Contains(e.Id)).ToList();
        if (heard.Count == 0)
        {
            return events.Count;
        }
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        foreach (var outboxEvent in heard)
        {
            // The claim: only the instance whose update flips the column creates this event's deliveries.
            var claimed = await db.OutboxEvents.Where(e => e.Id == outboxEvent.Id && e.DispatchedUtc == null)
                .ExecuteUpdateAsync(s => s.SetProperty(e => e.DispatchedUtc, now), ct);
            if (claimed == 0)
            {
                continue;
            }
            foreach (var endpoint in endpoints.Where(p => p.OrganizationId == outboxEvent.OrganizationId && p.EventTypes.Contains(outboxEvent.Type)))
            {
                db.WebhookDeliveries.Add(new WebhookDelivery
                {
                    OrganizationId = outboxEvent.OrganizationId,
                    EndpointId = endpoint.Id,
                    EventId = outboxEvent.Id,
                    EventType = outboxEvent.Type,
                    State = WebhookDeliveryState.Pending,
                    NextAttemptUtc = now,
                    CreatedUtc = now,
                });
            }
        }
        await db.SaveChangesAsync(ct);
        await transaction.CommitAsync(ct);
        return events.Count;
    }

    sealed record Work(
        Guid DeliveryId, Guid OrganizationId, Guid EndpointId, int Attempts, string Url, bool Enabled, string Secret, string? PreviousSecret,
        DateTime? PreviousSecretExpiresUtc, string? OlderSecret, DateTime? OlderSecretExpiresUtc, Guid EventId, string EventType, string Payload, DateTime EventCreatedUtc);

    async Task<int> SendDueAsync(CancellationToken ct)
    {
        List<Work> work;
        var token = Guid.NewGuid();
        await using (var scope = SystemScope(out var db))
        {
            var now = clock.GetUtcNow().UtcDateTime;
            // Pending and due, or being sent by an instance whose lease ran out (it died mid-attempt).
            var due = await db.WebhookDeliveries.AsNoTracking()
                .Where(d => (d.State == WebhookDeliveryState.Pending || d.State == WebhookDeliveryState.Sending) && d.NextAttemptUtc <= now)
                .OrderBy(d => d.NextAttemptUtc).Take(SendBatch)
                .Select(d => d.Id)
                .ToListAsync(ct);
            if (due.Count == 0)
            {
                return 0;
            }
            var lease = now.AddSeconds(options.CurrentValue.LeaseSeconds);
            // The claim re-checks the condition, so of two instances that read the same rows each row goes to one.
            await db.WebhookDeliveries
                .Where(d => due.Contains(d.Id) && (d.State == WebhookDeliveryState.Pending || d.State == WebhookDeliveryState.Sending) && d.NextAttemptUtc <= now)
                .ExecuteUpdateAsync(s => s
                    .SetProperty(d => d.State, WebhookDeliveryState.Sending)
                    .SetProperty(d => d.ClaimToken, token)
                    .SetProperty(d => d.NextAttemptUtc, lease), ct);
            work = await (
                    from d in db.WebhookDeliveries.AsNoTracking()
                    where d.ClaimToken == token
                    join p in db.WebhookEndpoints on d.EndpointId equals p.Id
                    join e in db.OutboxEvents on d.EventId equals e.Id
                    select new Work(d.Id, d.OrganizationId, p.Id, d.Attempts, p.Url, p.Enabled, p.SecretCiphertext, p.PreviousSecretCiphertext,
                        p.PreviousSecretExpiresUtc, p.OlderSecretCiphertext, p.OlderSecretExpiresUtc, e.Id, e.Type, e.Payload, e.CreatedUtc))
                .ToListAsync(ct);
        }
        await Parallel.ForEachAsync(work, new ParallelOptions { MaxDegreeOfParallelism = options.CurrentValue.MaxConcurrentDeliveries, CancellationToken = ct },
            async (item, cancellation) => await DeliverAsync(item, token, cancellation));
        return work.Count;
    }

    sealed record Outcome(DateTime StartedUtc, int? StatusCode, int DurationMs, string? ResponseBody, string? Error)
    {
        public bool Succeeded => StatusCode is >= 200 and < 300;
    }

    async Task DeliverAsync(Work item, Guid claim, CancellationToken ct)
    {
        if (!item.Enabled)
        {
            await RecordAsync(item, claim, null, ct);
            return;
        }
        var outcome = await SendAsync(item, ct);
        await RecordAsync(item, claim, outcome, ct);
    }

    async Task<Outcome> SendAsync(Work item, CancellationToken ct)
    {
        var started = clock.GetUtcNow();
        var stopwatch = Stopwatch.StartNew();
        var body = Envelope(item);
        var timestamp = started.ToUnixTimeSeconds();
        var messageId = item.EventId.ToString();
        // During a rotation's grace period the earlier secrets sign too (at most two, each until its own end; Standard
        // Webhooks receivers accept any one of the space-separated signatures), so receivers switch without dropping events.
        var signatures = new List<string>();
        try
        {
            signatures.Add(WebhookSecrets.Sign(secrets.Unprotect(item.Secret), messageId, timestamp, body));
            if (item.PreviousSecret is not null && item.PreviousSecretExpiresUtc > started.UtcDateTime)
            {
                signatures.Add(WebhookSecrets.Sign(secrets.Unprotect(item.PreviousSecret), messageId, timestamp, body));
            }
            if (item.OlderSecret is not null && item.OlderSecretExpiresUtc > started.UtcDateTime)
            {
                signatures.Add(WebhookSecrets.Sign(secrets.Unprotect(item.OlderSecret), messageId, timestamp, body));
            }
        }
        catch (CryptographicException exception)
        {
            // The Data Protection key ring lost the key that protected the secret: nothing can be signed until it is rotated.
            logger.LogError(exception, "Cannot read the signing secret of webhook endpoint {Endpoint}", item.EndpointId);
            return new Outcome(started.UtcDateTime, null, Elapsed(stopwatch), null, "Not sent: the signing secret cannot be read; rotate it.");
        }
        using var request = new HttpRequestMessage(HttpMethod.Post, item.Url) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new("application/json") { CharSet = "utf-8" };
        request.Headers.TryAddWithoutValidation("webhook-id", messageId);
        request.Headers.TryAddWithoutValidation("webhook-timestamp", timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture));
        request.Headers.TryAddWithoutValidation("webhook-signature", string.Join(' ', signatures));
        request.Headers.UserAgent.ParseAdd(UserAgent);
        try
        {
            // Redirects are not followed: a receiver that moved says so by failing, and the owner updates the URL.
            var response = await outbound.Guard.SendAsync(request,
                new OutboundRequestOptions { FollowRedirects = false, Timeout = TimeSpan.FromSeconds(options.CurrentValue.TimeoutSeconds) }, ct);
            return new Outcome(started.UtcDateTime, response.StatusCode, Elapsed(stopwatch), Truncate(response.Text, WebhookAttempt.MaxResponseBodyLength), null);
        }
        catch (OutboundBlockedException blocked)
        {
            return new Outcome(started.UtcDateTime, null, Elapsed(stopwatch), null, $"Refused by the outbound guard: {blocked.Message}");
        }
        catch (OutboundRequestException failed)
        {
            return new Outcome(started.UtcDateTime, null, Elapsed(stopwatch), null, failed.Message);
        }
    }

    async Task RecordAsync(Work item, Guid claim, Outcome? outcome, CancellationToken ct)
    {
        await using var scope = SystemScope(out var db);
        var settings = options.CurrentValue;
        var now = clock.GetUtcNow().UtcDateTime;
        var attempts = item.Attempts + (outcome is null ? 0 : 1);
        var succeeded = outcome?.Succeeded == true;
        var givenUp = outcome is null || (!succeeded && attempts >= settings.MaxAttempts);
        var state = succeeded ? WebhookDeliveryState.Succeeded : givenUp ? WebhookDeliveryState.Failed : WebhookDeliveryState.Pending;
        DateTime? next = state == WebhookDeliveryState.Pending
            ? now + WebhookRetrySchedule.Delay(attempts, TimeSpan.FromSeconds(settings.RetryBaseSeconds), settings.MaxRetryDelay, Random.Shared.NextDouble())
            : null;
        var error = outcome is null ? "Not sent: the endpoint was disabled." : outcome.Error ?? (succeeded ? null : $"The endpoint answered {outcome.StatusCode}.");

        var sent = outcome is not null;
        DateTime? lastAttempt = outcome?.StartedUtc;
        int? responseCode = outcome?.StatusCode;
        int? duration = outcome?.DurationMs;

        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        // Under our claim only: an instance that lost its lease (or a delivery deleted with its endpoint) records nothing.
        var recorded = await db.WebhookDeliveries.Where(d => d.Id == item.DeliveryId && d.ClaimToken == claim && d.State == WebhookDeliveryState.Sending)
            .ExecuteUpdateAsync(s => s
                .SetProperty(d => d.State, state)
                .SetProperty(d => d.Attempts, attempts)
                .SetProperty(d => d.NextAttemptUtc, next)
                .SetProperty(d => d.ClaimToken, (Guid?)null)
                .SetProperty(d => d.LastAttemptUtc, d => sent ? lastAttempt : d.LastAttemptUtc)
                .SetProperty(d => d.LastResponseCode, d => sent ? responseCode : d.LastResponseCode)
                .SetProperty(d => d.LastDurationMs, d => sent ? duration : d.LastDurationMs)
                .SetProperty(d => d.LastError, error)
                .SetProperty(d => d.CompletedUtc, state == WebhookDeliveryState.Pending ? null : now), ct);
        if (recorded == 0 || outcome is null)
        {
            await transaction.CommitAsync(ct);
            return;
        }
        db.WebhookAttempts.Add(new WebhookAttempt
        {
            OrganizationId = item.OrganizationId,
            DeliveryId = item.DeliveryId,
            StartedUtc = outcome.StartedUtc,
            ResponseCode = outcome.StatusCode,
            DurationMs = outcome.DurationMs,
            ResponseBody = outcome.ResponseBody,
            Error = Truncate(error, WebhookDelivery.MaxErrorLength),
        });
        if (succeeded)
        {
            await db.WebhookEndpoints.Where(p => p.Id == item.EndpointId && p.ConsecutiveFailures != 0)
                .ExecuteUpdateAsync(s => s.SetProperty(p => p.ConsecutiveFailures, 0).SetProperty(p => p.FailingSinceUtc, (DateTime?)null), ct);
        }
        else
        {
            await db.WebhookEndpoints.Where(p => p.Id == item.EndpointId)
                .ExecuteUpdateAsync(s => s
                    .SetProperty(p => p.ConsecutiveFailures, p => p.ConsecutiveFailures + 1)
                    .SetProperty(p => p.FailingSinceUtc, p => p.FailingSinceUtc ?? outcome.StartedUtc), ct);
            await DisableIfFailingAsync(db, scope.ServiceProvider.GetRequiredService<AuditLog>(), item, now, ct);
            // Disabled now or while this attempt was under way: its retry is not kept waiting for an endpoint that is off.
            if (!await db.WebhookEndpoints.AnyAsync(p => p.Id == item.EndpointId && p.Enabled, ct))
            {
                await WebhookEndpoints.ClosePendingDeliveriesAsync(db, item.EndpointId, now, ct);
            }
        }
        await db.SaveChangesAsync(ct);
        await transaction.CommitAsync(ct);
    }

    /// <summary>
    /// An endpoint that has failed every attempt, many times, for a long time is disabled: retrying it only costs both
    /// sides. Both conditions must hold so neither a burst of events during a short outage nor one slow trickle trips it.
    /// The platform's change is audited like a member's (no actor), so owners see in their audit log why it stopped.
    /// </summary>
    async Task DisableIfFailingAsync(AppDbContext db, AuditLog audit, Work item, DateTime now, CancellationToken ct)
    {
        var settings = options.CurrentValue;
        var failingSince = now - settings.DisableAfterFailingFor;
        var count = settings.DisableAfterConsecutiveFailures;
        var reason = $"Disabled automatically on {now:yyyy-MM-dd HH:mm} UTC: the last {count}+ delivery attempts all failed, " +
                     $"with no success for {settings.DisableAfterFailingFor.TotalHours:0.#} hours. Fix the receiver, then enable the endpoint again.";
        var disabled = await db.WebhookEndpoints
            .Where(p => p.Id == item.EndpointId && p.Enabled && p.ConsecutiveFailures >= count && p.FailingSinceUtc <= failingSince)
            .ExecuteUpdateAsync(s => s
                .SetProperty(p => p.Enabled, false)
                .SetProperty(p => p.DisabledReason, reason)
                .SetProperty(p => p.DisabledUtc, now), ct);
        if (disabled == 0)
        {
            return;
        }
        logger.LogWarning("Disabled webhook endpoint {Endpoint} of organization {Organization} after repeated failures", item.EndpointId, item.OrganizationId);
        audit.Record(AuditActions.WebhookEndpointDisabled, item.OrganizationId, "webhook_endpoint", item.EndpointId,
            before: new { enabled = true }, after: new { enabled = false, reason });
        var recipients = await db.Memberships
            .Where(m => m.OrganizationId == item.OrganizationId && (m.Role == MembershipRole.Owner || m.Role == MembershipRole.Manager))
            .Select(m => m.User!.Email)
            .ToListAsync(ct);
        foreach (var recipient in recipients)
        {
            db.OutboxEmails.Add(new OutboxEmail
            {
                Recipient = recipient,
                Subject = "A webhook endpoint was disabled",
                Body = $"Your webhook endpoint {item.Url} was disabled.\n\n{reason}\n\nSee its deliveries under Settings → Webhooks.",
                CreatedUtc = now,
            });
        }
    }

    /// <summary>Deletes events, deliveries and attempts older than the retention period, once they are settled.</summary>
    async Task PruneAsync(CancellationToken ct)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        if (now < _nextPruneUtc)
        {
            return;
        }
        _nextPruneUtc = now + PruneInterval;
        await using var scope = SystemScope(out var db);
        var before = now.AddDays(-options.CurrentValue.RetentionDays);
        // Oldest first and a bounded batch per statement, so a first prune of a large backlog does not hold one huge delete.
        var settled = await db.OutboxEvents.AsNoTracking()
            .Where(e => e.DispatchedUtc != null && e.CreatedUtc < before
                && !db.WebhookDeliveries.Any(d => d.EventId == e.Id && (d.State == WebhookDeliveryState.Pending || d.State == WebhookDeliveryState.Sending)))
            .OrderBy(e => e.CreatedUtc).Take(1_000).Select(e => e.Id)
            .ToListAsync(ct);
        // Deliveries and attempts go with their event (cascading foreign keys).
        await db.OutboxEvents.Where(e => settled.Contains(e.Id)).ExecuteDeleteAsync(ct);
    }

    /// <summary>The Standard Webhooks payload shape: <c>{"type", "timestamp", "data"}</c>, with the event's stored data as is.</summary>
    static byte[] Envelope(Work item)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("type", item.EventType);
            json.WriteString("timestamp", DateTime.SpecifyKind(item.EventCreatedUtc, DateTimeKind.Utc));
            json.WritePropertyName("data");
            json.WriteRawValue(item.Payload, skipInputValidation: true);
            json.WriteEndObject();
        }
        return buffer.ToArray();
    }

    AsyncServiceScope SystemScope(out AppDbContext db)
    {
        var scope = scopes.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<CurrentTenant>().EnterSystemScope();
        db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        return scope;
    }

    static int Elapsed(Stopwatch stopwatch) => (int)Math.Min(stopwatch.ElapsedMilliseconds, int.MaxValue);

    static string? Truncate(string? text, int length) => text is null || text.Length <= length ? text : text[..(length - 1)] + "…";
}
