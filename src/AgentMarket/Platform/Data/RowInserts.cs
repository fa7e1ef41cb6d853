using System.Data.Common;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Storage;

namespace AgentMarket.Platform.Data;

/// <summary>
/// Inserts new rows of one entity with one multi-row <c>INSERT</c> per chunk. EF Core's SQLite provider sends one
/// command per added row, and the run journal and projector add hundreds of rows of a few tables per batch; this is for
/// them. Values are bound through the same type mappings and value converters <c>SaveChanges</c> uses, so a row reads
/// back exactly as if EF had written it. The rows are not tracked, and save-changes interceptors do not see them: use
/// it only for plain rows of entities no interceptor watches (the run's record, its messages, its work item).
/// </summary>
static class RowInserts
{
    /// <summary>Below both databases' limits on bound parameters per statement (SQLite 32,766; PostgreSQL 65,535).</summary>
    const int MaxParameters = 30_000;

    public static async Task InsertRowsAsync<T>(this AppDbContext db, IReadOnlyCollection<T> rows, CancellationToken ct) where T : class
    {
        if (rows.Count == 0)
        {
            return;
        }
        var entity = db.Model.FindEntityType(typeof(T)) ?? throw new InvalidOperationException($"{typeof(T).Name} is not an entity.");
        var table = StoreObjectIdentifier.Table(entity.GetTableName()!, entity.GetSchema());
        var columns = entity.GetProperties()
            .Select(p => (Property: p, Name: p.GetColumnName(table)!, Mapping: p.GetRelationalTypeMapping(), Getter: p.GetGetter()))
            .ToList();
        var sql = db.GetService<ISqlGenerationHelper>();
        var head = $"INSERT INTO {sql.DelimitIdentifier(table.Name, table.Schema)} ({string.Join(", ", columns.Select(c => sql.DelimitIdentifier(c.Name)))}) VALUES ";
        await using var parameterFactory = db.Database.GetDbConnection().CreateCommand();
        foreach (var chunk in rows.Chunk(Math.Max(1, MaxParameters / columns.Count)))
        {
            var text = new StringBuilder(head);
            var parameters = new List<DbParameter>(chunk.Length * columns.Count);
            for (var r = 0; r < chunk.Length; r++)
            {
                text.Append(r == 0 ? "(" : ", (");
                for (var c = 0; c < columns.Count; c++)
                {
                    var name = $"p{parameters.Count}";
                    text.Append(c == 0 ? "" : ", ").Append(sql.GenerateParameterNamePlaceholder(name));
                    var column = columns[c];
                    parameters.Add(column.Mapping.CreateParameter(parameterFactory, sql.GenerateParameterName(name),
                        column.Getter.GetClrValueUsingContainingEntity(chunk[r]), column.Property.IsNullable));
                }
                text.Append(')');
            }
            await db.Database.ExecuteSqlRawAsync(text.ToString(), parameters, ct);
        }
    }
}
