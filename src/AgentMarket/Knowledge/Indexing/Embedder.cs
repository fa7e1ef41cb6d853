using System.ClientModel;
using System.ClientModel.Primitives;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Options;
using OpenAI;
using OpenAI.Embeddings;

namespace AgentMarket.Knowledge.Indexing;

/// <summary>The embedding endpoint failed (HTTP error, timeout, unreachable); retrying later may succeed.</summary>
public sealed class EmbeddingUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// Embeddings through the OpenAI-compatible endpoint the host is configured with (<c>Llm:BaseUrl</c>, <c>Llm:ApiKey</c>)
/// and <c>Knowledge:EmbeddingModel</c>. Without a model, <see cref="IsEnabled"/> is false and the knowledge base is
/// full-text only. Vectors are returned at unit length, so a dot product is their cosine similarity.
/// </summary>
sealed class Embedder
{
    /// <summary>Inputs per request; OpenAI accepts up to 2,048, local servers often fewer.</summary>
    const int BatchSize = 32;

    readonly EmbeddingClient? _client;

    public Embedder(IOptions<KnowledgeOptions> options, IConfiguration configuration)
    {
        var model = options.Value.EmbeddingModel;
        var baseUrl = configuration["Llm:BaseUrl"];
        var apiKey = configuration["Llm:ApiKey"];
        if (string.IsNullOrWhiteSpace(model) || (string.IsNullOrWhiteSpace(baseUrl) && string.IsNullOrWhiteSpace(apiKey)))
        {
            return;
        }
        var clientOptions = new OpenAIClientOptions { NetworkTimeout = TimeSpan.FromSeconds(60), RetryPolicy = new ClientRetryPolicy(maxRetries: 2) };
        if (!string.IsNullOrWhiteSpace(baseUrl))
        {
            clientOptions.Endpoint = Uri.TryCreate(baseUrl, UriKind.Absolute, out var endpoint)
                ? endpoint
                : throw new OptionsValidationException("Llm:BaseUrl", typeof(KnowledgeOptions), [$"Llm:BaseUrl is not an absolute URL: {baseUrl}"]);
        }
        // The SDK refuses an empty key; keyless local servers ignore whatever is sent.
        _client = new EmbeddingClient(model, new ApiKeyCredential(string.IsNullOrWhiteSpace(apiKey) ? "unused" : apiKey), clientOptions);
    }

    public bool IsEnabled => _client is not null;

    public async Task<IReadOnlyList<float[]>> EmbedAsync(IReadOnlyList<string> texts, CancellationToken cancellationToken)
    {
        var client = _client ?? throw new InvalidOperationException("Embeddings are not configured.");
        var vectors = new List<float[]>(texts.Count);
        foreach (var batch in texts.Chunk(BatchSize))
        {
            OpenAIEmbeddingCollection embeddings;
            try
            {
                embeddings = (await client.GenerateEmbeddingsAsync(batch, cancellationToken: cancellationToken)).Value;
            }
            catch (Exception exception) when (exception is ClientResultException or HttpRequestException
                || (exception is OperationCanceledException && !cancellationToken.IsCancellationRequested))
            {
                var status = exception is ClientResultException { Status: > 0 } result ? $" (HTTP {result.Status})" : "";
                throw new EmbeddingUnavailableException($"The embedding endpoint failed{status}.", exception);
            }
            if (embeddings.Count != batch.Length)
            {
                throw new EmbeddingUnavailableException("The embedding endpoint answered a different number of vectors than inputs.");
            }
            vectors.AddRange(embeddings.OrderBy(e => e.Index).Select(e => Vectors.Normalize(e.ToFloats().Span)));
        }
        return vectors;
    }
}

/// <summary>
/// Embedding vectors as stored (float32 bytes in the machine's order, little-endian on every platform .NET runs the
/// host on) and compared (dot product of unit vectors).
/// </summary>
static class Vectors
{
    public static float[] Normalize(ReadOnlySpan<float> vector)
    {
        var normalized = vector.ToArray();
        var length = MathF.Sqrt(Dot(normalized, normalized));
        if (length > 0)
        {
            for (var i = 0; i < normalized.Length; i++)
            {
                normalized[i] /= length;
            }
        }
        return normalized;
    }

    public static byte[] ToBytes(float[] vector) => MemoryMarshal.AsBytes(vector.AsSpan()).ToArray();

    /// <summary>Cosine similarity of a stored unit vector and a unit query vector; 0 when their dimensions differ (another model).</summary>
    public static float Similarity(ReadOnlySpan<byte> stored, ReadOnlySpan<float> query)
    {
        var vector = MemoryMarshal.Cast<byte, float>(stored);
        return vector.Length == query.Length ? Dot(vector, query) : 0;
    }

    static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        var sum = 0f;
        for (var i = 0; i < a.Length; i++)
        {
            sum += a[i] * b[i];
        }
        return sum;
    }
}
