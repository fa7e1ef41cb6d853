using System.Data.Common;
using AgentMarket.Platform.Data;
using AgentMarket.Platform.Mail;
using AgentMarket.Platform.Tenancy;
using AgentMarket.Tests.Infrastructure;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace AgentMarket.Tests.Platform;

/// <summary>
/// The SQL scripts are the schema's source of truth (EF's migration tooling cannot be installed here), so this proves
/// they build exactly the schema the EF model expects: tables, columns, types, nullability, keys, indexes and foreign
/// keys, on whichever provider the suite runs on (test.sh runs it on both).
/// </summary>
public class SchemaScriptsTests(AgentMarketApp app) : IClassFixture<AgentMarketApp>
{
    [Fact]
    public async Task SchemaBuiltByScripts_EqualsSchemaOfTheModel()
    {
        // The fixture's database was built by the app's start-up migration runner from the scripts.
        var fromScripts = (await DescribeAsync(app.Database)).Where(line => !NotInModel.Any(prefix => line.StartsWith(prefix, StringComparison.Ordinal))).ToList();

        await using var modelDatabase = TestDatabase.Create();
        var options = new DbContextOptionsBuilder<AppDbContext>();
        if (modelDatabase.Provider == "Postgres")
        {
            options.UseNpgsql(modelDatabase.ConnectionString);
        }
        else
        {
            options.UseSqlite(modelDatabase.ConnectionString);
        }
        await using (var db = new AppDbContext(options.Options, new CurrentTenant()))
        {
            await db.Database.EnsureCreatedAsync();
        }
        var fromModel = await DescribeAsync(modelDatabase);

        Assert.Equal(fromModel.Except(fromScripts).ToList(), []);
        Assert.Equal(fromScripts.Except(fromModel).ToList(), []);
        Assert.Contains(fromScripts, line => line.StartsWith("column users.email", StringComparison.Ordinal));
    }

    /// <summary>
    /// Objects the scripts create that the EF model does not know, by the prefix of their description line: the
    /// full-text search structures of 0003_catalog, 0005_knowledge and 0007_catalog_search, kept in sync by triggers or
    /// generated columns.
    /// </summary>
    static readonly string[] NotInModel =
    [
        // SQLite: the FTS5 table, its shadow tables (listing_search_data, _idx, ...) and listing_search_rows with its indexes.
        "table listing_search", "column listing_search", "index listing_search", "fk listing_search",
        // PostgreSQL: the tsvector columns, their GIN indexes and the partial indexes of the sort orders.
        "column listings.search_", "index listings CREATE INDEX ix_listings_search_",
        // Knowledge chunks: the SQLite FTS5 table and its shadow tables (knowledge_chunks_fts_data, _idx, ...).
        "table knowledge_chunks_fts", "column knowledge_chunks_fts",
        // ... and the PostgreSQL tsvector column with its GIN index.
        "column knowledge_chunks.search_vector ", "index knowledge_chunks CREATE INDEX ix_knowledge_chunks_search_vector ",
    ];

    [Fact]
    public void EveryNameOfTheModel_FitsPostgresIdentifiers()
    {
        // PostgreSQL cuts identifiers at 63 bytes without an error: the database would then know an index or constraint by
        // another name than the model, and a violation naming it would match none of the model's names.
        using var scope = app.Services.CreateScope();
        var model = scope.ServiceProvider.GetRequiredService<AppDbContext>().Model;
        var names = model.GetEntityTypes().SelectMany(entity => new[] { entity.GetTableName() }
            .Concat(entity.GetProperties().Select(p => p.GetColumnName()))
            .Concat(entity.GetIndexes().Select(i => i.GetDatabaseName()))
            .Concat(entity.GetKeys().Select(k => k.GetName()))
            .Concat(entity.GetForeignKeys().Select(f => f.GetConstraintName())));
        Assert.Equal([], names.OfType<string>().Where(name => System.Text.Encoding.UTF8.GetByteCount(name) > 63).Distinct().ToList());
    }

    [Fact]
    public void FilteredIndexes_CompareEnumColumns_WithTheNamesTheModelStores()
    {
        // Enums are stored as snake_case names ('running'); a filter written with the C# name ('Running') matches no row,
        // so a partial index would never be used, and a partial unique index would cover every row.
        using var scope = app.Services.CreateScope();
        var model = scope.ServiceProvider.GetRequiredService<AppDbContext>().Model;
        var compared = 0;
        foreach (var entity in model.GetEntityTypes())
        {
            foreach (var index in entity.GetIndexes().Where(i => i.GetFilter() is not null))
            {
                foreach (System.Text.RegularExpressions.Match match in System.Text.RegularExpressions.Regex.Matches(index.GetFilter()!, @"(\w+)\s*(?:=|<>)\s*'([^']*)'"))
                {
                    var property = entity.GetProperties().Single(p => p.GetColumnName() == match.Groups[1].Value);
                    var stored = Enum.GetValues(property.ClrType.IsEnum ? property.ClrType : Nullable.GetUnderlyingType(property.ClrType)!).Cast<object>()
                        .Select(value => (string)property.GetValueConverter()!.ConvertToProvider(value)!).ToList();
                    Assert.True(stored.Contains(match.Groups[2].Value),
                        $"{index.GetDatabaseName()} compares {match.Groups[1].Value} with '{match.Groups[2].Value}', which is never stored ({string.Join(", ", stored)})");
                    compared++;
                }
            }
        }
        Assert.True(compared >= 2, "no filtered index compares an enum column");
    }

    [Fact]
    public async Task MigrationRunner_RecordsEveryScript_AndRerunningChangesNothing()
    {
        var versions = await QueryAsync(app.Database, "SELECT version FROM schema_migrations ORDER BY version");
        Assert.NotEmpty(versions);
        Assert.Equal(versions.OrderBy(v => v, StringComparer.Ordinal), versions);

        var migrator = (SchemaMigrator)app.Services.GetService(typeof(SchemaMigrator))!;
        await migrator.MigrateAsync(CancellationToken.None);
        Assert.Equal(versions, await QueryAsync(app.Database, "SELECT version FROM schema_migrations ORDER BY version"));
        Assert.Empty(await migrator.PendingAsync(CancellationToken.None));
    }

    [Fact]
    public async Task Script0036_MarksEmailsWithdrawnBeforeIt_AsWithdrawn_AndLeavesDeliveryFailuresAlone()
    {
        // Rows as withdrawal wrote them before the column existed, next to a real delivery failure and a sent email.
        var now = DateTime.UtcNow;
        var legacyWithdrawn = new OutboxEmail { Recipient = "old@tests.example", Subject = "Invitation", Body = "", CreatedUtc = now, FailedUtc = now, LastError = "Withdrawn before it was sent: the invitation was revoked." };
        var undeliverable = new OutboxEmail { Recipient = "gone@tests.example", Subject = "Alert", Body = "Your balance is low.", CreatedUtc = now, FailedUtc = now, LastError = "550 Withdrawn before it was sent: mailbox unknown" };
        var sent = new OutboxEmail { Recipient = "ok@tests.example", Subject = "Alert", Body = "", CreatedUtc = now, SentUtc = now };
        await app.InScopeAsync(null, async services =>
        {
            var db = services.GetRequiredService<AppDbContext>();
            db.OutboxEmails.AddRange(legacyWithdrawn, undeliverable, sent);
            await db.SaveChangesAsync();
            // The script's data step, as the runner applied it to databases that had such rows.
            var script = File.ReadAllText(Path.Combine(Repo.Root, "src", "AgentMarket", "Platform", "Data", "Migrations", app.Database.Provider == "Postgres" ? "Postgres" : "Sqlite", "0036_outbox_email_withdrawn.sql"));
            await db.Database.ExecuteSqlRawAsync(script[script.IndexOf("UPDATE", StringComparison.Ordinal)..]);
            return 0;
        });

        var withdrawnUtc = await app.InScopeAsync(null, services => services.GetRequiredService<AppDbContext>().OutboxEmails
            .Where(e => e.Id == legacyWithdrawn.Id || e.Id == undeliverable.Id || e.Id == sent.Id).ToDictionaryAsync(e => e.Id, e => e.WithdrawnUtc));
        Assert.NotNull(withdrawnUtc[legacyWithdrawn.Id]);
        Assert.Null(withdrawnUtc[undeliverable.Id]);
        Assert.Null(withdrawnUtc[sent.Id]);
    }

    [Fact]
    public void EveryScriptVersion_IsUnique_AndBothProvidersHaveTheSameVersions()
    {
        var folder = Path.Combine(Repo.Root, "src", "AgentMarket", "Platform", "Data", "Migrations");
        List<string> Versions(string provider) => Directory.GetFiles(Path.Combine(folder, provider), "*.sql").Select(f => Path.GetFileName(f)[..4]).Order().ToList();
        var sqlite = Versions("Sqlite");
        var postgres = Versions("Postgres");
        // Two scripts with one version would make the runner skip the second as already applied.
        Assert.Equal(sqlite.Distinct().Count(), sqlite.Count);
        Assert.Equal(sqlite, postgres);
    }

    static async Task<List<string>> DescribeAsync(TestDatabase database) =>
        database.Provider == "Postgres" ? await DescribePostgresAsync(database) : await DescribeSqliteAsync(database);

    static async Task<List<string>> DescribeSqliteAsync(TestDatabase database)
    {
        var lines = new List<string>();
        var tables = await QueryAsync(database, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'schema_migrations' ORDER BY name");
        foreach (var table in tables)
        {
            lines.Add($"table {table}");
            lines.AddRange((await QueryAsync(database, $"SELECT name || ' ' || upper(type) || ' notnull=' || \"notnull\" || ' pk=' || pk || ' default=' || ifnull(dflt_value, '') FROM pragma_table_info('{table}')"))
                .Select(c => $"column {table}.{c}"));
            lines.AddRange((await QueryAsync(database, $"SELECT \"table\" || '.' || \"to\" || ' from ' || \"from\" || ' on delete ' || on_delete FROM pragma_foreign_key_list('{table}')"))
                .Select(f => $"fk {table} -> {f}"));
            foreach (var index in await QueryAsync(database, $"SELECT name || '|' || \"unique\" FROM pragma_index_list('{table}') WHERE origin = 'c'"))
            {
                var name = index.Split('|')[0];
                var columns = await QueryAsync(database, $"SELECT name FROM pragma_index_info('{name}') ORDER BY seqno");
                lines.Add($"index {table}.{name} unique={index.Split('|')[1]} ({string.Join(",", columns)})");
            }
            var definition = (await QueryAsync(database, $"SELECT sql FROM sqlite_master WHERE type = 'table' AND name = '{table}'")).Single();
            foreach (var check in System.Text.RegularExpressions.Regex.Matches(definition, @"CONSTRAINT ""(ck_[^""]+)"" CHECK \((.*?)\)(,|\n)").Select(m => m.Groups[1].Value))
            {
                lines.Add($"check {table}.{check}");
            }
        }
        return lines;
    }

    static async Task<List<string>> DescribePostgresAsync(TestDatabase database)
    {
        var lines = new List<string>();
        lines.AddRange((await QueryAsync(database, """
            SELECT 'column ' || table_name || '.' || column_name || ' ' || data_type || coalesce('(' || character_maximum_length || ')', '')
                   || ' nullable=' || is_nullable || ' default=' || coalesce(column_default, '')
            FROM information_schema.columns WHERE table_schema = 'public' AND table_name <> 'schema_migrations'
            """)));
        lines.AddRange(await QueryAsync(database, """
            SELECT 'index ' || tablename || ' ' || replace(indexdef, 'public.', '')
            FROM pg_indexes WHERE schemaname = 'public' AND tablename <> 'schema_migrations'
            """));
        lines.AddRange(await QueryAsync(database, """
            SELECT 'constraint ' || rel.relname || '.' || con.conname || ' ' || pg_get_constraintdef(con.oid)
            FROM pg_constraint con JOIN pg_class rel ON rel.oid = con.conrelid JOIN pg_namespace ns ON ns.oid = rel.relnamespace
            WHERE ns.nspname = 'public' AND rel.relname <> 'schema_migrations'
            """));
        return lines;
    }

    static async Task<List<string>> QueryAsync(TestDatabase database, string sql)
    {
        await using DbConnection connection = database.Provider == "Postgres" ? new NpgsqlConnection(database.ConnectionString) : new SqliteConnection(database.ConnectionString);
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        var results = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            results.Add(Convert.ToString(reader.GetValue(0), System.Globalization.CultureInfo.InvariantCulture)!);
        }
        return results;
    }
}
