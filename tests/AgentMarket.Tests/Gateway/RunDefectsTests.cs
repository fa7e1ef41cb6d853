using System.Data.Common;
using System.Net;
using AgentMarket.Gateway;
using AgentMarket.Tests.Credits;
using AgentMarket.Tests.Doors;
using AgentMarket.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;

namespace AgentMarket.Tests.Gateway;

/// <summary>The gateway app whose next read of a version's flow (what compiling a plan reads) can be made to fail once.</summary>
public sealed class FlakyCompileApp : GatewayApp
{
    public FailNextFlowRead FlowReads { get; } = new();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureTestServices(services => services.AddSingleton<IInterceptor>(FlowReads));
    }
}

/// <summary>Once armed, fails the next query that reads an agent version's flow, as a database blip would.</summary>
public sealed class FailNextFlowRead : DbCommandInterceptor
{
    int _armed;

    public void Arm() => Volatile.Write(ref _armed, 1);

    public override ValueTask<InterceptionResult<DbDataReader>> ReaderExecutingAsync(DbCommand command, CommandEventData eventData, InterceptionResult<DbDataReader> result, CancellationToken cancellationToken = default)
    {
        if (command.CommandText.Contains("flow_json", StringComparison.Ordinal) && Interlocked.Exchange(ref _armed, 0) == 1)
        {
            throw new InvalidOperationException("The database went away while reading the flow.");
        }
        return base.ReaderExecutingAsync(command, eventData, result, cancellationToken);
    }
}

/// <summary>Runs whose agent cannot be loaded for a moment (ADR-153).</summary>
public class AgentLoadFailureTests(FlakyCompileApp app) : IClassFixture<FlakyCompileApp>
{
    [Fact]
    public async Task ACompileThatFailsOnce_ReleasesTheReservation_EndsTheKeysRun_AndTheNextRunCompilesAgain()
    {
        var subscribed = await app.SubscribedAsync();
        var before = await subscribed.Buyer.BalanceAsync();
        var key = Guid.NewGuid().ToString();

        app.FlowReads.Arm();
        var failed = await Http.AssertProblemAsync(await subscribed.KeyClient.RunAsync(subscribed.Config, "hello", idempotencyKey: key),
            HttpStatusCode.ServiceUnavailable, "service_unavailable");
        Assert.Contains("nothing was charged", failed.GetProperty("detail").GetString(), StringComparison.Ordinal);

        // Nothing stays reserved, and the key's record is finished: a retry with it is told the run failed, not that it is in progress.
        var after = await subscribed.Buyer.BalanceAsync();
        Assert.Equal((before.GetProperty("balance").GetInt64(), before.GetProperty("reserved").GetInt64()),
            (after.GetProperty("balance").GetInt64(), after.GetProperty("reserved").GetInt64()));
        var run = Assert.Single(await app.RunsAsync(subscribed.Buyer.OrganizationId, subscribed.Config));
        Assert.Equal((AgentRunStatus.Failed, "service_unavailable"), (run.Status, run.ErrorCode));
        await Http.AssertProblemAsync(await subscribed.KeyClient.RunAsync(subscribed.Config, "hello", idempotencyKey: key), HttpStatusCode.Conflict, "idempotency_conflict");

        // The failure was not remembered: the version compiles on the next run.
        var answered = await Http.ReadJsonAsync(await subscribed.KeyClient.RunAsync(subscribed.Config, "hello", idempotencyKey: Guid.NewGuid().ToString()));
        Assert.False(string.IsNullOrEmpty(answered.GetProperty("output").GetString()));
        Assert.True(answered.GetProperty("credits_charged").GetInt64() > 0);
    }
}
