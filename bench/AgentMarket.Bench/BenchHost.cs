using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace AgentMarket.Bench;

/// <summary>The marketplace on the in-memory test host, as the run-path suites measure it: no demo data, limits out of the way.</summary>
static class BenchHost
{
    /// <summary>Settings every run-path suite needs: its own database, no seed, rate limits that never bind, quiet logs.</summary>
    public static Dictionary<string, string?> Settings(BenchDatabase database) => database.Apply(new()
    {
        ["Seed:Demo"] = "false",
        ["Identity:AuthRequestsPerMinute"] = "100000",
        ["Keys:DefaultRateLimitPerMinute"] = "1000000",
        ["Logging:LogLevel:Default"] = "Warning",
    });

    // WebApplicationFactory finds the host's entry point through any public type of its assembly (this bench has its
    // own Program, so the host's cannot be named here).
    public static WebApplicationFactory<AgentMarket.Platform.Data.AppDbContext> Start(IReadOnlyDictionary<string, string?> settings) =>
        new WebApplicationFactory<AgentMarket.Platform.Data.AppDbContext>().WithWebHostBuilder(b =>
        {
            b.UseEnvironment("Production");
            foreach (var (key, value) in settings)
            {
                b.UseSetting(key, value);
            }
        });
}
