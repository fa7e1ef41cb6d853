using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Storage;
using Npgsql;

namespace AgentMarket.Platform.Data;

/// <summary>
/// Inserts new rows of one entity the way each database does it fastest. The run journal and projector add hundreds of
/// rows of a few tables per batch; this is for them. Values are bound through the same value converters
/// <c>SaveChanges</c> uses, so a row reads back exactly as if EF had written it. The rows are not tracked, and
/// save-changes interceptors do not see them: use it only for plain rows of entities no interceptor watches (the run's
/// record, its messages, its work item).
/// <para>
/// SQLite: one single-row statement, prepared once and re-bound for every row (<see cref="StatementBatch.AddRows"/>).
/// </para>
/// <para>
/// PostgreSQL: one statement whatever the row count, <c>INSERT … SELECT * FROM unnest(@c0, @c1, …)</c> with one array
/// parameter per column. Its text never changes, so Npgsql prepares it once and PostgreSQL neither parses nor plans
/// it again; and a batch binds a few dozen arrays instead of thousands of parameters (docs/benchmarks.md, "Gateway").
/// </para>
/// </summary>
static class RowInserts
{
    public static Task InsertRowsAsync<T>(this AppDbContext db, IReadOnlyList<T> rows, CancellationToken ct) where T : class =>
        rows.Count == 0 ? Task.CompletedTask : RowStatements.ExecuteAsync(db, statements => statements.AddInsert(db, rows), ct);

    /// <summary>Adds the insert of <paramref name="rows"/> to the batch.</summary>
    public static void AddInsert<T>(this StatementBatch statements, AppDbContext db, IReadOnlyList<T> rows) where T : class
    {
        if (rows.Count == 0)
        {
            return;
        }
        var entity = db.Model.FindEntityType(typeof(T)) ?? throw new InvalidOperationException($"{typeof(T).Name} is not an entity.");
        var table = StoreObjectIdentifier.Table(entity.GetTableName()!, entity.GetSchema());
        var columns = entity.GetProperties().Select(p => new Column(p, p.GetColumnName(table)!, p.GetRelationalTypeMapping())).ToList();
        var sql = db.GetService<ISqlGenerationHelper>();
        var head = $"INSERT INTO {sql.DelimitIdentifier(table.Name, table.Schema)} ({string.Join(", ", columns.Select(c => sql.DelimitIdentifier(c.Name)))}) ";
        if (db.Database.IsNpgsql())
        {
            AddColumnArrays(statements.Add(), head, columns, rows);
            return;
        }
        statements.AddRows(head + "VALUES ", "", columns.Count, rows, (command, row, r) =>
        {
            for (var c = 0; c < columns.Count; c++)
            {
                var column = columns[c];
                command.Parameters.Add(column.Mapping.CreateParameter(command, RowStatements.Name(c, r), column.Getter.GetClrValueUsingContainingEntity(row), column.Property.IsNullable));
            }
        });
    }

    static void AddColumnArrays<T>(System.Data.Common.DbCommand command, string head, List<Column> columns, IReadOnlyList<T> rows) where T : class
    {
        command.CommandText = head + $"SELECT * FROM unnest({string.Join(", ", columns.Select((_, i) => $"@c{i}"))})";
        for (var c = 0; c < columns.Count; c++)
        {
            var column = columns[c];
            var values = Array.CreateInstance(column.ProviderType, rows.Count);
            for (var r = 0; r < rows.Count; r++)
            {
                var value = column.Getter.GetClrValueUsingContainingEntity(rows[r]);
                values.SetValue(value is null || column.Mapping.Converter is not { } converter ? value : converter.ConvertToProvider(value), r);
            }
            // Typed by the column, not by the values: Npgsql would take an array's type from its first element (a null
            // DateTime is a timestamp without time zone). Without the length, so a value too long for a varchar(n)
            // column is refused by the insert, as row by row, instead of cut by a conversion to varchar(n).
            command.Parameters.Add(new NpgsqlParameter($"c{c}", values) { DataTypeName = column.Mapping.StoreTypeNameBase + "[]" });
        }
    }

    sealed record Column(IProperty Property, string Name, RelationalTypeMapping Mapping)
    {
        public IClrPropertyGetter Getter { get; } = Property.GetGetter();

        /// <summary>The type the database driver is given for one value: after conversion, and nullable when the column is.</summary>
        public Type ProviderType { get; } = Nullable(Mapping.Converter?.ProviderClrType ?? Property.ClrType, Property.IsNullable);

        static Type Nullable(Type type, bool nullable) =>
            nullable && type.IsValueType && System.Nullable.GetUnderlyingType(type) is null ? typeof(Nullable<>).MakeGenericType(type) : type;
    }
}
