using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using AgentMarket.Credits;
using AgentMarket.Credits.Ledger;
using AgentMarket.Platform.Data;
using AgentMarket.Platform.Errors;
using AgentMarket.Platform.Tenancy;
using AgentMarket.Subscriptions;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace AgentMarket.Gateway;

/// <summary>One run an external runtime performed for a subscription, as its provider reports it.</summary>
public sealed record UsageReport(
    string? EventId, Guid? CustomerAgentConfig, string? Status, long? InputTokens, long? OutputTokens, int? LatencyMs,
    string? Model, string? ErrorCode, string? SessionId);

public sealed record UsageRecorded(Guid RunId, long CreditsCharged, bool Replayed);

public sealed record UsageSecretResponse(string Secret, DateTime Created);

/// <summary>
/// Usage reported by a provider's own runtime (SPEC §8, the seed's <c>POST /api/runtime/usage/</c>): a run that happened
/// outside the platform is charged and metered like one through the gateway — same price terms, same ledger transfer,
/// same run record feeding usage, analytics and social proof. The request is signed with the provider's usage secret
/// (<c>AgentMarket-Signature: t=unix,v1=hex(HMAC-SHA256(secret, "t.body"))</c>, as Stripe signs webhooks), names one of
/// the provider's subscriptions, and is idempotent by event id within it: a retry answers with the first result. Only
/// subscriptions to agents whose provider declared that they run on its own runtime are accepted (ADR-127).
/// </summary>
sealed class ExternalUsage(
    AppDbContext db, CurrentTenant tenant, GatewayCache cache, RunJournal journal, CreditLedger ledger, CreditGrants grants,
    IDataProtectionProvider protection, IOptions<GatewayOptions> options, IOptions<CreditsOptions> credits,
    IOptionsMonitor<Providers.MarketplaceOptions> marketplace, TimeProvider clock)
{
    public const string ProviderHeader = "AgentMarket-Provider";
    public const string SignatureHeader = "AgentMarket-Signature";
    public const string SecretPrefix = "amus_";
    const string SecretPurpose = "AgentMarket.Gateway.ExternalUsage.Secret";
    public const string Door = "external";

    /// <summary>409: the subscription's agent is not declared to run on the provider's runtime, so its runs are not reported.</summary>
    public const string UsageNotReportedByProvider = "usage_not_reported_by_provider";

    /// <summary>
    /// 409: the agent started reporting usage after this buyer subscribed, and the buyer's notice has not ended: reports of
    /// their runs are not charged until then (ADR-158).
    /// </summary>
    public const string UsageReportingInNotice = "usage_reporting_in_notice";

    /// <summary>
    /// Starts the idempotency key of every reported event's run record. The run API refuses Idempotency-Keys with it, so
    /// a buyer cannot claim an event's key first and have the provider's report of it replay the buyer's own run.
    /// </summary>
    public const string EventKeyPrefix = "usage:";
    static readonly TimeSpan Tolerance = TimeSpan.FromMinutes(5);
    static readonly TimeSpan AbandonedAfter = TimeSpan.FromMinutes(2);

    static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    };

    /// <summary>A new usage secret for the caller's provider, shown once; it replaces the previous one at once.</summary>
    public async Task<UsageSecretResponse?> RotateSecretAsync(CancellationToken ct)
    {
        var organization = tenant.RequiredOrganizationId;
        var provider = await db.Providers.FirstOrDefaultAsync(p => p.OrganizationId == organization, ct);
        if (provider is null)
        {
            return null;
        }
        var secret = SecretPrefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        provider.UsageSecretProtected = protection.CreateProtector(SecretPurpose).Protect(secret);
        // The time we answer must be the time later reads show.
        provider.UsageSecretCreatedUtc = NowInWholeMicroseconds();
        await db.SaveChangesAsync(ct);
        return new UsageSecretResponse(secret, provider.UsageSecretCreatedUtc.Value);
    }

    /// <summary>Verifies the report's signature, then charges and records it once.</summary>
    public async Task<(UsageRecorded? Recorded, GatewayFailure? Failure)> RecordAsync(string? providerId, string? signature, byte[] body, CancellationToken ct)
    {
        // The caller is a provider's server, not a member: the signature is its authentication, and every query below
        // names the provider or subscription it is about.
        tenant.EnterSystemScope();
        if (!Guid.TryParse(providerId, out var id)
            || await db.Providers.AsNoTracking().FirstOrDefaultAsync(p => p.Id == id && p.State == Providers.ProviderState.Approved, ct) is not { UsageSecretProtected: { } protectedSecret } provider
            || !SignatureIsValid(protection.CreateProtector(SecretPurpose).Unprotect(protectedSecret), signature, body, clock.GetUtcNow()))
        {
            return Fail(StatusCodes.Status401Unauthorized, "invalid_signature",
                $"Sign the body with your usage secret: {SignatureHeader}: t=<unix seconds>,v1=<hex HMAC-SHA256 of \"t.body\">, and name your provider in {ProviderHeader}.");
        }

        UsageReport? report;
        try
        {
            report = JsonSerializer.Deserialize<UsageReport>(body, Json);
        }
        catch (JsonException exception)
        {
            return Fail(StatusCodes.Status400BadRequest, ProblemCodes.MalformedJson, $"The report is not valid JSON for this endpoint: {exception.Message}");
        }
        if (Problem(report) is { } problem)
        {
            return Fail(StatusCodes.Status400BadRequest, ProblemCodes.ValidationFailed, problem);
        }

        var configId = report!.CustomerAgentConfig!.Value;
        if (await cache.SubscriptionAsync(configId, ct) is not { } subscription || subscription.Listing.ProviderId != provider.Id)
        {
            return Fail(StatusCodes.Status404NotFound, ProblemCodes.NotFound, "None of your agents has this subscription.");
        }
        var idempotencyKey = EventKeyPrefix + report.EventId;
        var (config, listing) = (subscription.Config, subscription.Listing);
        var succeeded = report.Status == "succeeded";
        var latency = report.LatencyMs ?? 0;
        if (await RecordedAsync(configId, idempotencyKey, ct) is { } earlier)
        {
            if (earlier.Door != Door)
            {
                return Fail(StatusCodes.Status409Conflict, ProblemCodes.IdempotencyConflict, "A run of the buyer's holds this event id; report the event under another id.");
            }
            if (earlier.Status != AgentRunStatus.Running || await TakeOverAsync(earlier, ct) is not { } lease)
            {
                return Replay(earlier);
            }
            // The delivery that claimed this event stopped before recording it; this one finishes its work, under the
            // same ledger keys, so whatever of it was done is not done twice.
            return await ChargeAndRecordAsync(earlier, lease, earlier.CreditsReserved, succeeded, report.ErrorCode, latency, listing, ct);
        }
        // Checked for new events only: a replay, or finishing an event claimed while these held, stays as it was.
        // Only an agent its provider declared to run on its own runtime is billed from reports, as its buyers were shown
        // (the listing's copy of the declaration): any other agent is run by the platform, which meters it itself.
        if (subscription.Listing.ReportsUsageSinceUtc is null)
        {
            return Fail(StatusCodes.Status409Conflict, UsageNotReportedByProvider,
                "This subscription's agent does not run on your own runtime: turn on reports_usage for the agent (PATCH /api/provider-agents/{uuid}) before reporting its runs. Its subscribers see that you report its usage.");
        }
        if (config.State != SubscriptionState.Active)
        {
            return Fail(StatusCodes.Status409Conflict, "subscription_inactive", "This subscription is not active; its runs cannot be charged.");
        }
        if (listing.State != Catalog.ListingState.Active)
        {
            // Paused, suspended or taken down: the gateway refuses its runs, so reports of runs are not charged either.
            return Fail(StatusCodes.Status409Conflict, "agent_unavailable", "This agent is not live (paused, suspended or taken down); its runs cannot be charged.");
        }
        // A buyer who subscribed before the agent reported usage gets the notice of a price increase first (ADR-158).
        if (listing.ReportedUsageChargedFromUtc(config.SubscribedUtc, marketplace.CurrentValue.PriceIncreaseNotice) is { } chargedFrom
            && chargedFrom > clock.GetUtcNow().UtcDateTime)
        {
            return Fail(StatusCodes.Status409Conflict, UsageReportingInNotice,
                $"This buyer subscribed before the agent reported its usage and is in the notice period: reports of their runs are charged from {chargedFrom:yyyy-MM-dd'T'HH:mm:ss'Z'}.");
        }

        var now = NowInWholeMicroseconds();
        var facts = await cache.ListingAsync(listing.Id, ct);
        var price = succeeded
            ? facts.SubscriberTerms(listing, config.SubscribedUtc, now).RunPrice(report.InputTokens!.Value + report.OutputTokens!.Value, options.Value.VariableCreditsPerThousandTokens)
            : 0;
        var run = new AgentRun
        {
            OrganizationId = config.OrganizationId,
            ConfigId = config.Id,
            ListingId = listing.Id,
            ProviderId = listing.ProviderId,
            AgentVersionId = Subscriptions.AgentVersionPolicy.Effective(config, facts.Releases, listing.AgentVersionId),
            SessionId = report.SessionId ?? idempotencyKey,
            IdempotencyKey = idempotencyKey,
            Door = Door,
            Status = AgentRunStatus.Running,
            InputTokens = report.InputTokens!.Value,
            OutputTokens = report.OutputTokens!.Value,
            Model = report.Model,
            CreditsReserved = price,
            StartedUtc = now.AddMilliseconds(-latency),
            Day = DateOnly.FromDateTime(now),
            FinishedUtc = now, // the claim's lease while the record is running (TakeOverAsync); the run itself ended now too
        };
        // Claim the event first: of two concurrent deliveries of one report, one inserts and the other replays it.
        db.AgentRuns.Add(run);
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException)
        {
            db.Entry(run).State = EntityState.Detached;
            return await RecordedAsync(configId, idempotencyKey, ct) is { } raced ? Replay(raced) : InProgress();
        }
        db.Entry(run).State = EntityState.Detached;
        return await ChargeAndRecordAsync(run, now, price, succeeded, report.ErrorCode, latency, listing, ct);
    }

    /// <summary>
    /// Takes over a claimed event whose delivery stopped (the process ended between the claim and the record): a claim
    /// whose lease is older than <see cref="AbandonedAfter"/> gets a new lease, by one delivery only. Returns the lease.
    /// Charging and recording a report takes milliseconds, so a lease that old is not being worked on; should its
    /// delivery still be alive, it finds its lease gone before recording (<see cref="RenewAsync"/>) and leaves it.
    /// </summary>
    async Task<DateTime?> TakeOverAsync(AgentRun claimed, CancellationToken ct) =>
        claimed.FinishedUtc is { } lease && lease <= clock.GetUtcNow().UtcDateTime - AbandonedAfter ? await RenewAsync(claimed.Id, lease, ct) : null;

    /// <summary>Moves a running record's lease from <paramref name="lease"/> to now; null when another delivery holds it.</summary>
    async Task<DateTime?> RenewAsync(Guid run, DateTime lease, CancellationToken ct)
    {
        var renewed = NowInWholeMicroseconds();
        return await db.AgentRuns
            .Where(r => r.Id == run && r.Status == AgentRunStatus.Running && r.FinishedUtc == lease)
            .ExecuteUpdateAsync(s => s.SetProperty(r => r.FinishedUtc, renewed), ct) == 1 ? renewed : null;
    }

    /// <summary>Now, in whole microseconds: PostgreSQL keeps no finer, and what is stored is compared or shown again.</summary>
    DateTime NowInWholeMicroseconds() => Timestamps.WholeMicroseconds(clock.GetUtcNow().UtcDateTime);

    async Task<(UsageRecorded?, GatewayFailure?)> ChargeAndRecordAsync(
        AgentRun run, DateTime lease, long price, bool succeeded, string? errorCode, int latency, Catalog.Listing listing, CancellationToken ct)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var charged = 0L;
        if (price > 0)
        {
            var plan = await cache.OrganizationAsync(run.OrganizationId, ct);
            await grants.EnsureAsync(run.OrganizationId, plan.PlanCode, ct);
            // A delivery finishing the event of one that stopped long ago can find that one's reservation voided by the
            // expiry job; it then reserves again, under a key of its own. The settle's key stays the run's, so however
            // many deliveries finish the event, one settle applies.
            string[] reserveKeys = [$"usage:{run.Id}:reserve", $"usage:{run.Id}:reserve:{now.Ticks}"];
            LedgerResult? settle = null;
            foreach (var reserveKey in reserveKeys)
            {
                var reserve = await ledger.ReserveAsync(reserveKey, run.OrganizationId, price,
                    now.AddMinutes(options.Value.ReservationMinutes), "run", run.Id.ToString(), CancellationToken.None);
                if (reserve.Status == LedgerStatus.InsufficientCredits)
                {
                    if (!await FinishAsync(run, lease, AgentRunStatus.Failed, ProblemCodes.InsufficientCredits, latency, 0, counted: false, ct))
                    {
                        return InProgress();
                    }
                    return Fail(StatusCodes.Status402PaymentRequired, ProblemCodes.InsufficientCredits,
                        $"The buyer's wallet cannot pay this run ({price:N0} credits; {reserve.Available:N0} available); it is recorded as unpaid.");
                }
                if (!reserve.Succeeded)
                {
                    throw new InvalidOperationException($"Reserve refused: {reserve.Status}");
                }
                settle = await ledger.SettleAsync($"usage:{run.Id}:settle", run.OrganizationId, reserve.OperationId, price,
                    listing.ProviderId, credits.Value.Split, $"{listing.Name} run (reported)", CancellationToken.None);
                if (settle.Status != LedgerStatus.ReservationResolved)
                {
                    break;
                }
            }
            // A conflict on the run's settle key is an earlier delivery's settle under other terms (the operator changed the
            // revenue split since): the price was charged.
            charged = settle!.Succeeded || settle.Status == LedgerStatus.IdempotencyConflict ? price : 0;
        }
        if (!await FinishAsync(run, lease, succeeded ? AgentRunStatus.Succeeded : AgentRunStatus.Failed,
            succeeded ? null : errorCode ?? "run_failed", latency, charged, counted: true, ct))
        {
            return InProgress();
        }
        return (new UsageRecorded(run.Id, charged, Replayed: false), null);
    }

    /// <summary>
    /// Records the run, if this delivery still holds its lease: renewed first, so no other delivery takes the event over
    /// while the journal writes it, and only one delivery ever records it (and counts it in the figures).
    /// </summary>
    async Task<bool> FinishAsync(AgentRun run, DateTime lease, AgentRunStatus status, string? errorCode, int latency, long charged, bool counted, CancellationToken ct)
    {
        if (await RenewAsync(run.Id, lease, ct) is null)
        {
            return false;
        }
        run.Status = status;
        run.ErrorCode = errorCode;
        run.CreditsCharged = charged;
        run.LatencyMs = latency;
        run.EngineMs = latency;
        run.FinishedUtc = run.StartedUtc.AddMilliseconds(latency);
        await journal.RecordAsync(new JournalEntry(run, RecordExists: true, counted), CancellationToken.None);
        return true;
    }

    Task<AgentRun?> RecordedAsync(Guid configId, string idempotencyKey, CancellationToken ct) =>
        db.AgentRuns.AsNoTracking().FirstOrDefaultAsync(r => r.ConfigId == configId && r.IdempotencyKey == idempotencyKey, ct);

    static (UsageRecorded?, GatewayFailure?) Replay(AgentRun recorded) => recorded switch
    {
        { Status: AgentRunStatus.Running } => InProgress(),
        { ErrorCode: ProblemCodes.InsufficientCredits } => Fail(StatusCodes.Status402PaymentRequired, ProblemCodes.InsufficientCredits,
            "This event was recorded as unpaid: the buyer's wallet could not pay it."),
        _ => (new UsageRecorded(recorded.Id, recorded.CreditsCharged, Replayed: true), null),
    };

    static (UsageRecorded?, GatewayFailure?) InProgress() =>
        Fail(StatusCodes.Status409Conflict, "report_in_progress", "This event is being recorded; retry in a moment.");

    static string? Problem(UsageReport? report) => report switch
    {
        null => "Send the report as a JSON object.",
        { EventId: null or { Length: 0 or > 100 } } => "event_id: give the event a unique id of at most 100 characters.",
        { CustomerAgentConfig: null } => "customer_agent_config: name the subscription the run was for.",
        { Status: not ("succeeded" or "failed") } => "status: use \"succeeded\" or \"failed\".",
        { InputTokens: null or < 0 or > 100_000_000 } => "input_tokens: give a whole number from 0 to 100,000,000.",
        { OutputTokens: null or < 0 or > 100_000_000 } => "output_tokens: give a whole number from 0 to 100,000,000.",
        { LatencyMs: < 0 or > 86_400_000 } => "latency_ms: give a whole number of milliseconds, at most a day.",
        { Model.Length: > 100 } => "model: use at most 100 characters.",
        { ErrorCode.Length: > 60 } => "error_code: use at most 60 characters.",
        { SessionId.Length: > 200 } => "session_id: use at most 200 characters.",
        _ => null,
    };

    /// <summary>Checks <c>t=…,v1=…</c> against the secret, within five minutes of now, in constant time.</summary>
    public static bool SignatureIsValid(string secret, string? header, byte[] body, DateTimeOffset now)
    {
        if (header is null)
        {
            return false;
        }
        string? timestamp = null;
        var signatures = new List<byte[]>();
        foreach (var part in header.Split(',', StringSplitOptions.TrimEntries))
        {
            if (part.StartsWith("t=", StringComparison.Ordinal))
            {
                timestamp = part[2..];
            }
            else if (part.StartsWith("v1=", StringComparison.Ordinal) && part.Length == 3 + 64)
            {
                try
                {
                    signatures.Add(Convert.FromHexString(part.AsSpan(3)));
                }
                catch (FormatException)
                {
                    // Not hex: not a signature of ours.
                }
            }
        }
        if (!long.TryParse(timestamp, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)
            || (now - DateTimeOffset.FromUnixTimeSeconds(Math.Clamp(seconds, 0, 253_402_300_799))).Duration() > Tolerance)
        {
            return false;
        }
        var expected = Sign(secret, timestamp!, body);
        var matched = false;
        foreach (var signature in signatures)
        {
            matched |= CryptographicOperations.FixedTimeEquals(signature, expected);
        }
        return matched;
    }

    /// <summary>HMAC-SHA256 of <c>"{timestamp}.{body}"</c> with the secret's UTF-8 bytes.</summary>
    public static byte[] Sign(string secret, string timestamp, byte[] body)
    {
        var signed = new byte[timestamp.Length + 1 + body.Length];
        Encoding.ASCII.GetBytes(timestamp, signed);
        signed[timestamp.Length] = (byte)'.';
        body.CopyTo(signed, timestamp.Length + 1);
        return HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), signed);
    }

    static (UsageRecorded?, GatewayFailure?) Fail(int status, string code, string message) => (null, new GatewayFailure(status, code, message));
}

static class ExternalUsageEndpoints
{
    public static void MapExternalUsage(this IEndpointRouteBuilder routes)
    {
        routes.MapPost("/api/runtime/usage", RecordAsync).WithTags("Gateway").WithName("ReportUsage").AllowAnyone().WithRequestBodyLimit(16 * 1024);
        routes.MapPost("/api/providers/mine/usage-secret", RotateSecretAsync).WithTags("Providers").WithName("RotateUsageSecret")
            .RequireOrganization(Identity.MembershipRole.Manager);
    }

    static async Task<IResult> RecordAsync(HttpContext http, ExternalUsage usage, CancellationToken ct)
    {
        using var buffer = new MemoryStream();
        await http.Request.Body.CopyToAsync(buffer, ct);
        var (recorded, failure) = await usage.RecordAsync(http.Request.Headers[ExternalUsage.ProviderHeader], http.Request.Headers[ExternalUsage.SignatureHeader], buffer.ToArray(), ct);
        if (failure is not null)
        {
            return ApiProblem.Create(failure.Status, failure.Code, failure.Message);
        }
        return recorded!.Replayed ? TypedResults.Ok(recorded) : TypedResults.Created((string?)null, recorded);
    }

    static async Task<IResult> RotateSecretAsync(ExternalUsage usage, CancellationToken ct) =>
        await usage.RotateSecretAsync(ct) is { } secret
            ? TypedResults.Created((string?)null, secret)
            : ApiProblem.Forbidden("not_a_provider", "Only a provider's organization has a usage secret; apply as a provider first.");
}
