namespace AgentMarket.Platform.Seed;

static class SeedModule
{
    /// <summary>Registered after every area, so it starts after migrations and uses their services.</summary>
    public static void AddDemoData(this WebApplicationBuilder builder) => builder.Services.AddHostedService<DemoData>();
}
