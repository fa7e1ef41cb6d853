using System.Collections.Frozen;

namespace AgentMarket.Flows.Services;

/// <summary>Resolves the global variables named by <c>load_from_db</c> fields (format §3.6). Unknown names resolve to null.</summary>
public interface ISecretResolver
{
    /// <summary>The value of <paramref name="name"/>, or null.</summary>
    ValueTask<string?> GetAsync(string name, CancellationToken cancellationToken);
}

/// <summary>Secrets from a dictionary: for the CLI (from configuration) and tests.</summary>
public sealed class DictionarySecretResolver(IEnumerable<KeyValuePair<string, string>> secrets) : ISecretResolver
{
    readonly FrozenDictionary<string, string> _secrets = secrets.ToFrozenDictionary(StringComparer.Ordinal);

    /// <summary>No secrets.</summary>
    public static DictionarySecretResolver Empty { get; } = new([]);

    /// <inheritdoc />
    public ValueTask<string?> GetAsync(string name, CancellationToken cancellationToken) =>
        ValueTask.FromResult(_secrets.GetValueOrDefault(name));
}
