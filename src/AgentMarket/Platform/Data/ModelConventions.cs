using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace AgentMarket.Platform.Data;

/// <summary>
/// Names every column, key and index in snake_case (tables are named explicitly in each configuration; an index may be too)
/// and stores enums as their snake_case names, so the SQL scripts, psql sessions and the JSON API all read the same.
/// </summary>
static class ModelConventions
{
    public static void Apply(ModelBuilder modelBuilder)
    {
        foreach (var entity in modelBuilder.Model.GetEntityTypes())
        {
            if (entity.IsMappedToJson())
            {
                // Owned types stored as JSON live inside their owner's column: name their JSON properties instead.
                foreach (var property in entity.GetProperties().Where(p => !p.IsShadowProperty()))
                {
                    property.SetJsonPropertyName(SnakeCase(property.Name));
                }
                continue;
            }
            var table = entity.GetTableName() ?? SnakeCase(entity.ClrType.Name);
            entity.SetTableName(table);
            var storeObject = StoreObjectIdentifier.Table(table, entity.GetSchema());

            foreach (var property in entity.GetProperties())
            {
                property.SetColumnName(SnakeCase(property.GetColumnName(storeObject) ?? property.Name));
                var clr = Nullable.GetUnderlyingType(property.ClrType) ?? property.ClrType;
                if (clr.IsEnum && property.GetValueConverter() is null)
                {
                    property.SetValueConverter((ValueConverter)Activator.CreateInstance(typeof(SnakeCaseEnumConverter<>).MakeGenericType(clr))!);
                    property.SetMaxLength(40);
                }
            }
            foreach (var key in entity.GetKeys())
            {
                key.SetName(key.IsPrimaryKey() ? $"pk_{table}" : $"ak_{table}_{string.Join("_", key.Properties.Select(p => p.GetColumnName(storeObject)))}");
            }
            foreach (var foreignKey in entity.GetForeignKeys())
            {
                var principal = foreignKey.PrincipalEntityType.GetTableName();
                foreignKey.SetConstraintName($"fk_{table}_{principal}_{string.Join("_", foreignKey.Properties.Select(p => p.GetColumnName(storeObject)))}");
            }
            // An index named in its configuration keeps that name: one whose conventional name PostgreSQL would cut.
            foreach (var index in entity.GetIndexes().Where(i => ((IConventionIndex)i).GetDatabaseNameConfigurationSource() != ConfigurationSource.Explicit))
            {
                index.SetDatabaseName($"ix_{table}_{string.Join("_", index.Properties.Select(p => p.GetColumnName(storeObject)))}");
            }
        }
    }

    public static string SnakeCase(string name)
    {
        var builder = new StringBuilder(name.Length + 8);
        for (var i = 0; i < name.Length; i++)
        {
            var c = name[i];
            if (char.IsUpper(c))
            {
                var previousIsLower = i > 0 && (char.IsLower(name[i - 1]) || char.IsDigit(name[i - 1]));
                var nextIsLower = i + 1 < name.Length && char.IsLower(name[i + 1]);
                if (i > 0 && name[i - 1] != '_' && (previousIsLower || (nextIsLower && char.IsUpper(name[i - 1]))))
                {
                    builder.Append('_');
                }
                builder.Append(char.ToLowerInvariant(c));
            }
            else
            {
                builder.Append(c);
            }
        }
        return builder.ToString();
    }
}

/// <summary>Stores an enum as its snake_case member name (for example <c>PendingReview</c> as <c>pending_review</c>).</summary>
sealed class SnakeCaseEnumConverter<TEnum>() : ValueConverter<TEnum, string>(
    v => EnumNames<TEnum>.ToName(v),
    v => EnumNames<TEnum>.FromName(v))
    where TEnum : struct, Enum;

/// <summary>Snake_case names of an enum's members, as stored in the database and written in JSON.</summary>
static class EnumNames<TEnum> where TEnum : struct, Enum
{
    static readonly Dictionary<TEnum, string> Names = Enum.GetValues<TEnum>().ToDictionary(v => v, v => ModelConventions.SnakeCase(v.ToString()));
    static readonly Dictionary<string, TEnum> Values = Names.ToDictionary(p => p.Value, p => p.Key, StringComparer.Ordinal);

    public static string ToName(TEnum value) => Names[value];
    public static TEnum FromName(string name) => Values[name];

    /// <summary>Parses a snake_case name from a query string; false for anything else (numbers included).</summary>
    public static bool TryParse(string? name, out TEnum value) => Values.TryGetValue(name ?? "", out value);
}
