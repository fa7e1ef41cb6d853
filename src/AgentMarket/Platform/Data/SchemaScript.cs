using AgentMarket.Platform.Tenancy;
using Microsoft.EntityFrameworkCore;

namespace AgentMarket.Platform.Data;

/// <summary>
/// <c>dotnet run --project src/AgentMarket -- db script sqlite|postgres</c> prints the schema the EF model implies, the
/// starting point for a new migration script (diff it against the scripts in Migrations/). Touches no database.
/// </summary>
static class SchemaScript
{
    public static int Print(string[] args)
    {
        var options = new DbContextOptionsBuilder<AppDbContext>();
        switch (args.FirstOrDefault()?.ToLowerInvariant())
        {
            case "sqlite":
                options.UseSqlite("Data Source=:memory:");
                break;
            case "postgres":
                options.UseNpgsql("Host=localhost");
                break;
            default:
                Console.Error.WriteLine("usage: db script sqlite|postgres");
                return 2;
        }
        using var db = new AppDbContext(options.Options, new CurrentTenant());
        Console.WriteLine(db.Database.GenerateCreateScript());
        return 0;
    }
}
