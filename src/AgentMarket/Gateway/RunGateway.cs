using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using AgentMarket.Catalog;
using AgentMarket.Catalog.Pricing;
using AgentMarket.Credits;
using AgentMarket.Credits.Ledger;
using AgentMarket.Flows;
using AgentMarket.Flows.Execution;
using AgentMarket.Flows.Services;
using AgentMarket.Keys;
using AgentMarket.Knowledge.Retrieval;
using AgentMarket.Platform.Data;
using AgentMarket.Platform.Errors;
using AgentMarket.Platform.Tenancy;
using AgentMarket.Providers.Configuration;
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

    /// <summary>
    /// Values for the flow's own input nodes, by node id: a Text Input's text or a Webhook's payload, for doors whose
    /// protocol names inputs one by one (MCP tool arguments, Langflow's webhook). Only input nodes take them and a field
    /// the provider declared for buyers wins, so they can never change the agent's configuration.
    /// </summary>
    public IReadOnlyDictionary<string, string>? NodeInputs { get; init; }

    /// <summary>
    /// The conversation so far, for doors whose clients resend it with every request (OpenAI's chat completions): the
    /// run's session memory is exactly these turns, and nothing of the run is kept as memory.
    /// </summary>
    public IReadOnlyList<ConversationTurn>? History { get; init; }

    /// <summary>
    /// What the run is asked, as a SHA-256 in hex: everything here that changes its answer — the input, the session as
    /// given (none stays none: the gateway starts a new one each time), the input and output types, the output component,
    /// the node inputs and the history. Not the subscription, which scopes the key, nor the door or the calling key,
    /// which change who asks, not what. An <c>Idempotency-Key</c> reused with another fingerprint is refused (ADR-136);
    /// a field added to this record that changes the answer belongs here too.
    /// </summary>
    public string Fingerprint()
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Append(hash, Input);
        Append(hash, SessionId);
        Append(hash, InputType);
        Append(hash, OutputType);
        Append(hash, OutputComponent);
        Append(hash, NodeInputs?.Count);
        foreach (var (node, value) in NodeInputs?.OrderBy(n => n.Key, StringComparer.Ordinal) ?? Enumerable.Empty<KeyValuePair<string, string>>())
        {
            Append(hash, node);
            Append(hash, value);
        }
        Append(hash, History?.Count);
        foreach (var turn in History ?? [])
        {
            Append(hash, turn.Sender);
            Append(hash, turn.Text);
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    /// <summary>
    /// The first field holding U+0000, or null. PostgreSQL refuses it in text columns (error 22021), so a run asked with
    /// one could keep neither its session messages nor its record: it would answer, then fail to settle and cost nothing.
    /// Every field here can reach a text column (the session memory, the run record, a tweak a node stores).
    /// </summary>
    public string? FieldWithNul()
    {
        if (StoredText.HasNul(Input))
        {
            return "input";
        }
        if (StoredText.HasNul(SessionId))
        {
            return "session_id";
        }
        if (StoredText.HasNul(IdempotencyKey))
        {
            return "Idempotency-Key";
        }
        if (StoredText.HasNul(InputType) || StoredText.HasNul(OutputType))
        {
            return StoredText.HasNul(InputType) ? "input_type" : "output_type";
        }
        if (StoredText.HasNul(OutputComponent))
        {
            return "output_component";
        }
        if (NodeInputs?.Any(n => StoredText.HasNul(n.Key) || StoredText.HasNul(n.Value)) == true)
        {
            return "inputs";
        }
        return History?.Any(turn => StoredText.HasNul(turn.Sender) || StoredText.HasNul(turn.Text)) == true ? "messages" : null;
    }

    /// <summary>
    /// A string's UTF-8 bytes after their count (-1 for none), so no two different requests hash the same bytes. UTF-8
    /// hashes half the bytes UTF-16 would (a 100,000-character input in about 60 µs); the strings come from JSON, which
    /// System.Text.Json reads only as valid UTF-16, so no two of them encode alike.
    /// </summary>
    static void Append(IncrementalHash hash, string? value)
    {
        if (value is null)
        {
            Append(hash, (int?)null);
            return;
        }
        var bytes = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(value.Length));
        var length = Encoding.UTF8.GetBytes(value, bytes);
        Append(hash, length);
        hash.AppendData(bytes, 0, length);
        ArrayPool<byte>.Shared.Return(bytes);
    }

    static void Append(IncrementalHash hash, int? count)
    {
        Span<byte> bytes = stackalloc byte[sizeof(int)];
        BinaryPrimitives.WriteInt32LittleEndian(bytes, count ?? -1);
        hash.AppendData(bytes);
    }
}

/// <summary>A finished run as every door reports it; <see cref="Engine"/> carries the engine's result for doors that shape it.</summary>
public sealed record GatewayResult(Guid RunId, string? Output, string SessionId, long CreditsCharged, long Balance, RunResult? Engine, bool Replayed)
{
    /// <summary>How long the engine ran; the rest of a request's time is the gateway's own overhead.</summary>
    public TimeSpan EngineTime { get; init; }

    /// <summary>Whether the run's tokens are the model endpoint's own figures, bounded or estimated (<see cref="AgentRun.UsageSource"/>).</summary>
    public UsageSource? UsageSource { get; init; }

    /// <summary>Playground runs of visitors: trial runs left today for this agent.</summary>
    public int? TrialRunsLeft { get; init; }

    /// <summary>What the promotions account paid the provider for a free try (its payment as the journal recorded it).</summary>
    public long PromotionCredits { get; init; }
}

/// <summary>Why the gateway refused or failed a run, as a problem: a stable code, and what a client needs to react.</summary>
public sealed record GatewayFailure(int Status, string Code, string Message, IDictionary<string, object?>? Extensions = null, TimeSpan? RetryAfter = null)
{
    public Guid? RunId { get; init; }

    /// <summary>400 <c>validation_failed</c> for a field holding U+0000 (<see cref="GatewayRequest.FieldWithNul"/>), shaped like the API's validation problems.</summary>
    public static GatewayFailure NulCharacter(string field) =>
        new(StatusCodes.Status400BadRequest, ProblemCodes.ValidationFailed, $"The {field} contains the NUL character (U+0000), which cannot be stored; remove it.",
            new Dictionary<string, object?> { ["errors"] = new Dictionary<string, string[]> { [field] = ["Remove the NUL character (U+0000)."] } });
}


/// <summary>
/// The one path every run takes (SPEC §3, §7, §8): authorise, check the plan's concurrent sessions, the key's rate and
/// budget and the session's credit cap, reserve the run's maximum price (402 before any work when the wallet cannot pay
/// it), run the flow with the buyer's configuration and session memory, settle the actual price or void it when the run
/// fails, and record the run for usage, analytics and social proof. Subscriptions run through <see cref="RunAsync"/>,
/// the agent page's playground through <see cref="TryAsync"/>; both share everything after deciding who pays.
/// </summary>
sealed class RunGateway(
    AppDbContext db, CurrentTenant tenant, AgentPlans plans, CreditLedger ledger, CreditGrants grants,
    KeyRateLimits rateLimits, KnowledgeRetrievers knowledge, RunSlots slots, SpendCapHolds capHolds, ModelClients models, PlatformOutbound outbound, IDbContextFactory<AppDbContext> contexts,
    IDataProtectionProvider protection, GatewayCache cache, RunJournal journal, SpendControls spend, TrialAllowance trials, IOptionsMonitor<LlmOptions> llm,
    IOptions<FlowsOptions> flows, IOptions<GatewayOptions> options, IOptions<CreditsOptions> credits, InterruptedRuns interrupted,
    IHostApplicationLifetime lifetime, TimeProvider clock)
{
    enum Payer
    {
        /// <summary>The organization's wallet: reserve, then settle or void.</summary>
        Wallet,

        /// <summary>The platform's promotions account pays the provider for a visitor's trial run.</summary>
        Promotions,

        /// <summary>Free agents and subscription-priced agents (paid monthly).</summary>
        Nobody,
    }

    /// <summary>Everything decided before a run starts.</summary>
    sealed record Prepared(
        Listing Listing, Guid VersionId, Guid Organization, CustomerAgentConfig? Config, Payer Payer, PricingTerms Terms, long MaxPrice,
        string SessionId, Guid MemoryPartition, string? PlanCode, bool HasSpendControls, KeyGrant? Key, string Door, string? IdempotencyKey, string? RequestHash)
    {
        /// <summary>A playground try on the free allowance (<see cref="AgentRun.Trial"/>).</summary>
        public bool Trial { get; init; }
    }

    public async Task<(GatewayResult? Result, GatewayFailure? Failure)> RunAsync(GatewayRequest request, Func<RunEvent, ValueTask>? onEvent, CancellationToken ct)
    {
        var started = Stopwatch.GetTimestamp();
        var organization = tenant.RequiredOrganizationId;
        // Before anything is claimed, reserved or counted: every door's runs come through here.
        if (request.FieldWithNul() is { } unstorable)
        {
            return (null, GatewayFailure.NulCharacter(unstorable));
        }
        if (request.Key is { } key && key.ConfigId != request.ConfigId)
        {
            return Refuse(StatusCodes.Status404NotFound, ProblemCodes.NotFound, "The agent was not found.");
        }
        if (request.Key is { CanRun: false })
        {
            return Refuse(StatusCodes.Status403Forbidden, ProblemCodes.InsufficientScope, "This key has only the read scope; running the agent needs a key with the run scope.");
        }
        // The cache reads across tenants; the organization check here is what keeps it to the caller's own subscriptions.
        if (await cache.SubscriptionAsync(request.ConfigId, ct) is not { } subscription
            || subscription.Config.OrganizationId != organization || subscription.Config.State == SubscriptionState.Terminated)
        {
            return Refuse(StatusCodes.Status404NotFound, ProblemCodes.NotFound, "The agent was not found.");
        }
        var (config, listing) = (subscription.Config, subscription.Listing);
        if ((await cache.OrganizationAsync(organization, ct)).Suspended)
        {
            return Refuse(StatusCodes.Status403Forbidden, ProblemCodes.OrganizationSuspended, ProblemCodes.OrganizationSuspendedMessage);
        }
        if (config.State == SubscriptionState.PastDue)
        {
            // What this subscriber owes: an increase still in its notice does not reach them (ADR-143), as the charge job prices it.
            var owed = Terms(listing, await cache.ListingAsync(listing.Id, ct), config.SubscribedUtc);
            return Refuse(StatusCodes.Status402PaymentRequired, RunRefusals.SubscriptionPastDue,
                $"This month of {listing.Name} ({owed.CreditsPerRun:N0} credits) is unpaid; add credits and it resumes within a minute.");
        }
        if (listing.State != ListingState.Active)
        {
            return Refuse(StatusCodes.Status409Conflict, RunRefusals.AgentUnavailable, ListingAvailability.Unavailable(listing.State)!);
        }
        if (request.Key is { } rateKey && rateLimits.TryAcquire(rateKey.KeyId, rateKey.RateLimitPerMinute) is { Allowed: false } limited)
        {
            return Refuse(StatusCodes.Status429TooManyRequests, ProblemCodes.RateLimited, "This key's rate limit is reached; retry later.", retryAfter: limited.RetryAfter);
        }
        var idempotencyKey = request.IdempotencyKey is { Length: > 0 } given ? given.Trim() : null;
        // Hashed only for a key: runs without one, most of them, pay nothing for it.
        var requestHash = idempotencyKey is null ? null : request.Fingerprint();
        if (idempotencyKey is not null && await ReplayAsync(config, idempotencyKey, requestHash, ct) is { } replay)
        {
            return replay;
        }

        var plan = await cache.OrganizationAsync(organization, ct);
        using var slot = slots.TryEnter(organization, plan.ConcurrentSessions);
        if (slot is null)
        {
            return Refuse(StatusCodes.Status429TooManyRequests, RunRefusals.SessionLimit, $"Your plan allows {plan.ConcurrentSessions} concurrent session(s); wait for one to finish or upgrade.", retryAfter: TimeSpan.FromSeconds(1));
        }

        var facts = await cache.ListingAsync(listing.Id, ct);
        var terms = Terms(listing, facts, config.SubscribedUtc);
        if (terms.Model == PricingModel.Subscription && config.NextChargeUtc is null)
        {
            // Monthly terms reached this subscriber (its provider moved to subscription pricing) and no month is paid yet:
            // the charge job takes it within a minute; until then runs would be free (ADR-143).
            return Refuse(StatusCodes.Status402PaymentRequired, "subscription_past_due",
                $"{listing.Name} is now paid monthly ({terms.CreditsPerRun:N0} credits) and this month is not paid yet; with enough credits it is within a minute.");
        }
        var maxPrice = terms.MaxRunPrice;
        var sessionId = SessionOrNew(request.SessionId);
        var (capped, capHold) = await HoldCapsAsync(config, request.Key, sessionId, plan.SessionCreditCap, maxPrice, ct);
        if (capped is not null)
        {
            return (null, capped);
        }
        using var heldAgainstCaps = capHold;
        var prepared = new Prepared(listing, AgentVersionPolicy.Effective(config, facts.Releases, listing.AgentVersionId), organization, config, maxPrice > 0 ? Payer.Wallet : Payer.Nobody,
            terms, maxPrice, sessionId, config.Id, plan.PlanCode, plan.HasSpendControls, request.Key, request.Door, idempotencyKey, requestHash);
        return await RunPreparedAsync(prepared, request, onEvent, started, ct);
    }

    /// <summary>
    /// Records a run <see cref="RunAsync"/> refused before preparing it (the plan's concurrent sessions, the key's rate or
    /// budget…), for a door that answered its caller before running (the Langflow webhook's 202): the record in usage is
    /// how the buyer learns of it. Charged nothing and not counted, as any refused run; a refusal that already has its
    /// record (<see cref="GatewayFailure.RunId"/>), or names no subscription of the caller's, records nothing.
    /// </summary>
    public async Task RecordRefusalAsync(GatewayRequest request, GatewayFailure refusal, CancellationToken ct)
    {
        if (refusal.RunId is not null || await cache.SubscriptionAsync(request.ConfigId, ct) is not { } subscription
            || subscription.Config.OrganizationId != tenant.RequiredOrganizationId)
        {
            return;
        }
        var (config, listing) = (subscription.Config, subscription.Listing);
        var facts = await cache.ListingAsync(listing.Id, ct);
        var now = clock.GetUtcNow().UtcDateTime;
        var run = new AgentRun
        {
            OrganizationId = config.OrganizationId,
            ConfigId = config.Id,
            ListingId = listing.Id,
            AgentVersionId = AgentVersionPolicy.Effective(config, facts.Releases, listing.AgentVersionId),
            ProviderId = listing.ProviderId,
            KeyId = request.Key?.KeyId,
            UserId = tenant.UserId,
            SessionId = SessionOrNew(request.SessionId),
            Door = request.Door,
            Status = AgentRunStatus.Failed,
            ErrorCode = refusal.Code,
            StartedUtc = now,
            FinishedUtc = now,
            Day = DateOnly.FromDateTime(now),
        };
        await journal.RecordAsync(new JournalEntry(run, RecordExists: false, Counted: false), CancellationToken.None);
    }

    /// <summary>
    /// The agent page's playground (SPEC §6): a signed-in member of an organization pays per run from its credits; a
    /// visitor runs on the platform's promotion account within a small daily allowance per agent.
    /// </summary>
    public async Task<(GatewayResult? Result, GatewayFailure? Failure)> TryAsync(string agent, string? input, string? sessionId, string? visitor, string address,
        Func<RunEvent, ValueTask>? onEvent, CancellationToken ct)
    {
        var started = Stopwatch.GetTimestamp();
        var organization = tenant.OrganizationId;
        if ((StoredText.HasNul(input) ? "input" : StoredText.HasNul(sessionId) ? "session_id" : null) is { } unstorable)
        {
            return (null, GatewayFailure.NulCharacter(unstorable));
        }
        var listing = await FindPublicListingAsync(agent, organization, ct);
        if (listing?.AgentVersionId is not { } version)
        {
            return Refuse(StatusCodes.Status404NotFound, ProblemCodes.NotFound, "The agent was not found.");
        }
        if (organization is { } member && (await cache.OrganizationAsync(member, ct)).Suspended)
        {
            return Refuse(StatusCodes.Status403Forbidden, ProblemCodes.OrganizationSuspended, ProblemCodes.OrganizationSuspendedMessage);
        }
        var terms = PricingTerms.Of(listing);
        TrialGrant? trial = null;
        Payer payer;
        if (organization is not null && terms.Model is PricingModel.FixedCredits or PricingModel.VariableCredits)
        {
            payer = Payer.Wallet;
        }
        else
        {
            // A member counts as themselves, not as the browser's cookie, which a script need not keep.
            var identity = tenant.UserId?.ToString() ?? visitor;
            if (identity is null)
            {
                return Refuse(StatusCodes.Status400BadRequest, "visitor_required", "Enable cookies to try agents without signing in.");
            }
            // A provider trying its own agent pays nothing and is paid nothing.
            var promoted = terms.Model != PricingModel.Free && organization != listing.OrganizationId;
            // The most the promotions account can pay for this try is set aside from the agent's daily budget first.
            trial = await trials.TakeAsync(identity, address, listing.Id, promoted ? Math.Min(terms.MaxRunPrice, options.Value.TrialMaxCreditsPerRun) : 0, ct);
            if (trial is null)
            {
                return Refuse(StatusCodes.Status429TooManyRequests, "trial_limit",
                    "You have used today's free tries of this agent. Sign up to keep going.", retryAfter: trials.UntilTomorrow());
            }
            // Past the agent's daily budget a try still runs, free to the visitor, but pays the provider nothing (ADR-156).
            payer = promoted && trial.PromotionCredits > 0 ? Payer.Promotions : Payer.Nobody;
        }
        var maxPrice = payer == Payer.Nobody ? 0 : terms.MaxRunPrice;
        var plan = organization is { } org ? await cache.OrganizationAsync(org, ct) : null;
        // Playground memory lives per agent; a visitor's sessions are namespaced by their cookie so ids cannot be shared.
        var session = SessionOrNew(sessionId);
        var prepared = new Prepared(listing, version, organization ?? Guid.Empty, null, payer, terms, maxPrice,
            organization is null ? $"visitor:{visitor}:{session}" : session, listing.Id, plan?.PlanCode, plan?.HasSpendControls ?? false, null, "playground", null, null)
        {
            Trial = trial is not null,
        };
        var (result, failure) = await RunPreparedAsync(prepared, new GatewayRequest(Guid.Empty, input, session, null, "playground"), onEvent, started, ct);
        // The budget keeps what the try paid: nothing when it failed, a variable price may be less than was set aside.
        if (trial is { PromotionCredits: > 0 } funded && (result?.PromotionCredits ?? 0) is var paid && paid < funded.PromotionCredits)
        {
            await trials.GiveBackAsync(listing.Id, funded.Day, funded.PromotionCredits - paid);
        }
        return (result is null ? null : result with { SessionId = session, TrialRunsLeft = trial?.RunsLeft }, failure);
    }

    /// <summary>
    /// Runs a prepared request to its record. From here on the client going away cancels nothing but a non-streamed run's
    /// engine (<paramref name="clientGone"/>): the claim, the reservation and the record are never left half done. A
    /// streamed run goes on to its end without its client (ADR-133): its answer may already be on the client's screen, so it
    /// is charged and recorded as usual, and a retry with its Idempotency-Key replays it. Nor does a slow client hold it up
    /// (ADR-154): the run settles when the engine ends, and this returns once the client has the events before the final one.
    /// </summary>
    async Task<(GatewayResult?, GatewayFailure?)> RunPreparedAsync(Prepared p, GatewayRequest request, Func<RunEvent, ValueTask>? onEvent, long started,
        CancellationToken clientGone)
    {
        if (onEvent is null)
        {
            return await RunAndRecordAsync(p, request, null, started, clientGone);
        }
        // The engine hands its events to a relay and never waits for the client (ADR-154): a client reading slowly would
        // otherwise hold the run until its wall time ran out, failed and uncharged with the answer delivered. The relay
        // holds at most twice the run's output limit: the answer (which the engine keeps within that limit) and as much
        // again for the rest (the buyer's own message echoed, node bookkeeping, an agent's tool steps).
        var relay = new StreamRelay(onEvent, 2 * Limits.MaxOutputBytes, clientGone);
        try
        {
            return await RunAndRecordAsync(p, request, relay.Add, started, lifetime.ApplicationStopping);
        }
        finally
        {
            // The run is settled and recorded by now; the door writes its final frame once the client has the rest.
            await relay.FinishAsync();
        }
    }

    /// <summary>
    /// <see cref="RunPreparedAsync"/> once events have somewhere to go that never waits: <paramref name="engineCanceled"/>
    /// is the client going away for a non-streamed run, the process stopping for a streamed one.
    /// </summary>
    async Task<(GatewayResult?, GatewayFailure?)> RunAndRecordAsync(Prepared p, GatewayRequest request, Func<RunEvent, ValueTask>? onEvent, long started,
        CancellationToken engineCanceled)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var runId = Guid.CreateVersion7();
        var run = new AgentRun
        {
            Id = runId,
            OrganizationId = p.Organization,
            ConfigId = p.Config?.Id,
            ListingId = p.Listing.Id,
            AgentVersionId = p.VersionId,
            ProviderId = p.Listing.ProviderId,
            KeyId = p.Key?.KeyId,
            UserId = tenant.UserId,
            SessionId = p.SessionId,
            IdempotencyKey = p.IdempotencyKey,
            RequestHash = p.RequestHash,
            Door = p.Door,
            Trial = p.Trial,
            Status = AgentRunStatus.Running,
            CreditsReserved = p.MaxPrice,
            StartedUtc = now,
            Day = DateOnly.FromDateTime(now),
        };
        if (p.IdempotencyKey is not null)
        {
            // Claim the key before doing anything: a concurrent retry finds this running record and waits or replays.
            db.AgentRuns.Add(run);
            try
            {
                await db.SaveChangesAsync(CancellationToken.None);
            }
            catch (DbUpdateException)
            {
                db.Entry(run).State = EntityState.Detached;
                return (await ReplayAsync(p.Config!, p.IdempotencyKey, p.RequestHash, CancellationToken.None)) is { } raced ? raced
                    : Refuse(StatusCodes.Status409Conflict, "run_in_progress", "A run with this Idempotency-Key is in progress.");
            }
            db.Entry(run).State = EntityState.Detached;
        }

        Guid? reservation = null;
        if (p.Payer == Payer.Wallet && p.MaxPrice > 0)
        {
            await grants.EnsureAsync(p.Organization, p.PlanCode!, CancellationToken.None);
            var reserve = await ledger.ReserveAsync($"run:{runId}:reserve", p.Organization, p.MaxPrice, now.AddMinutes(options.Value.ReservationMinutes), "run", runId.ToString(), CancellationToken.None);
            if (reserve.Status == LedgerStatus.InsufficientCredits)
            {
                await RefusedAsync(p, run, ProblemCodes.InsufficientCredits, started);
                return (null, new GatewayFailure(StatusCodes.Status402PaymentRequired, ProblemCodes.InsufficientCredits,
                    $"This run needs {p.MaxPrice:N0} credits; {reserve.Available:N0} are available.",
                    new Dictionary<string, object?> { ["required"] = reserve.Required, ["available"] = reserve.Available })
                { RunId = runId });
            }
            reservation = reserve.Succeeded ? reserve.OperationId : throw new InvalidOperationException($"Reserve refused: {reserve.Status}");
        }

        AgentPlan? agentPlan;
        AgentSettings agent;
        Guid? buyerKnowledge;
        KnowledgeRetriever? retriever;
        try
        {
            agentPlan = await plans.GetAsync(p.VersionId);
            if (agentPlan is null)
            {
                await RefusedAsync(p, run, RunRefusals.AgentUnavailable, started, Release(p, reservation, runId));
                return Refuse(StatusCodes.Status409Conflict, RunRefusals.AgentUnavailable, "This agent's flow cannot run right now.");
            }
            agent = await plans.SettingsAsync(agentPlan.AgentId, CancellationToken.None);
            // The buyer's knowledge reaches the flow only when the provider declares a knowledge-base field (SPEC §5).
            buyerKnowledge = agent.Fields.Any(f => f.Kind == ConfigurableFieldKind.KnowledgeBase) ? p.Config?.KnowledgeBaseId : null;
            retriever = await knowledge.ForAsync(p.Organization, buyerKnowledge, agentPlan.ProviderOrganizationId, agent.KnowledgeBaseId, CancellationToken.None);
        }
        catch (KnowledgeBaseAccessException)
        {
            await RefusedAsync(p, run, RunRefusals.KnowledgeBaseUnavailable, started, Release(p, reservation, runId));
            return Refuse(StatusCodes.Status409Conflict, RunRefusals.KnowledgeBaseUnavailable, "This agent's knowledge base no longer exists; choose another in its Training settings.");
        }
        catch (Exception)
        {
            // Loading the agent failed (a database error): the credits reserved above go back and the Idempotency-Key's
            // record ends, instead of both waiting for the reservation to expire behind a bare 500 (ADR-153).
            await RefusedAsync(p, run, ProblemCodes.ServiceUnavailable, started, Release(p, reservation, runId));
            return Refuse(StatusCodes.Status503ServiceUnavailable, ProblemCodes.ServiceUnavailable,
                "The agent could not be loaded just now; nothing was charged. Retry shortly (with a new Idempotency-Key if you sent one).", retryAfter: TimeSpan.FromSeconds(1));
        }

        // Session memory is written with the run's record: the journal's one transaction instead of one per message.
        var memory = request.History is null ? new JournaledMessageStore(new DatabaseMessageStore(contexts, p.Organization, p.MemoryPartition, clock)) : null;
        var engineStarted = Stopwatch.GetTimestamp();
        RunResult result;
        try
        {
            result = await ExecuteAsync(agentPlan, agent, buyerKnowledge, retriever, p, request, runId, memory, onEvent, engineCanceled);
        }
        catch (Exception)
        {
            // Whatever broke (an unreadable bring-your-own key, a bug), the run is not left running with its credits reserved.
            await FinishAsync(p, run, AgentRunStatus.Failed, RunFailedCode, null, 0, started, counted: true, Release(p, reservation, runId));
            throw;
        }
        var engineTime = Stopwatch.GetElapsedTime(engineStarted);
        run.InputTokens = result.InputTokens;
        run.OutputTokens = result.OutputTokens;
        run.UsageSource = result.UsageSource;
        run.Model = result.Nodes.Select(n => n.Model).FirstOrDefault(m => m is not null);
        run.EngineMs = (int)engineTime.TotalMilliseconds;

        // A failed run keeps none of its messages as session memory (ADR-160): the user's turn without its answer, or
        // half an answer, would be read by the session's next run as a conversation that happened.
        if (result.Status != RunStatus.Succeeded)
        {
            await FinishAsync(p, run, AgentRunStatus.Failed, result.Error?.Code ?? RunFailedCode, null, 0, started, counted: true, Release(p, reservation, runId));
            return (null, FailureFor(result, runId));
        }
        if (AnsweredNothing(result))
        {
            await FinishAsync(p, run, AgentRunStatus.Failed, EmptyAnswer, null, 0, started, counted: true, Release(p, reservation, runId));
            var extensions = new Dictionary<string, object?> { ["run_id"] = runId };
            return (null, new GatewayFailure(StatusCodes.Status502BadGateway, EmptyAnswer, EmptyAnswerMessage, extensions) { RunId = runId });
        }

        var price = p.Terms.RunPrice(result.InputTokens + result.OutputTokens, options.Value.VariableCreditsPerThousandTokens);
        var actual = p.Payer switch
        {
            Payer.Nobody => 0,
            Payer.Promotions => Math.Min(price, options.Value.TrialMaxCreditsPerRun),
            _ => price,
        };
        var output = result.OutputText;
        var payment = await FinishAsync(p, run, AgentRunStatus.Succeeded, null, Truncate(output), actual, started, counted: true, Charge(p, reservation, runId, actual), memory);
        // The journal records a payment that did not go through as charging nothing.
        var charged = run.CreditsCharged;
        if (charged > 0 && p.Payer == Payer.Wallet && p.HasSpendControls)
        {
            await spend.AfterSpendAsync(p.Organization, CancellationToken.None);
        }
        var balance = payment is { Succeeded: true, Replayed: false } && reservation is not null ? payment.Available
            : p.Organization == Guid.Empty ? 0 : (await ledger.BalanceAsync(p.Organization, CancellationToken.None)).Available;
        return (new GatewayResult(runId, output, p.SessionId, p.Payer == Payer.Wallet ? charged : 0, balance, result, Replayed: false)
        {
            EngineTime = engineTime,
            UsageSource = run.UsageSource,
            PromotionCredits = p.Payer == Payer.Promotions ? charged : 0,
        }, null);
    }

    /// <summary>
    /// How a finished run pays: settle the wallet's reservation, or the promotions account pays a trial run. A provider
    /// running its own agent pays like any buyer but earns nothing from it (the settle names no provider, so the platform
    /// keeps it): otherwise granted credits spent on one's own agent would turn into payable earnings.
    /// </summary>
    LedgerCommand? Charge(Prepared p, Guid? reservation, Guid runId, long actual) =>
        reservation is { } reserved
            ? new SettleCommand($"run:{runId}:settle", p.Organization, reserved, actual, p.Organization == p.Listing.OrganizationId ? null : p.Listing.ProviderId,
                credits.Value.Split, $"{p.Listing.Name} run")
        : p.Payer == Payer.Promotions && actual > 0 ? new TrialCommand($"trial:{runId}", p.Listing.ProviderId, actual, credits.Value.Split, $"Trial run of {p.Listing.Name}", runId.ToString())
        : null;

    /// <summary>Returns a failed run's reservation to the wallet.</summary>
    static VoidCommand? Release(Prepared p, Guid? reservation, Guid runId) =>
        reservation is { } reserved ? new VoidCommand($"run:{runId}:void", p.Organization, reserved) : null;

    async Task<RunResult> ExecuteAsync(
        AgentPlan agentPlan, AgentSettings agent, Guid? buyerKnowledge, KnowledgeRetriever? retriever, Prepared p, GatewayRequest request, Guid runId,
        JournaledMessageStore? memory, Func<RunEvent, ValueTask>? onEvent, CancellationToken ct)
    {
        var tweaks = p.Config is { } config
            ? SubscriptionSettings.Tweaks(agent.Fields, SubscriptionSettings.Parse(config.SettingsJson), buyerKnowledge)
            : SubscriptionSettings.Tweaks(agent.Fields, new Dictionary<string, JsonElement>(), null);
        if (request.NodeInputs is { Count: > 0 } nodeInputs)
        {
            tweaks = NodeInputTweaks.Add(tweaks, agentPlan.Plan.Report, nodeInputs);
        }
        var services = new FlowServices
        {
            Models = new PlatformModelResolver(models, p.Config is null ? null : BuyerModel(p.Config, agent), llm.CurrentValue),
            Messages = memory ?? await ConversationTurn.MemoryAsync(request.History!, p.SessionId, clock, ct),
            Outbound = outbound.Guard,
            Knowledge = retriever,
            Documents = agentPlan.ReadsDocuments ? knowledge.DocumentsFor(retriever) : null, // only flows with File nodes need one
            Time = clock,
            Limits = Limits,
        };
        var runRequest = new RunRequest
        {
            InputValue = request.Input,
            InputType = request.InputType,
            OutputType = request.OutputType,
            OutputComponent = request.OutputComponent,
            Tweaks = tweaks,
            SessionId = p.SessionId,
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

    RunLimits Limits => RunLimits.Default with { WallTime = TimeSpan.FromSeconds(flows.Value.RunTimeoutSeconds) };

    ModelEndpoint? BuyerModel(CustomerAgentConfig config, AgentSettings agent)
    {
        // An endpoint of the buyer's own would receive the flow's prompts: not when the provider keeps them private. Its
        // key belongs to that endpoint, so neither is used; the agent's own model answers.
        if ((config.ModelApiKeyProtected is null && config.ModelBaseUrl is null) || (config.ModelBaseUrl is not null && !agent.BuyerModelEndpointsAllowed))
        {
            return null;
        }
        var apiKey = config.ModelApiKeyProtected is null ? null : protection.CreateProtector(SubscriptionService.ModelKeyPurpose).Unprotect(config.ModelApiKeyProtected);
        return new ModelEndpoint(Uri.TryCreate(config.ModelBaseUrl, UriKind.Absolute, out var url) ? url : null, apiKey, config.ModelName);
    }

    PricingTerms Terms(Listing listing, GatewayCache.ListingFacts facts, DateTime subscribedUtc) =>
        facts.SubscriberTerms(listing, subscribedUtc, clock.GetUtcNow().UtcDateTime);

    static string SessionOrNew(string? session) => session is { Length: > 0 and <= 200 } ? session : Guid.CreateVersion7().ToString("N");

    Task<Listing?> FindPublicListingAsync(string agent, Guid? organization, CancellationToken ct)
    {
        var listings = db.Listings.AsNoTracking()
            .Where(l => l.State == ListingState.Active && (l.Visibility == ListingVisibility.Public || l.OrganizationId == organization));
        var slug = agent.Trim().ToLowerInvariant(); // slugs are stored lower-case
        return Guid.TryParse(agent, out var id) ? listings.FirstOrDefaultAsync(l => l.Id == id, ct) : listings.WithSlug(db, slug).FirstOrDefaultAsync(ct);
    }

    /// <summary>
    /// Checks the session's credit cap and the key's budget against what is spent and what runs in flight hold
    /// (<see cref="SpendCapHolds"/>), and holds the run's maximum price against them until the returned hold is disposed.
    /// </summary>
    async Task<(GatewayFailure? Failure, IDisposable? Hold)> HoldCapsAsync(CustomerAgentConfig config, KeyGrant? key, string sessionId, long? sessionCap, long maxPrice, CancellationToken ct)
    {
        var budget = key?.BudgetCredits;
        if (maxPrice <= 0 || (sessionCap is null && budget is null))
        {
            return (null, null);
        }
        List<string> caps = [];
        if (sessionCap is not null)
        {
            caps.Add(SpendCapHolds.SessionCap(config.Id, sessionId));
        }
        if (budget is not null)
        {
            caps.Add(SpendCapHolds.KeyCap(key!.KeyId));
        }
        return await capHolds.HoldAsync(caps, maxPrice, async held =>
        {
            if (sessionCap is { } cap)
            {
                var spent = await db.ChatSessions.AsNoTracking().Where(s => s.ConfigId == config.Id && s.SessionId == sessionId).Select(s => s.CreditsSpent).FirstOrDefaultAsync(ct)
                    + held(SpendCapHolds.SessionCap(config.Id, sessionId));
                if (spent + maxPrice > cap)
                {
                    return new GatewayFailure(StatusCodes.Status402PaymentRequired, RunRefusals.SessionCreditCap,
                        $"This run needs up to {maxPrice:N0} credits, and this chat session has {Math.Max(cap - spent, 0):N0} of its {cap:N0}-credit limit left " +
                        "(runs still under way count); start a new session.",
                        new Dictionary<string, object?> { ["session_credit_cap"] = cap, ["spent"] = spent, ["required"] = maxPrice });
                }
            }
            if (budget is { } limit)
            {
                var spent = await db.ApiKeys.AsNoTracking().Where(k => k.Id == key!.KeyId).Select(k => k.SpentCredits).FirstAsync(ct)
                    + held(SpendCapHolds.KeyCap(key!.KeyId));
                if (spent + maxPrice > limit)
                {
                    return new GatewayFailure(StatusCodes.Status402PaymentRequired, RunRefusals.BudgetExceeded,
                        $"This run needs up to {maxPrice:N0} credits, and this key has {Math.Max(limit - spent, 0):N0} of its {limit:N0}-credit budget left " +
                        "(runs still under way count).",
                        new Dictionary<string, object?> { ["budget_credits"] = limit, ["spent"] = spent, ["required"] = maxPrice });
                }
            }
            return null;
        }, ct);
    }

    /// <summary>
    /// What a request with a key already claimed gets: the earlier run's answer, or why there is none. A key reused for
    /// another request (<paramref name="requestHash"/> differs) is refused whatever became of the earlier run, before
    /// anything is reserved (ADR-136); runs recorded before fingerprints existed have none and replay to any request.
    /// </summary>
    async Task<(GatewayResult?, GatewayFailure?)?> ReplayAsync(CustomerAgentConfig config, string idempotencyKey, string? requestHash, CancellationToken ct)
    {
        var earlier = await db.AgentRuns.AsNoTracking().FirstOrDefaultAsync(r => r.ConfigId == config.Id && r.IdempotencyKey == idempotencyKey, ct);
        if (earlier is null)
        {
            return null;
        }
        if (earlier.RequestHash is not null && earlier.RequestHash != requestHash)
        {
            var reused = $"This Idempotency-Key was used for another request (run {earlier.Id}): a different input or session. Use a new key for a new request.";
            var extensions = new Dictionary<string, object?> { ["run_id"] = earlier.Id };
            return (null, new GatewayFailure(StatusCodes.Status422UnprocessableEntity, ProblemCodes.IdempotencyKeyReused, reused, extensions) { RunId = earlier.Id });
        }
        if (earlier.Status == AgentRunStatus.Running)
        {
            if (!interrupted.Abandoned(earlier))
            {
                return Refuse(StatusCodes.Status409Conflict, "run_in_progress", "A run with this Idempotency-Key is in progress.");
            }
            if (!await interrupted.RecordAsync(earlier, ct))
            {
                return await ReplayAsync(config, idempotencyKey, requestHash, ct); // it finished after all, just now
            }
            earlier.Status = AgentRunStatus.Failed;
            earlier.ErrorCode = InterruptedRuns.Code;
        }
        if (earlier.Status == AgentRunStatus.Failed)
        {
            var message = $"The run with this Idempotency-Key failed ({earlier.ErrorCode}); use a new key to retry.";
            var extensions = new Dictionary<string, object?> { ["run_id"] = earlier.Id };
            return (null, new GatewayFailure(StatusCodes.Status409Conflict, ProblemCodes.IdempotencyConflict, message, extensions) { RunId = earlier.Id });
        }
        var balance = await ledger.BalanceAsync(config.OrganizationId, ct);
        return (new GatewayResult(earlier.Id, earlier.Output, earlier.SessionId, earlier.CreditsCharged, balance.Available, null, Replayed: true)
        {
            UsageSource = earlier.UsageSource,
        }, null);
    }

    /// <summary>
    /// Completes the run: its payment, record, session memory and bookkeeping go through the journal (one transaction
    /// with concurrent runs). Returns what the payment did.
    /// </summary>
    async Task<LedgerResult?> FinishAsync(Prepared p, AgentRun run, AgentRunStatus status, string? errorCode, string? output, long charged, long started, bool counted,
        LedgerCommand? payment = null, JournaledMessageStore? memory = null)
    {
        run.Status = status;
        run.ErrorCode = errorCode;
        run.Output = output;
        run.CreditsCharged = charged;
        run.LatencyMs = (int)Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        run.FinishedUtc = clock.GetUtcNow().UtcDateTime;
        var paid = await journal.RecordAsync(new JournalEntry(run, RecordExists: p.IdempotencyKey is not null, counted)
        {
            Payment = payment,
            Messages = memory?.Pending ?? [],
        }, CancellationToken.None);
        Admin.Metrics.PlatformMeters.RunFinished(p.Door, status == AgentRunStatus.Succeeded ? "succeeded" : "failed", run.CreditsCharged, Stopwatch.GetElapsedTime(started));
        return paid;
    }

    public const string EmptyAnswer = "empty_answer";

    /// <summary>The error code of a run that failed without a more specific one.</summary>
    const string RunFailedCode = "run_failed";

    const string EmptyAnswerMessage = "The agent gave no answer (the model returned nothing, or only a tool call this agent cannot make); nothing was charged.";

    /// <summary>
    /// A run whose returned values are all blank text: a chat answer with nothing in it is not worth paying for. A flow
    /// that returns data, or nothing at all (an automation run for its side effects), has answered.
    /// </summary>
    static bool AnsweredNothing(RunResult result)
    {
        var values = result.Outputs.SelectMany(output => output.Values).Select(value => value.Value).ToList();
        return values.Count > 0 && values.All(value => value switch
        {
            Flows.Values.Message message => string.IsNullOrWhiteSpace(message.Text),
            string text => string.IsNullOrWhiteSpace(text),
            null => true,
            _ => false,
        });
    }

    /// <summary>Records a run refused before the engine started (<see cref="RunRefusals"/>): charged nothing, and not counted.</summary>
    async Task RefusedAsync(Prepared p, AgentRun run, string code, long started, LedgerCommand? release = null) =>
        await FinishAsync(p, run, AgentRunStatus.Failed, code, null, 0, started, counted: false, release);

    string? Truncate(string? output) =>
        output is null || output.Length <= options.Value.StoredOutputLimit ? output : output[..options.Value.StoredOutputLimit];

    static GatewayFailure FailureFor(RunResult result, Guid runId)
    {
        var code = result.Error?.Code ?? RunFailedCode;
        var (status, message) = code switch
        {
            RunErrorCodes.ModelNotConfigured => (StatusCodes.Status422UnprocessableEntity, "No model is configured for this agent: the operator, the provider or you (bring your own key) must set one."),
            RunErrorCodes.ModelError => (StatusCodes.Status502BadGateway, "The model endpoint failed; nothing was charged."),
            RunErrorCodes.ModelRateLimited => (StatusCodes.Status503ServiceUnavailable, "The model endpoint is busy (it is rate limiting this platform); retry later. Nothing was charged."),
            RunErrorCodes.ModelTimeout => (StatusCodes.Status504GatewayTimeout, "The model endpoint did not answer in time; nothing was charged."),
            _ when result.Status == RunStatus.LimitExceeded => (StatusCodes.Status422UnprocessableEntity, result.Error?.Message ?? "The run reached a limit; nothing was charged."),
            _ when result.Status == RunStatus.Canceled => (499, "The run was canceled; nothing was charged."),
            _ => (StatusCodes.Status422UnprocessableEntity, result.Error?.Message ?? "The run failed; nothing was charged."),
        };
        return new GatewayFailure(status, code, message, new Dictionary<string, object?> { ["run_id"] = runId }, RetryAfter: result.Error?.RetryAfter) { RunId = runId };
    }

    static (GatewayResult?, GatewayFailure?) Refuse(int status, string code, string message, TimeSpan? retryAfter = null) =>
        (null, new GatewayFailure(status, code, message, RetryAfter: retryAfter));
}
