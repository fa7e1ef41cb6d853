using System.Diagnostics;
using AgentMarket.Catalog;
using AgentMarket.Catalog.Pricing;
using AgentMarket.Catalog.SocialProof;
using AgentMarket.Credits;
using AgentMarket.Credits.Ledger;
using AgentMarket.Flows;
using AgentMarket.Flows.Execution;
using AgentMarket.Flows.Services;
using AgentMarket.Keys;
using AgentMarket.Platform.Data;
using AgentMarket.Platform.Errors;
using AgentMarket.Platform.Tenancy;
using AgentMarket.Runtime;
using AgentMarket.Subscriptions;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace AgentMarket.Gateway;

/// <summary>One run request from any front door, for the current organization's subscription <see cref="ConfigId"/>.</summary>
public sealed record GatewayRequest(Guid ConfigId, string? Input, string? SessionId, string? IdempotencyKey, string Door)
{
    public KeyGrant? Key { get; init; }
    public string InputType { get; init; } = "chat";
    public string OutputType { get; init; } = "chat";
    public string? OutputComponent { get; init; }
}

/// <summary>A finished run as every door reports it; <see cref="Engine"/> carries the engine's result for doors that shape it.</summary>
public sealed record GatewayResult(Guid RunId, string? Output, string SessionId, long CreditsCharged, long Balance, RunResult? Engine, bool Replayed)
{
    /// <summary>How long the engine ran; the rest of a request's time is the gateway's own overhead.</summary>
    public TimeSpan EngineTime { get; init; }
}

/// <summary>Why the gateway refused or failed a run, as a problem: a stable code, and what a client needs to react.</summary>
public sealed record GatewayFailure(int Status, string Code, string Message, IDictionary<string, object?>? Extensions = null, TimeSpan? RetryAfter = null)
{
    public Guid? RunId { get; init; }
}

/// <summary>
/// The one path every front door takes (SPEC §3, §7, §8): authorise the subscription, check the plan's concurrent
/// sessions, the key's rate and budget and the session's credit cap, reserve the run's maximum price (402 before any work
/// when the wallet cannot pay it), run the flow with the buyer's configuration, knowledge and session memory, settle the
/// actual price or void it when the run fails, and record the run for usage, analytics and social proof.
/// </summary>
sealed class RunGateway(
    AppDbContext db, CurrentTenant tenant, AgentPlans plans, AgentVersionPolicy versions, CreditLedger ledger, CreditGrants grants,
    KeyRateLimits rateLimits, RunSlots slots, ModelClients models, PlatformOutbound outbound, IDbContextFactory<AppDbContext> contexts,
    IDataProtectionProvider protection, RunFacts facts, SpendControls spend, IOptionsMonitor<LlmOptions> llm, IOptions<FlowsOptions> flows,
    IOptions<GatewayOptions> options, IOptions<CreditsOptions> credits, TimeProvider clock, ILogger<RunGateway> logger)
{
    public async Task<(GatewayResult? Result, GatewayFailure? Failure)> RunAsync(GatewayRequest request, Func<RunEvent, ValueTask>? onEvent, CancellationToken ct)
    {
        var started = Stopwatch.GetTimestamp();
        var organization = tenant.RequiredOrganizationId;
        if (request.Key is { } key && key.ConfigId != request.ConfigId)
        {
            return Refuse(StatusCodes.Status404NotFound, ProblemCodes.NotFound, "The agent was not found.");
        }
        var config = await db.CustomerAgentConfigs.AsNoTracking().Include(c => c.Listing)
            .FirstOrDefaultAsync(c => c.Id == request.ConfigId && c.State == SubscriptionState.Active, ct);
        if (config?.Listing is not { } listing)
        {
            return Refuse(StatusCodes.Status404NotFound, ProblemCodes.NotFound, "The agent was not found.");
        }
        if (listing.State != ListingState.Active)
        {
            return Refuse(StatusCodes.Status409Conflict, "agent_unavailable", "The provider has paused or withdrawn this agent.");
        }
        if (request.Key is { } rateKey && rateLimits.TryAcquire(rateKey.KeyId, rateKey.RateLimitPerMinute) is { Allowed: false } limited)
        {
            return Refuse(StatusCodes.Status429TooManyRequests, ProblemCodes.RateLimited, "This key's rate limit is reached; retry later.", retryAfter: limited.RetryAfter);
        }
        var idempotencyKey = request.IdempotencyKey is { Length: > 0 } given ? given.Trim() : null;
        if (idempotencyKey is not null && await ReplayAsync(config, idempotencyKey, ct) is { } replay)
        {
            return replay;
        }

        var plan = await db.OrganizationPlans.AsNoTracking().Where(p => p.OrganizationId == organization)
            .Select(p => new { p.PlanCode, p.SessionCreditCap }).FirstAsync(ct);
        var sessionLimit = await db.Plans.AsNoTracking().Where(p => p.Code == plan.PlanCode).Select(p => p.ConcurrentSessions).FirstAsync(ct);
        using var slot = slots.TryEnter(organization, sessionLimit);
        if (slot is null)
        {
            return Refuse(StatusCodes.Status429TooManyRequests, "session_limit", $"Your plan allows {sessionLimit} concurrent session(s); wait for one to finish or upgrade.", retryAfter: TimeSpan.FromSeconds(1));
        }

        var now = clock.GetUtcNow().UtcDateTime;
        var terms = await TermsAsync(config, listing, now, ct);
        var maxPrice = terms.Model switch
        {
            PricingModel.FixedCredits => terms.CreditsPerRun,
            PricingModel.VariableCredits => terms.CreditsMax,
            PricingModel.Free or PricingModel.Subscription => 0,
        };
        var sessionId = request.SessionId is { Length: > 0 and <= 200 } session ? session : Guid.CreateVersion7().ToString("N");
        if (await CheckCapsAsync(config, request.Key, sessionId, plan.SessionCreditCap, maxPrice, ct) is { } capped)
        {
            return (null, capped);
        }

        var runId = Guid.CreateVersion7();
        var run = new AgentRun
        {
            Id = runId, OrganizationId = organization, ConfigId = config.Id, ListingId = listing.Id, AgentVersionId = config.AgentVersionId,
            ProviderId = listing.ProviderId, KeyId = request.Key?.KeyId, UserId = tenant.UserId, SessionId = sessionId,
            IdempotencyKey = idempotencyKey, Door = request.Door, Status = AgentRunStatus.Running, CreditsReserved = maxPrice,
            StartedUtc = now, Day = DateOnly.FromDateTime(now),
        };
        db.AgentRuns.Add(run);
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException) when (idempotencyKey is not null)
        {
            // The same Idempotency-Key is being run by a concurrent request.
            db.Entry(run).State = EntityState.Detached;
            return (await ReplayAsync(config, idempotencyKey, ct)) is { } raced ? raced
                : Refuse(StatusCodes.Status409Conflict, "run_in_progress", "A run with this Idempotency-Key is in progress.");
        }

        Guid? reservation = null;
        if (maxPrice > 0)
        {
            await grants.EnsureAsync(organization, plan.PlanCode, ct);
            var reserve = await ledger.ReserveAsync($"run:{runId}:reserve", organization, maxPrice, now.AddMinutes(options.Value.ReservationMinutes), "run", runId.ToString(), ct);
            if (reserve.Status == LedgerStatus.InsufficientCredits)
            {
                await FinishAsync(run, AgentRunStatus.Failed, ProblemCodes.InsufficientCredits, null, 0, started, ct);
                return (null, new GatewayFailure(StatusCodes.Status402PaymentRequired, ProblemCodes.InsufficientCredits,
                    $"This run needs {maxPrice:N0} credits; {reserve.Available:N0} are available.",
                    new Dictionary<string, object?> { ["required"] = reserve.Required, ["available"] = reserve.Available }) { RunId = runId });
            }
            reservation = reserve.Succeeded ? reserve.OperationId : throw new InvalidOperationException($"Reserve refused: {reserve.Status}");
        }

        var version = await versions.EffectiveAsync(config, ct);
        if (await plans.GetAsync(version) is not { } agentPlan)
        {
            await ReleaseAsync(organization, reservation, runId);
            await FinishAsync(run, AgentRunStatus.Failed, "agent_unavailable", null, 0, started, ct);
            return Refuse(StatusCodes.Status409Conflict, "agent_unavailable", "This agent's flow cannot run right now.");
        }

        var engineStarted = Stopwatch.GetTimestamp();
        var result = await ExecuteAsync(agentPlan, config, request, runId, sessionId, onEvent, ct);
        var engineTime = Stopwatch.GetElapsedTime(engineStarted);
        var engineMs = (int)engineTime.TotalMilliseconds;
        run.InputTokens = result.InputTokens;
        run.OutputTokens = result.OutputTokens;
        run.Model = result.Nodes.Select(n => n.Model).FirstOrDefault(m => m is not null);
        run.EngineMs = engineMs;

        if (result.Status != RunStatus.Succeeded)
        {
            await ReleaseAsync(organization, reservation, runId);
            var code = result.Error?.Code ?? "run_failed";
            await FinishAsync(run, AgentRunStatus.Failed, code, null, 0, started, ct);
            await facts.RecordAsync(new FinishedRun(listing.Id, organization, version, RunOutcome.Failed, now, clock.GetUtcNow().UtcDateTime), CancellationToken.None);
            return (null, FailureFor(result, runId));
        }

        var actual = terms.Model switch
        {
            PricingModel.FixedCredits => terms.CreditsPerRun,
            PricingModel.VariableCredits => Math.Clamp(
                (result.InputTokens + result.OutputTokens) * options.Value.VariableCreditsPerThousandTokens / 1_000, terms.CreditsMin, terms.CreditsMax),
            PricingModel.Free or PricingModel.Subscription => 0,
        };
        if (reservation is { } reserved)
        {
            var settle = await ledger.SettleAsync($"run:{runId}:settle", organization, reserved, actual, listing.ProviderId, credits.Value.Split, $"{listing.Name} run", CancellationToken.None);
            if (!settle.Succeeded)
            {
                // Settling can only fail when the expiry job voided a run that outlived its reservation: it ran free.
                logger.LogWarning("Run {RunId} was not charged: {Status}", runId, settle.Status);
                actual = 0;
            }
        }
        var output = result.OutputText;
        await FinishAsync(run, AgentRunStatus.Succeeded, null, Truncate(output), actual, started, CancellationToken.None);
        await RecordSpendAsync(config, request.Key, sessionId, actual, CancellationToken.None);
        await facts.RecordAsync(new FinishedRun(listing.Id, organization, version, RunOutcome.Completed, now, clock.GetUtcNow().UtcDateTime), CancellationToken.None);
        if (actual > 0)
        {
            await spend.AfterSpendAsync(organization, CancellationToken.None);
        }
        var balance = await ledger.BalanceAsync(organization, CancellationToken.None);
        return (new GatewayResult(runId, output, sessionId, actual, balance.Available, result, Replayed: false) { EngineTime = engineTime }, null);
    }

    async Task<RunResult> ExecuteAsync(AgentPlan agentPlan, CustomerAgentConfig config, GatewayRequest request, Guid runId, string sessionId,
        Func<RunEvent, ValueTask>? onEvent, CancellationToken ct)
    {
        var fields = await plans.FieldsAsync(agentPlan.AgentId, ct);
        var tweaks = SubscriptionSettings.Tweaks(fields, SubscriptionSettings.Parse(config.SettingsJson), config.KnowledgeBaseId);
        var services = new FlowServices
        {
            Models = new PlatformModelResolver(models, BuyerModel(config), PlatformModelResolver.OperatorDefault(llm.CurrentValue)),
            Messages = new DatabaseMessageStore(contexts, config.OrganizationId, config.Id, clock),
            Outbound = outbound.Guard,
            Time = clock,
            Limits = RunLimits.Default with { WallTime = TimeSpan.FromSeconds(flows.Value.RunTimeoutSeconds) },
        };
        var runRequest = new RunRequest
        {
            InputValue = request.Input,
            InputType = request.InputType,
            OutputType = request.OutputType,
            OutputComponent = request.OutputComponent,
            Tweaks = tweaks,
            SessionId = sessionId,
            RunId = runId.ToString("N"),
        };
        if (onEvent is null)
        {
            return await FlowEngine.Default.RunAsync(agentPlan.Plan, runRequest, services, ct);
        }
        RunResult? final = null;
        await foreach (var item in FlowEngine.Default.StreamAsync(agentPlan.Plan, runRequest, services, ct))
        {
            switch (item)
            {
                case RunCompleted completed:
                    final = completed.Result;
                    break;
                case RunFailed failed:
                    final = failed.Result;
                    break;
                default:
                    await onEvent(item);
                    break;
            }
        }
        return final ?? throw new InvalidOperationException("The engine's stream ended without a result.");
    }

    ModelEndpoint? BuyerModel(CustomerAgentConfig config)
    {
        if (config.ModelApiKeyProtected is null && config.ModelBaseUrl is null)
        {
            return null;
        }
        var apiKey = config.ModelApiKeyProtected is null ? null : protection.CreateProtector(SubscriptionService.ModelKeyPurpose).Unprotect(config.ModelApiKeyProtected);
        return new ModelEndpoint(Uri.TryCreate(config.ModelBaseUrl, UriKind.Absolute, out var url) ? url : null, apiKey, config.ModelName);
    }

    /// <summary>The subscriber's price: an announced increase reaches them only after its notice period.</summary>
    async Task<PricingTerms> TermsAsync(CustomerAgentConfig config, Listing listing, DateTime now, CancellationToken ct)
    {
        var current = PricingTerms.Of(listing);
        var pending = await db.ListingPriceChanges.AsNoTracking()
            .Where(c => c.ListingId == listing.Id && c.EffectiveForSubscribersUtc > now && c.AnnouncedUtc > config.SubscribedUtc).ToListAsync(ct);
        return pending.Count == 0 ? current : PriceSchedule.ForSubscriber(current, pending, config.SubscribedUtc, now);
    }

    async Task<GatewayFailure?> CheckCapsAsync(CustomerAgentConfig config, KeyGrant? key, string sessionId, long? sessionCap, long maxPrice, CancellationToken ct)
    {
        if (sessionCap is { } cap && maxPrice > 0)
        {
            var spent = await db.ChatSessions.AsNoTracking().Where(s => s.ConfigId == config.Id && s.SessionId == sessionId).Select(s => s.CreditsSpent).FirstOrDefaultAsync(ct);
            if (spent + maxPrice > cap)
            {
                return new GatewayFailure(StatusCodes.Status402PaymentRequired, "session_credit_cap",
                    $"This chat session has spent {spent:N0} of its {cap:N0}-credit limit; start a new session.",
                    new Dictionary<string, object?> { ["session_credit_cap"] = cap, ["spent"] = spent, ["required"] = maxPrice });
            }
        }
        if (key?.BudgetCredits is { } budget && maxPrice > 0)
        {
            var spent = await db.ApiKeys.AsNoTracking().Where(k => k.Id == key.KeyId).Select(k => k.SpentCredits).FirstAsync(ct);
            if (spent + maxPrice > budget)
            {
                return new GatewayFailure(StatusCodes.Status402PaymentRequired, "budget_exceeded",
                    $"This key has spent {spent:N0} of its {budget:N0}-credit budget.",
                    new Dictionary<string, object?> { ["budget_credits"] = budget, ["spent"] = spent, ["required"] = maxPrice });
            }
        }
        return null;
    }

    async Task<(GatewayResult?, GatewayFailure?)?> ReplayAsync(CustomerAgentConfig config, string idempotencyKey, CancellationToken ct)
    {
        var earlier = await db.AgentRuns.AsNoTracking().FirstOrDefaultAsync(r => r.ConfigId == config.Id && r.IdempotencyKey == idempotencyKey, ct);
        if (earlier is null)
        {
            return null;
        }
        if (earlier.Status == AgentRunStatus.Running)
        {
            return Refuse(StatusCodes.Status409Conflict, "run_in_progress", "A run with this Idempotency-Key is in progress.");
        }
        if (earlier.Status == AgentRunStatus.Failed)
        {
            return (null, new GatewayFailure(StatusCodes.Status409Conflict, ProblemCodes.IdempotencyConflict,
                $"The run with this Idempotency-Key failed ({earlier.ErrorCode}); use a new key to retry.") { RunId = earlier.Id });
        }
        var balance = await ledger.BalanceAsync(config.OrganizationId, ct);
        return (new GatewayResult(earlier.Id, earlier.Output, earlier.SessionId, earlier.CreditsCharged, balance.Available, null, Replayed: true), null);
    }

    async Task ReleaseAsync(Guid organization, Guid? reservation, Guid runId)
    {
        if (reservation is { } id)
        {
            var released = await ledger.VoidAsync($"run:{runId}:void", organization, id, CancellationToken.None);
            if (!released.Succeeded)
            {
                logger.LogWarning("Reservation of run {RunId} not voided: {Status}", runId, released.Status);
            }
        }
    }

    async Task FinishAsync(AgentRun run, AgentRunStatus status, string? errorCode, string? output, long charged, long started, CancellationToken ct)
    {
        run.Status = status;
        run.ErrorCode = errorCode;
        run.Output = output;
        run.CreditsCharged = charged;
        run.LatencyMs = (int)Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        run.FinishedUtc = clock.GetUtcNow().UtcDateTime;
        await db.SaveChangesAsync(ct);
    }

    async Task RecordSpendAsync(CustomerAgentConfig config, KeyGrant? key, string sessionId, long charged, CancellationToken ct)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        // One statement on both databases, so concurrent runs of one session add up instead of racing an insert.
        await db.Database.ExecuteSqlAsync($"""
            INSERT INTO chat_sessions (id, organization_id, config_id, session_id, credits_spent, runs, created_utc, last_activity_utc)
            VALUES ({Guid.CreateVersion7()}, {config.OrganizationId}, {config.Id}, {sessionId}, {charged}, 1, {now}, {now})
            ON CONFLICT (config_id, session_id) DO UPDATE SET
                credits_spent = chat_sessions.credits_spent + excluded.credits_spent,
                runs = chat_sessions.runs + 1,
                last_activity_utc = excluded.last_activity_utc
            """, ct);
        if (key is not null && charged > 0)
        {
            await db.ApiKeys.Where(k => k.Id == key.KeyId).ExecuteUpdateAsync(s => s.SetProperty(k => k.SpentCredits, k => k.SpentCredits + charged), ct);
        }
    }

    string? Truncate(string? output) =>
        output is null || output.Length <= options.Value.StoredOutputLimit ? output : output[..options.Value.StoredOutputLimit];

    static GatewayFailure FailureFor(RunResult result, Guid runId)
    {
        var code = result.Error?.Code ?? "run_failed";
        var (status, message) = code switch
        {
            RunErrorCodes.ModelNotConfigured => (StatusCodes.Status422UnprocessableEntity, "No model is configured for this agent: the operator, the provider or you (bring your own key) must set one."),
            RunErrorCodes.ModelError => (StatusCodes.Status502BadGateway, "The model endpoint failed; nothing was charged."),
            _ when result.Status == RunStatus.LimitExceeded => (StatusCodes.Status422UnprocessableEntity, result.Error?.Message ?? "The run reached a limit; nothing was charged."),
            _ when result.Status == RunStatus.Canceled => (499, "The run was canceled; nothing was charged."),
            _ => (StatusCodes.Status422UnprocessableEntity, result.Error?.Message ?? "The run failed; nothing was charged."),
        };
        return new GatewayFailure(status, code, message, new Dictionary<string, object?> { ["run_id"] = runId }) { RunId = runId };
    }

    static (GatewayResult?, GatewayFailure?) Refuse(int status, string code, string message, TimeSpan? retryAfter = null) =>
        (null, new GatewayFailure(status, code, message, RetryAfter: retryAfter));
}
