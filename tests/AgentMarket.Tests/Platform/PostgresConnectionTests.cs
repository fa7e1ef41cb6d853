using AgentMarket.Platform.Data;
using Npgsql;

namespace AgentMarket.Tests.Platform;

/// <summary>The PostgreSQL connection string the process uses: repeated statements are prepared unless the operator says otherwise.</summary>
public class PostgresConnectionTests
{
    [Theory]
    [InlineData("Host=db;Database=agentmarket", 256)]
    [InlineData("Host=db;Database=agentmarket;Max Auto Prepare=0", 0)]
    [InlineData("Host=db;Database=agentmarket;maxautoprepare=10", 10)]
    public void AutoPrepare_IsOnUnlessTheConnectionStringSetsIt(string configured, int expected) =>
        Assert.Equal(expected, new NpgsqlConnectionStringBuilder(DatabaseConnection.WithAutoPrepare(configured)).MaxAutoPrepare);
}
