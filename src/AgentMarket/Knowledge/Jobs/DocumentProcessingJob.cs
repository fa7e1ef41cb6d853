using AgentMarket.Platform;
using AgentMarket.Platform.Tenancy;
using Microsoft.Extensions.Options;

namespace AgentMarket.Knowledge.Jobs;

/// <summary>
/// Processes queued training documents every <see cref="KnowledgeOptions.ProcessingIntervalSeconds"/>, in a fresh
/// system-scoped DI scope per tick. Safe with any number of instances: documents are claimed one by one with a
/// conditional update.
/// </summary>
sealed class DocumentProcessingJob(IServiceScopeFactory scopes, IOptions<KnowledgeOptions> options, TimeProvider clock, ILogger<DocumentProcessingJob> logger) : PeriodicJob
{
    /// <summary>Documents claimed per tick, so one tick ends in reasonable time and other instances get a share.</summary>
    const int BatchSize = 20;

    protected override TimeSpan Interval => TimeSpan.FromSeconds(options.Value.ProcessingIntervalSeconds);

    protected override TimeProvider Clock => clock;

    protected override string MetricName => "document_processing";

    protected override Task TickAsync(CancellationToken ct) => RunOnceAsync(ct);

    protected override void LogFailure(Exception exception) => logger.LogError(exception, "Processing training documents failed; retrying next tick");

    /// <summary>One tick: claims and processes up to a batch of due documents; returns how many it claimed.</summary>
    public async Task<int> RunOnceAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<CurrentTenant>().EnterSystemScope();
        return await scope.ServiceProvider.GetRequiredService<DocumentProcessor>().ProcessDueAsync(BatchSize, cancellationToken);
    }
}
