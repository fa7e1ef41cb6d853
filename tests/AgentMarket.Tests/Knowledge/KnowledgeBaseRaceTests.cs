using System.Data.Common;
using System.Net;
using System.Net.Http.Json;
using AgentMarket.Tests.Catalog;
using AgentMarket.Tests.Gateway;
using AgentMarket.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;

namespace AgentMarket.Tests.Knowledge;

/// <summary>The gateway app whose database commands can be held at a chosen point, to play a race in a set order.</summary>
public sealed class KnowledgeRaceApp : GatewayApp
{
    public CommandGate Gate { get; } = new();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureTestServices(services => services.AddSingleton<IInterceptor>(Gate));
    }
}

/// <summary>
/// Once armed, stops at the first command whose SQL matches and that carries a given id as a parameter: holds it
/// before it runs until released, or only reports that it ran.
/// </summary>
public sealed class CommandGate : DbCommandInterceptor
{
    Armed? _armed;

    public sealed class Armed(Func<string, bool> sql, Guid id, bool hold)
    {
        readonly TaskCompletionSource _reached = new(TaskCreationOptions.RunContinuationsAsynchronously);
        readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);

        internal Func<string, bool> Sql => sql;
        internal Guid Id => id;
        internal bool Hold => hold;
        internal Task Released => _released.Task;
        internal void Reach() => _reached.TrySetResult();

        /// <summary>Completes when the command is reached (held), or has run (observed).</summary>
        public Task Reached => _reached.Task.WaitAsync(TimeSpan.FromSeconds(30));

        public void Release() => _released.TrySetResult();
    }

    /// <summary>Holds the next matching command until <see cref="Armed.Release"/>.</summary>
    public Armed HoldBefore(Func<string, bool> sql, Guid id) => Arm(new Armed(sql, id, hold: true));

    /// <summary>Reports the next matching command once it has run.</summary>
    public Armed ObserveAfter(Func<string, bool> sql, Guid id) => Arm(new Armed(sql, id, hold: false));

    Armed Arm(Armed armed)
    {
        Volatile.Write(ref _armed, armed);
        return armed;
    }

    Armed? Take(DbCommand command, bool before)
    {
        var armed = Volatile.Read(ref _armed);
        if (armed is null || armed.Hold != before || !armed.Sql(command.CommandText) || !command.Parameters.Cast<DbParameter>().Any(p => Carries(p.Value, armed.Id)))
        {
            return null;
        }
        return Interlocked.CompareExchange(ref _armed, null, armed) == armed ? armed : null;
    }

    static bool Carries(object? value, Guid id) => value switch
    {
        Guid guid => guid == id,
        string text => Guid.TryParse(text, out var guid) && guid == id,
        _ => false,
    };

    async Task BeforeAsync(DbCommand command)
    {
        if (Take(command, before: true) is { } armed)
        {
            armed.Reach();
            await armed.Released;
        }
    }

    void After(DbCommand command) => Take(command, before: false)?.Reach();

    public override async ValueTask<InterceptionResult<DbDataReader>> ReaderExecutingAsync(DbCommand command, CommandEventData eventData, InterceptionResult<DbDataReader> result, CancellationToken cancellationToken = default)
    {
        await BeforeAsync(command);
        return result;
    }

    public override async ValueTask<InterceptionResult<int>> NonQueryExecutingAsync(DbCommand command, CommandEventData eventData, InterceptionResult<int> result, CancellationToken cancellationToken = default)
    {
        await BeforeAsync(command);
        return result;
    }

    public override async ValueTask<InterceptionResult<object>> ScalarExecutingAsync(DbCommand command, CommandEventData eventData, InterceptionResult<object> result, CancellationToken cancellationToken = default)
    {
        await BeforeAsync(command);
        return result;
    }

    public override ValueTask<DbDataReader> ReaderExecutedAsync(DbCommand command, CommandExecutedEventData eventData, DbDataReader result, CancellationToken cancellationToken = default)
    {
        After(command);
        return ValueTask.FromResult(result);
    }

    public override ValueTask<object?> ScalarExecutedAsync(DbCommand command, CommandExecutedEventData eventData, object? result, CancellationToken cancellationToken = default)
    {
        After(command);
        return ValueTask.FromResult(result);
    }
}

/// <summary>
/// Deleting a knowledge base against pointing an agent at it (a buyer's subscription or a seller's agent): whichever
/// holds the base first wins, the other is refused, and never does an agent end up pointing at a deleted base or
/// silently lose its base (ADR-146, ADR-150).
/// </summary>
public class KnowledgeBaseRaceTests(KnowledgeRaceApp app) : IClassFixture<KnowledgeRaceApp>
{
    /// <summary>How long a request that should be waiting on a lock is given to finish if it is not.</summary>
    static readonly TimeSpan NotWaiting = TimeSpan.FromMilliseconds(500);

    static bool Updates(string sql, string table) => sql.Contains("UPDATE", StringComparison.OrdinalIgnoreCase) && sql.Contains(table, StringComparison.Ordinal);

    static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ADelete_WaitsForASubscriptionBeingPointedAtTheBase_ThenIsRefused()
    {
        var subscribed = await app.SubscribedAsync();
        var client = subscribed.Buyer.Client;
        var knowledgeBase = await subscribed.Buyer.CreateKnowledgeBaseAsync("Next answers");

        // The PATCH holds the base and stops just before saving the subscription.
        var saving = app.Gate.HoldBefore(sql => Updates(sql, "customer_agent_configs"), knowledgeBase);
        var patch = client.PatchAsJsonAsync($"/api/customer-agent-configs/{subscribed.Config}/", new { knowledge_base = knowledgeBase }, Ct);
        await saving.Reached;

        var delete = client.DeleteAsync($"/api/knowledge-bases/{knowledgeBase}", Ct);
        await Task.WhenAny(delete, Task.Delay(NotWaiting, Ct));
        Assert.False(delete.IsCompleted, "The delete did not wait for the PATCH holding the base.");
        saving.Release();

        await Http.AssertStatusAsync(await patch, HttpStatusCode.OK);
        await Http.AssertProblemAsync(await delete, HttpStatusCode.Conflict, "knowledge_base_in_use");
        var config = await Http.ReadJsonAsync(await client.GetAsync($"/api/customer-agent-configs/{subscribed.Config}", Ct));
        Assert.Equal(knowledgeBase, config.GetProperty("knowledge_base").GetGuid());
        await Http.AssertStatusAsync(await client.GetAsync($"/api/knowledge-bases/{knowledgeBase}", Ct), HttpStatusCode.OK);
    }

    [Fact]
    public async Task ADelete_WaitsForAProviderAgentBeingPointedAtTheBase_ThenIsRefused()
    {
        var (seller, _) = await app.SellerAsync();
        var agent = await seller.CreateAgentAsync();
        var knowledgeBase = await seller.CreateKnowledgeBaseAsync("Product answers");

        var saving = app.Gate.HoldBefore(sql => Updates(sql, "provider_agents"), knowledgeBase);
        var patch = seller.Client.PatchAsJsonAsync($"/api/provider-agents/{agent}/", new { knowledge_base = knowledgeBase.ToString() }, Ct);
        await saving.Reached;

        var delete = seller.Client.DeleteAsync($"/api/knowledge-bases/{knowledgeBase}", Ct);
        await Task.WhenAny(delete, Task.Delay(NotWaiting, Ct));
        Assert.False(delete.IsCompleted, "The delete did not wait for the agent's PATCH holding the base.");
        saving.Release();

        await Http.AssertStatusAsync(await patch, HttpStatusCode.OK);
        var refused = await Http.AssertProblemAsync(await delete, HttpStatusCode.Conflict, "knowledge_base_in_use");
        Assert.Single(refused.GetProperty("used_by").EnumerateArray());
        var pointed = await Http.ReadJsonAsync(await seller.Client.GetAsync($"/api/provider-agents/{agent}/", Ct));
        Assert.Equal(knowledgeBase, pointed.GetProperty("knowledge_base").GetGuid());
        await Http.AssertStatusAsync(await seller.Client.GetAsync($"/api/knowledge-bases/{knowledgeBase}", Ct), HttpStatusCode.OK);
    }

    [Fact]
    public async Task AProviderAgentPointedAtABaseBeingDeleted_WaitsForTheDelete_ThenIsRefused()
    {
        var (seller, _) = await app.SellerAsync();
        var agent = await seller.CreateAgentAsync();
        var knowledgeBase = await seller.CreateKnowledgeBaseAsync("Old answers");

        // The delete holds the base, has found no agent using it, and stops just before deleting it.
        var deleting = app.Gate.HoldBefore(sql => sql.Contains("DELETE", StringComparison.OrdinalIgnoreCase) && sql.Contains("knowledge_bases", StringComparison.Ordinal), knowledgeBase);
        var delete = seller.Client.DeleteAsync($"/api/knowledge-bases/{knowledgeBase}", Ct);
        await deleting.Reached;

        // Without the lock, the PATCH would read the base as still there, then save a pointer to it after it is gone.
        var reading = app.Gate.ObserveAfter(sql => sql.Contains("knowledge_bases", StringComparison.Ordinal), knowledgeBase);
        var patch = seller.Client.PatchAsJsonAsync($"/api/provider-agents/{agent}/", new { knowledge_base = knowledgeBase.ToString() }, Ct);
        await Task.WhenAny(reading.Reached, patch, Task.Delay(NotWaiting, Ct));
        Assert.False(patch.IsCompleted, "The PATCH did not wait for the delete holding the base.");
        deleting.Release();

        await Http.AssertStatusAsync(await delete, HttpStatusCode.NoContent);
        await Http.AssertProblemAsync(await patch, HttpStatusCode.BadRequest, "validation_failed");
        var kept = await Http.ReadJsonAsync(await seller.Client.GetAsync($"/api/provider-agents/{agent}/", Ct));
        Assert.Equal(System.Text.Json.JsonValueKind.Null, kept.GetProperty("knowledge_base").ValueKind);
    }
}
