using System.ComponentModel.DataAnnotations;

namespace AgentMarket.Platform.Data;

public enum DatabaseProvider
{
    Sqlite,
    Postgres,
}

/// <summary>Bound from the <c>Database</c> section.</summary>
public sealed class DatabaseOptions
{
    /// <summary><c>Sqlite</c> (the single-node default, a file under <c>Storage:DataDirectory</c>) or <c>Postgres</c>.</summary>
    public DatabaseProvider Provider { get; set; } = DatabaseProvider.Sqlite;

    /// <summary>Apply missing schema scripts at start-up (the self-host default).</summary>
    public bool MigrateOnStartup { get; set; } = true;

    /// <summary>SQLite only: overrides the file under the data directory (tests use this).</summary>
    public string? SqliteConnectionString { get; set; }
}

/// <summary>Bound from the <c>Storage</c> section.</summary>
public sealed class StorageOptions
{
    /// <summary>Where the SQLite database, uploaded files and keys live. Relative paths are resolved against the working directory.</summary>
    [Required]
    public string DataDirectory { get; set; } = "./data";
}
