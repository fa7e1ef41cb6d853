using AgentMarket.Gateway;
using AgentMarket.Platform.Data;
using AgentMarket.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace AgentMarket.Tests.Platform;

/// <summary>Rows written by the journal's batch inserts are stored exactly as EF Core stores the rows it saves itself.</summary>
public class RowInsertsTests(AgentMarketApp app) : IClassFixture<AgentMarketApp>
{
    [Fact]
    public async Task MultiRowInsert_StoresEveryColumnAsSaveChangesDoes_EnumsNullsDatesAndGuidsIncluded()
    {
        var started = new DateTime(2026, 3, 4, 5, 6, 7, 891, DateTimeKind.Utc).AddTicks(2340);
        var (organization, listing, user) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());
        AgentRun Run(int n, Guid config) => new()
        {
            OrganizationId = organization, ConfigId = n % 2 == 0 ? config : null, ListingId = listing, AgentVersionId = user, ProviderId = user, KeyId = null,
            UserId = user, SessionId = $"session {n}", IdempotencyKey = n % 3 == 0 ? null : $"key-{n}", Door = "openai",
            Status = n % 2 == 0 ? AgentRunStatus.Failed : AgentRunStatus.Succeeded, ErrorCode = n % 2 == 0 ? "model_error" : null,
            Output = $"ünïcödé output {n} with 'quotes' and {{braces}}", InputTokens = 1_000_000_000_000 + n, OutputTokens = n, Model = "gpt-test",
            CreditsReserved = 9, CreditsCharged = n, EngineMs = n, LatencyMs = 2 * n, StartedUtc = started, FinishedUtc = n % 2 == 0 ? null : started.AddSeconds(n),
            Day = DateOnly.FromDateTime(started),
        };
        // The same runs twice, in two subscriptions so their Idempotency-Keys do not collide.
        var inserted = Enumerable.Range(0, 4).Select(n => Run(n, Guid.NewGuid())).ToList();
        var saved = Enumerable.Range(0, 4).Select(n => Run(n, Guid.NewGuid())).ToList();

        await app.InScopeAsync(null, async services =>
        {
            var db = services.GetRequiredService<AppDbContext>();
            await db.Database.OpenConnectionAsync();
            await db.InsertRowsAsync(inserted, default);
            db.AgentRuns.AddRange(saved);
            await db.SaveChangesAsync();

            var read = await db.AgentRuns.AsNoTracking().Where(r => r.OrganizationId == organization).ToDictionaryAsync(r => r.Id);
            for (var n = 0; n < inserted.Count; n++)
            {
                Assert.Equivalent(inserted[n], read[inserted[n].Id], strict: true);
                var (mine, efs) = (await StoredAsync(db, inserted[n].Id), await StoredAsync(db, saved[n].Id));
                Assert.Equal(efs.Where(c => c.Key is not ("id" or "config_id")), mine.Where(c => c.Key is not ("id" or "config_id")));
            }
            return true;
        });
    }

    [Fact]
    public async Task MoreRowsThanOneStatementTakes_AreAllStored()
    {
        // 3,000 runs of 23 columns: more values than one PostgreSQL statement takes as parameters (65,535), which go there
        // as one statement of 23 arrays, and in 3,000 executions of one prepared statement on SQLite.
        var organization = Guid.NewGuid();
        var started = new DateTime(2026, 5, 6, 7, 8, 9, DateTimeKind.Utc);
        var runs = Enumerable.Range(0, 3_000).Select(n => new AgentRun
        {
            OrganizationId = organization, ListingId = Guid.NewGuid(), SessionId = $"s{n}", Door = "api", Status = AgentRunStatus.Succeeded,
            CreditsCharged = n, StartedUtc = started.AddSeconds(n), Day = DateOnly.FromDateTime(started),
        }).ToList();

        await app.InScopeAsync(null, async services =>
        {
            var db = services.GetRequiredService<AppDbContext>();
            await db.InsertRowsAsync(runs, default);
            var stored = await db.AgentRuns.AsNoTracking().Where(r => r.OrganizationId == organization).ToDictionaryAsync(r => r.Id, r => r.CreditsCharged);
            Assert.Equal(runs.ToDictionary(r => r.Id, r => r.CreditsCharged), stored);
            return true;
        });
    }

    /// <summary>Every column of the row as the database stores it (text on SQLite).</summary>
    static async Task<Dictionary<string, object>> StoredAsync(AppDbContext db, Guid id)
    {
        var connection = db.Database.GetDbConnection();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT * FROM agent_runs WHERE id = " + (TestDatabase.IsPostgres ? $"'{id}'" : $"'{id.ToString().ToUpperInvariant()}'");
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync(), "the row is stored under its id as EF Core writes it");
        return Enumerable.Range(0, reader.FieldCount).ToDictionary(reader.GetName, reader.GetValue);
    }
}
