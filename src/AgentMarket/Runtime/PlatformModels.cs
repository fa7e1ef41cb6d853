using System.Collections.Frozen;
using System.Security.Cryptography;
using System.Text;
using AgentMarket.Flows.Execution;
using AgentMarket.Flows.Models;
using AgentMarket.Flows.Services;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;

namespace AgentMarket.Runtime;

/// <summary>
/// A model endpoint: where, with which key, and the model to use when the flow names none. Only the operator's endpoint
/// is <see cref="Trusted"/> (it may be a local Ollama on loopback); one a buyer or a flow names goes through the
/// outbound guard like any other request a flow makes, so it cannot reach private or metadata addresses.
/// </summary>
public sealed record ModelEndpoint(Uri? BaseUrl, string? ApiKey, string? DefaultModel, bool Trusted = false);

/// <summary>
/// One chat client per (endpoint, key, model), shared by the runs that use it: clients are thread-safe and hold the
/// SDK's connection pool, so building one per run would waste sockets and time. Every buyer's endpoint and key, every
/// flow's, adds one, so the map is bounded (ADR-164): at most <see cref="Capacity"/> clients, each dropped after
/// <see cref="Idle"/> unused or, when full, least recently used first. A dropped client owns nothing to release (its
/// HttpClient is the factory's or the shared outbound one), so a run still holding it finishes unharmed; the next run
/// builds another. Clients for endpoints that are not the operator's report usage through
/// <see cref="BoundedUsageChatClient"/>, the operator's through <see cref="UnreportedUsageChatClient"/>: the platform,
/// not the flow, decides whose numbers it takes as they are.
/// </summary>
sealed class ModelClients(IHttpClientFactory httpClients, PlatformOutbound outbound, IOptionsMonitor<LlmOptions> options) : IDisposable
{
    internal const int Capacity = 512;
    static readonly TimeSpan Idle = TimeSpan.FromMinutes(30);

    readonly MemoryCache _clients = new(new MemoryCacheOptions { SizeLimit = Capacity });

    /// <summary>How many clients are kept now.</summary>
    internal int Count => _clients.Count;

    public IChatClient Get(ModelEndpoint endpoint, string model)
    {
        // The key is part of the identity but never stored as text in the map.
        var identity = $"{endpoint.Trusted}|{endpoint.BaseUrl}|{Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(endpoint.ApiKey ?? "")))}|{model}";
        if (_clients.TryGetValue(identity, out IChatClient? cached))
        {
            return cached!;
        }
        IChatClient client = new OpenAiCompatibleChatClient(new OpenAiCompatibleChatClientOptions
        {
            BaseUrl = endpoint.BaseUrl,
            ApiKey = endpoint.ApiKey,
            Model = model,
            Timeout = TimeSpan.FromSeconds(options.CurrentValue.TimeoutSeconds),
            HttpClient = endpoint.Trusted ? httpClients.CreateClient(nameof(ModelClients)) : outbound.HttpClient,
        });
        client = endpoint.Trusted ? new UnreportedUsageChatClient(client) : new BoundedUsageChatClient(client, options);
        // Two runs building the same client at once both work; the map keeps one. When full, the cache refuses the entry
        // and compacts in the background: this run still uses its client.
        return _clients.Set(identity, client, new MemoryCacheEntryOptions { Size = 1, SlidingExpiration = Idle });
    }

    public void Dispose() => _clients.Dispose();
}

/// <summary>
/// Which model a run's model nodes call (SPEC §7): the buyer's own key (bring your own model) first, then a key the
/// flow carries (the provider's, from the node or its global variable) with the endpoint the flow names, or on a
/// platform without an endpoint of its own with its model provider's (ADR-166), then the operator's default endpoint.
/// With none, the run fails with <c>model_not_configured</c> and is not charged. Whoever pays the model provider chooses
/// the model: the buyer's and the flow's keys get the model the flow names; the
/// operator's key only one it serves (ADR-140). A flow's key never goes to the operator's endpoint (ADR-155).
/// </summary>
sealed class PlatformModelResolver(ModelClients clients, ModelEndpoint? buyer, LlmOptions llm) : IModelResolver
{
    readonly ModelEndpoint? _operator = OperatorDefault(llm);

    public IChatClient? Resolve(ModelSelection selection)
    {
        if (buyer is not null)
        {
            // A buyer key without an endpoint of its own is a key for the operator's endpoint, which stays trusted.
            var endpoint = buyer.BaseUrl is null ? buyer with { BaseUrl = _operator?.BaseUrl, Trusted = _operator?.Trusted ?? false } : buyer;
            return clients.Get(endpoint, selection.Model ?? buyer.DefaultModel ?? _operator?.DefaultModel ?? "gpt-4o-mini");
        }
        // A flow's key goes only to an endpoint the flow names, or, on a platform without an endpoint of its own, to its
        // provider's (ADR-166). Without a base URL it would otherwise reach the operator's endpoint: a key for another
        // vendor sent to the operator as a bearer token, and a model the operator does not serve.
        var flowUrl = Uri.TryCreate(selection.BaseUrl, UriKind.Absolute, out var named) ? named : null;
        if (!string.IsNullOrWhiteSpace(selection.ApiKey) && (flowUrl is not null || _operator is null))
        {
            var url = flowUrl ?? ProviderEndpoint(selection.Provider) ?? throw new ModelRefusedException(
                RunErrorCodes.ModelEndpointUnknown,
                $"The model node carries an API key for \"{selection.Provider}\" but names no base URL, and the platform does not know that provider's endpoint: set the node's base URL.");
            return clients.Get(new ModelEndpoint(url, selection.ApiKey, null), selection.Model ?? _operator?.DefaultModel ?? "gpt-4o-mini");
        }
        if (_operator is null)
        {
            return null;
        }
        // Model nodes also name their model in each call's options, which the client would send as it is.
        var served = llm.ServedModel(selection.Model);
        return new FixedModelClient(clients.Get(_operator, served), served);
    }

    /// <summary>
    /// The OpenAI-compatible chat endpoint of a provider a model node names (Langflow's provider names), where a key the
    /// node carries goes when it names no base URL. A node without a provider is an OpenAIModel node (ADR-166).
    /// </summary>
    internal static Uri? ProviderEndpoint(string? provider) =>
        string.IsNullOrWhiteSpace(provider) ? ProviderEndpoints["OpenAI"] : ProviderEndpoints.GetValueOrDefault(provider.Trim());

    static readonly FrozenDictionary<string, Uri> ProviderEndpoints = new Dictionary<string, Uri>(StringComparer.OrdinalIgnoreCase)
    {
        ["OpenAI"] = new("https://api.openai.com/v1"),
        ["Anthropic"] = new("https://api.anthropic.com/v1/"),
        ["Google"] = new("https://generativelanguage.googleapis.com/v1beta/openai/"),
        ["Google Generative AI"] = new("https://generativelanguage.googleapis.com/v1beta/openai/"),
        ["Groq"] = new("https://api.groq.com/openai/v1"),
        ["Mistral"] = new("https://api.mistral.ai/v1"),
        ["MistralAI"] = new("https://api.mistral.ai/v1"),
    }.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);

    static ModelEndpoint? OperatorDefault(LlmOptions options) =>
        options.Configured
            ? new ModelEndpoint(Uri.TryCreate(options.BaseUrl, UriKind.Absolute, out var url) ? url : null, options.ApiKey, options.Model, Trusted: true)
            : null;
}

/// <summary>Every call goes to <paramref name="model"/>, whatever model the flow names in the call's options.</summary>
sealed class FixedModelClient(IChatClient inner, string model) : DelegatingChatClient(inner)
{
    public override Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
        base.GetResponseAsync(messages, WithModel(options), cancellationToken);

    public override IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
        base.GetStreamingResponseAsync(messages, WithModel(options), cancellationToken);

    ChatOptions WithModel(ChatOptions? options)
    {
        var copy = options?.Clone() ?? new ChatOptions();
        copy.ModelId = model;
        return copy;
    }
}
