using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Storage;

namespace AgentMarket.Platform.Data;

/// <summary>
/// Inserts new rows of one entity the way each database does it fastest (<see cref="RowStatements"/>). The run
/// journal and projector add hundreds of rows of a few tables per batch; this is for them. Values are bound through
/// the same type mappings and value converters <c>SaveChanges</c> uses, so a row reads back exactly as if EF had
/// written it. The rows are not tracked, and save-changes interceptors do not see them: use
/// it only for plain rows of entities no interceptor watches (the run's record, its messages, its work item).
/// </summary>
static class RowInserts
{
    public static async Task InsertRowsAsync<T>(this AppDbContext db, IReadOnlyList<T> rows, CancellationToken ct) where T : class
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
        await RowStatements.ExecuteAsync(db, head, "", columns.Count, rows, (command, row, r) =>
        {
            for (var c = 0; c < columns.Count; c++)
            {
                var column = columns[c];
                command.Parameters.Add(column.Mapping.CreateParameter(command, RowStatements.Name(c, r),
                    column.Getter.GetClrValueUsingContainingEntity(row), column.Property.IsNullable));
            }
        }, ct);
    }
}
