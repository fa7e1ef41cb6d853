using System.Threading.Channels;
using AgentMarket.Gateway;
using AgentMarket.Identity;
using AgentMarket.Keys;
using AgentMarket.Platform.Data;
using AgentMarket.Platform.Tenancy;
using AgentMarket.Runtime;
using AgentMarket.Subscriptions;
using Microsoft.EntityFrameworkCore;

namespace AgentMarket.Doors.Langflow;

/// <summary>
/// A webhook call accepted with 202: who called (so the run is charged to them), the raw payload and the flow's Webhook
/// nodes it goes to.
/// </summary>
sealed record WebhookRun(Guid ConfigId, Guid OrganizationId, Guid? UserId, KeyGrant? Key, string Payload, IReadOnlyList<string> WebhookNodes);

/// <summary>One try at running a webhook call: the how-manieth, after how long spent waiting for retries.</summary>
sealed record WebhookAttempt(WebhookRun Run, int Number, TimeSpan Waited);

/// <summary>
/// Webhook calls waiting to run, in memory and bounded: Langflow runs webhooks as background tasks of the process that
/// accepted them, and so do we; when <see cref="Capacity"/> calls are held (waiting, waiting to retry or running), new
/// ones are refused with 503 rather than growing without limit. A retry is never refused: it was accepted already.
/// It hands the worker its calls fairly: <see cref="Slots"/> run at once and one organization's calls hold at most
/// <see cref="SlotsPerOrganization"/> of them, so a burst from one organization (or one whose runs are all refused and
/// retried) leaves room for everyone else's; a call waiting to retry holds no slot at all.
/// </summary>
sealed class WebhookQueue
{
    public const int Capacity = 1_000;
    public const int Slots = 4;
    public const int SlotsPerOrganization = 2;

    readonly Lock _gate = new();
    readonly List<WebhookAttempt> _ready = [];
    readonly PriorityQueue<WebhookAttempt, DateTimeOffset> _retries = new();
    readonly Dictionary<Guid, int> _running = [];
    int _runningCount;
    int _held;

    /// <summary>Holds one item whenever something changed since the worker last looked: a new call, a slot freed, a retry due.</summary>
    readonly Channel<bool> _changed = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

    public bool TryEnqueue(WebhookRun run)
    {
        lock (_gate)
        {
            if (_held >= Capacity)
            {
                return false;
            }
            _held++;
            _ready.Add(new WebhookAttempt(run, 1, TimeSpan.Zero));
        }
        _changed.Writer.TryWrite(true);
        return true;
    }

    /// <summary>
    /// The attempt to start now, taking a slot (give it back with <see cref="Finished"/> or <see cref="RetryAt"/>): the
    /// oldest ready one whose organization holds fewer than <see cref="SlotsPerOrganization"/> slots. Null when none may
    /// start, with when the next retry is due (null: none waits).
    /// </summary>
    public (WebhookAttempt? Next, DateTimeOffset? NextRetry) TryStart(DateTimeOffset now)
    {
        lock (_gate)
        {
            while (_retries.TryPeek(out var due, out var at) && at <= now)
            {
                _retries.Dequeue();
                _ready.Add(due);
            }
            var next = _runningCount >= Slots ? -1 : _ready.FindIndex(a => _running.GetValueOrDefault(a.Run.OrganizationId) < SlotsPerOrganization);
            if (next < 0)
            {
                return (null, _retries.TryPeek(out _, out var nextRetry) ? nextRetry : null);
            }
            var attempt = _ready[next];
            _ready.RemoveAt(next);
            _running[attempt.Run.OrganizationId] = _running.GetValueOrDefault(attempt.Run.OrganizationId) + 1;
            _runningCount++;
            return (attempt, null);
        }
    }

    /// <summary>The attempt ended its call (run, failed or recorded as refused): its slot and its place are free.</summary>
    public void Finished(WebhookAttempt attempt) => Leave(attempt, retry: null);

    /// <summary>The attempt was refused for now: its slot is free and <paramref name="retry"/> starts no earlier than <paramref name="at"/>.</summary>
    public void RetryAt(WebhookAttempt attempt, WebhookAttempt retry, DateTimeOffset at) => Leave(attempt, (retry, at));

    void Leave(WebhookAttempt attempt, (WebhookAttempt Attempt, DateTimeOffset At)? retry)
    {
        lock (_gate)
        {
            var organization = attempt.Run.OrganizationId;
            if (--_running[organization] == 0)
            {
                _running.Remove(organization);
            }
            _runningCount--;
            if (retry is { } later)
            {
                _retries.Enqueue(later.Attempt, later.At);
            }
            else
            {
                _held--;
            }
        }
        _changed.Writer.TryWrite(true);
    }

    /// <summary>Waits until something changed, or <paramref name="timeout"/> (the next retry's due time) passed.</summary>
    public async Task WaitForChangeAsync(TimeSpan? timeout, TimeProvider clock, CancellationToken ct)
    {
        using var timer = timeout is { } delay ? new CancellationTokenSource(delay < TimeSpan.Zero ? TimeSpan.Zero : delay, clock) : null;
        using var either = CancellationTokenSource.CreateLinkedTokenSource(ct, timer?.Token ?? CancellationToken.None);
        try
        {
            await _changed.Reader.WaitToReadAsync(either.Token);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return; // the retry is due
        }
        _changed.Reader.TryRead(out _);
    }
}

/// <summary>
/// Runs accepted webhook calls through the gateway, a few at a time (<see cref="WebhookQueue"/> decides which), each in a
/// scope acting for the caller's organization (and user or key), so it is authorised, limited, charged and recorded
/// exactly like a run from the API. As in Langflow, the payload goes to the flow's Webhook nodes and the run has an
/// empty chat input and a fresh session. The caller had its 202 already, so a refusal that says when to retry (429: the
/// plan's concurrent sessions, the key's rate) is retried after that delay, a few times within a minute, waiting in the
/// queue without holding a slot; one that stays refused is recorded as a refused run, which the buyer sees in usage.
/// </summary>
sealed class WebhookWorker(WebhookQueue queue, IServiceScopeFactory scopes, TimeProvider clock, ILogger<WebhookWorker> logger) : BackgroundService
{
    const int MaxAttempts = 5;
    static readonly TimeSpan MaxWaiting = TimeSpan.FromMinutes(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var running = new List<Task>();
        try
        {
            while (true)
            {
                var now = clock.GetUtcNow();
                var (next, nextRetry) = queue.TryStart(now);
                if (next is not null)
                {
                    running.RemoveAll(task => task.IsCompleted);
                    running.Add(Task.Run(() => AttemptAsync(next, stoppingToken), CancellationToken.None));
                    continue;
                }
                await queue.WaitForChangeAsync(nextRetry - now, clock, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: what waits is lost with the process, as in Langflow; what runs finishes its record below.
        }
        await Task.WhenAll(running);
    }

    async Task AttemptAsync(WebhookAttempt attempt, CancellationToken ct)
    {
        var run = attempt.Run;
        (WebhookAttempt Attempt, DateTimeOffset At)? retry = null;
        try
        {
            var request = new GatewayRequest(run.ConfigId, "", null, null, LangflowEndpoints.WebhookDoor)
            {
                Key = run.Key,
                NodeInputs = run.WebhookNodes.ToDictionary(node => node, _ => run.Payload, StringComparer.Ordinal),
            };
            await using var scope = scopes.CreateAsyncScope();
            var gateway = ActFor(run, scope.ServiceProvider);
            var (result, failure) = await gateway.RunAsync(request, null, ct);
            if (failure is { RunId: null, RetryAfter: { } wait } && attempt.Number < MaxAttempts && attempt.Waited + wait <= MaxWaiting)
            {
                retry = (attempt with { Number = attempt.Number + 1, Waited = attempt.Waited + wait }, clock.GetUtcNow() + wait);
                return;
            }
            if (failure is null)
            {
                logger.LogDebug("Webhook run {RunId} of {ConfigId} done", result!.RunId, run.ConfigId);
                return;
            }
            logger.LogWarning("Webhook run of {ConfigId} failed after {Attempts} attempt(s): {Status} {Code} (run {RunId})",
                run.ConfigId, attempt.Number, failure.Status, failure.Code, failure.RunId);
            await gateway.RecordRefusalAsync(request, failure, ct);
        }
        catch (Exception error) when (error is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            // One broken run must not stop the worker; the gateway has already voided any reservation it made.
            logger.LogError(error, "Webhook run of {ConfigId} threw", run.ConfigId);
        }
        catch (OperationCanceledException)
        {
            // Stopping: the gateway leaves no run half done.
        }
        finally
        {
            if (retry is { } later)
            {
                queue.RetryAt(attempt, later.Attempt, later.At);
            }
            else
            {
                queue.Finished(attempt);
            }
        }
    }

    /// <summary>The gateway of <paramref name="services"/>' scope, acting for the webhook's caller.</summary>
    static RunGateway ActFor(WebhookRun run, IServiceProvider services)
    {
        var tenant = services.GetRequiredService<CurrentTenant>();
        if (run.UserId is { } user)
        {
            tenant.SetUser(user, "");
        }
        tenant.Set(run.OrganizationId, MembershipRole.Member);
        return services.GetRequiredService<RunGateway>();
    }

    /// <summary>The Webhook nodes of the flow version the subscription runs (none when its flow cannot be read).</summary>
    public static async Task<IReadOnlyList<string>> WebhookNodesAsync(IServiceProvider services, CustomerAgentConfig config, CancellationToken ct)
    {
        var version = await services.GetRequiredService<AgentVersionPolicy>().EffectiveAsync(config, ct);
        var plan = await services.GetRequiredService<AgentPlans>().GetAsync(version);
        return plan is null ? [] : [.. plan.Plan.Report.Nodes.Where(n => n.RunsViaApi && n.Component == "Webhook").Select(n => n.Id)];
    }
}
