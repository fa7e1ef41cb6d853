using AgentMarket.Platform.Tenancy;
using Microsoft.Extensions.Options;

namespace AgentMarket.Knowledge.Jobs;

/// <summary>
/// Processes queued training documents every <see cref="KnowledgeOptions.ProcessingIntervalSeconds"/>, in a fresh
/// system-scoped DI scope per tick. Safe with any number of instances: documents are claimed one by one with a
/// conditional update.
/// </summary>
sealed class DocumentProcessingJob(IServiceScopeFactory scopes, IOptions<KnowledgeOptions> options, TimeProvider clock, ILogger<DocumentProcessingJob> logger) : BackgroundService
{
    /// <summary>Documents claimed per tick, so one tick ends in reasonable time and other instances get a share.</summary>
    const int BatchSize = 20;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(options.Value.ProcessingIntervalSeconds), clock);
        do
        {
            try
            {
                await RunOnceAsync(stoppingToken);
                Admin.Metrics.PlatformMeters.JobRan("document_processing", succeeded: true);
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                Admin.Metrics.PlatformMeters.JobRan("document_processing", succeeded: false);
                logger.LogError(exception, "Processing training documents failed; retrying next tick");
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    /// <summary>One tick: claims and processes up to a batch of due documents; returns how many it claimed.</summary>
    public async Task<int> RunOnceAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<CurrentTenant>().EnterSystemScope();
        return await scope.ServiceProvider.GetRequiredService<DocumentProcessor>().ProcessDueAsync(BatchSize, cancellationToken);
    }
}
