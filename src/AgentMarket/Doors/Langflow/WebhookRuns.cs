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

/// <summary>
/// Webhook calls waiting to run, in memory and bounded: Langflow runs webhooks as background tasks of the process that
/// accepted them, and so do we; a full queue refuses new calls with 503 rather than growing without limit.
/// </summary>
sealed class WebhookQueue
{
    public const int Capacity = 1_000;

    readonly Channel<WebhookRun> _runs = Channel.CreateBounded<WebhookRun>(new BoundedChannelOptions(Capacity) { FullMode = BoundedChannelFullMode.Wait });

    public bool TryEnqueue(WebhookRun run) => _runs.Writer.TryWrite(run);

    public IAsyncEnumerable<WebhookRun> ReadAllAsync(CancellationToken ct) => _runs.Reader.ReadAllAsync(ct);
}

/// <summary>
/// Runs accepted webhook calls through the gateway, a few at a time, each in a scope acting for the caller's
/// organization (and user or key), so it is authorised, limited, charged and recorded exactly like a run from the API.
/// As in Langflow, the payload goes to the flow's Webhook nodes and the run has an empty chat input and a fresh session.
/// The caller had its 202 already, so a refusal that says when to retry (429: the plan's concurrent sessions, the key's
/// rate) is retried after that delay, a few times within a minute; one that stays refused is recorded as a refused run,
/// which the buyer sees in usage.
/// </summary>
sealed class WebhookWorker(WebhookQueue queue, IServiceScopeFactory scopes, ILogger<WebhookWorker> logger) : BackgroundService
{
    const int Concurrency = 4;
    const int MaxAttempts = 5;
    static readonly TimeSpan MaxWaiting = TimeSpan.FromMinutes(1);

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Parallel.ForEachAsync(queue.ReadAllAsync(stoppingToken), new ParallelOptions { MaxDegreeOfParallelism = Concurrency, CancellationToken = stoppingToken }, RunAsync);

    async ValueTask RunAsync(WebhookRun run, CancellationToken ct)
    {
        try
        {
            var request = new GatewayRequest(run.ConfigId, "", null, null, LangflowEndpoints.WebhookDoor)
            {
                Key = run.Key,
                NodeInputs = run.WebhookNodes.ToDictionary(node => node, _ => run.Payload, StringComparer.Ordinal),
            };
            var waited = TimeSpan.Zero;
            for (var attempt = 1; ; attempt++)
            {
                await using var scope = scopes.CreateAsyncScope();
                var gateway = ActFor(run, scope.ServiceProvider);
                var (result, failure) = await gateway.RunAsync(request, null, ct);
                if (failure is { RunId: null, RetryAfter: { } wait } && attempt < MaxAttempts && waited + wait <= MaxWaiting)
                {
                    waited += wait;
                    await Task.Delay(wait, ct);
                    continue;
                }
                if (failure is null)
                {
                    logger.LogDebug("Webhook run {RunId} of {ConfigId} done", result!.RunId, run.ConfigId);
                    return;
                }
                logger.LogWarning("Webhook run of {ConfigId} failed after {Attempts} attempt(s): {Status} {Code} (run {RunId})",
                    run.ConfigId, attempt, failure.Status, failure.Code, failure.RunId);
                await gateway.RecordRefusalAsync(request, failure, ct);
                return;
            }
        }
        catch (Exception error) when (error is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            // One broken run must not stop the worker; the gateway has already voided any reservation it made.
            logger.LogError(error, "Webhook run of {ConfigId} threw", run.ConfigId);
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
