using AgentMarket.Credits.Ledger;
using AgentMarket.Platform.Data;
using AgentMarket.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace AgentMarket.Tests.Credits;

/// <summary>
/// The ledger's lookups by id stay lookups however long the batch's id list is. SQLite plans without statistics, so a
/// plan that reads a whole table for a long list does so from the first run on, and costs more with every run stored.
/// </summary>
public class LedgerQueryPlanTests(AgentMarketApp app) : IClassFixture<AgentMarketApp>
{
    [Theory]
    [InlineData(1)]
    [InlineData(40)]
    [InlineData(256)]
    public async Task ABatchsReservations_AreLookedUpByPrimaryKey_NotThroughTheIndexOfEveryReservation(int reservations)
    {
        var ids = string.Join(", ", Enumerable.Range(0, reservations).Select(_ => $"'{Guid.NewGuid()}'"));
        var idMatch = $"id IN ({ids})";
        var plan = await app.InScopeAsync(null, async services =>
        {
            var db = services.GetRequiredService<AppDbContext>();
            var connection = db.Database.GetDbConnection();
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = (TestDatabase.IsPostgres ? "EXPLAIN " : "EXPLAIN QUERY PLAN ") + LedgerWriter.ReservationsQuery(idMatch);
            var lines = new List<string>();
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                lines.Add(reader.GetString(reader.FieldCount - 1));
            }
            return string.Join("\n", lines);
        });

        Assert.DoesNotContain("ix_ledger_operations_kind_resolved_utc_expires_utc", plan, StringComparison.Ordinal);
        if (!TestDatabase.IsPostgres)
        {
            Assert.Contains("SEARCH ledger_operations USING INDEX sqlite_autoindex_ledger_operations_1 (id=?)", plan, StringComparison.Ordinal);
        }
    }
}
