using System.Net;
using System.Net.Http.Json;
using AgentMarket.Subscriptions;
using AgentMarket.Subscriptions.Jobs;
using AgentMarket.Tests.Credits;
using AgentMarket.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;

namespace AgentMarket.Tests.Gateway;

/// <summary>The gateway app whose next save of a new subscription can be made to fail, as a process stopping would.</summary>
public sealed class SubscribeCrashApp : GatewayApp
{
    public FailNextSubscriptionSave Crash { get; } = new();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureTestServices(services => services.AddSingleton<IInterceptor>(Crash));
    }
}

/// <summary>Once armed, throws instead of saving the next new subscription.</summary>
public sealed class FailNextSubscriptionSave : SaveChangesInterceptor
{
    int _armed;

    public void Arm() => Volatile.Write(ref _armed, 1);

    public override ValueTask<InterceptionResult<int>> SavingChangesAsync(DbContextEventData eventData, InterceptionResult<int> result, CancellationToken cancellationToken = default)
    {
        if (eventData.Context!.ChangeTracker.Entries<CustomerAgentConfig>().Any(e => e.State == EntityState.Added) && Interlocked.Exchange(ref _armed, 0) == 1)
        {
            throw new InvalidOperationException("The process stopped before the subscription was stored.");
        }
        return base.SavingChangesAsync(eventData, result, cancellationToken);
    }
}

public class SubscriptionCrashTests(SubscribeCrashApp app) : IClassFixture<SubscribeCrashApp>
{
    [Fact]
    public async Task AMonthAlreadyPaid_SurvivesASubscribeThatStopsBeforeItsSave()
    {
        var agent = await app.PromptAgentAsync(new { model = "subscription", credits_per_run = 100 });
        var buyer = await app.SignUpAsync();
        var first = await buyer.SubscribeAsync(agent);
        await Http.AssertStatusAsync(await buyer.Client.DeleteAsync($"/api/customer-agent-configs/{first}/"), HttpStatusCode.NoContent);
        Assert.Equal(250, (await buyer.BalanceAsync()).GetProperty("balance").GetInt64());

        app.Crash.Arm();
        var stopped = await buyer.Client.PostAsJsonAsync("/api/marketplace-orders/", new { offering = agent.Slug });
        Assert.Equal(HttpStatusCode.InternalServerError, stopped.StatusCode);

        // Adding the agent again still continues the month the first subscription paid.
        await buyer.SubscribeAsync(agent);
        Assert.Equal(250, (await buyer.BalanceAsync()).GetProperty("balance").GetInt64());
        var jobs = app.Services.GetRequiredService<SubscriptionCharges>();
        app.Clock.Advance(TimeSpan.FromDays(31));
        await jobs.RunOnceAsync(CancellationToken.None);
        var token = app.BearerClient(await buyer.CreateTokenAsync());
        // 250 − 100 for the next month + 50 daily credits of the new day.
        Assert.Equal(200, (await Http.ReadJsonAsync(await token.GetAsync("/api/credits/balance/"))).GetProperty("balance").GetInt64());
        Assert.True((await new LedgerDriver(app).CheckAsync()).Ok);
    }
}
