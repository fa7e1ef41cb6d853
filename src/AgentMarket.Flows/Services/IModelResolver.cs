using Microsoft.Extensions.AI;

namespace AgentMarket.Flows.Services;

/// <summary>
/// Chooses the chat client for a model node. The host applies its policy here: the platform default model, the
/// seller's override, the buyer's own key. Return null when no model is available: the run fails with
/// <c>model_not_configured</c> and nothing is charged.
/// </summary>
public interface IModelResolver
{
    /// <summary>The client to call for <paramref name="selection"/>, or null.</summary>
    IChatClient? Resolve(ModelSelection selection);
}

/// <summary>What a flow's model node asks for (format §4.4).</summary>
/// <param name="NodeId">The calling node.</param>
/// <param name="Provider">The provider named in the flow (<c>OpenAI</c>, <c>Anthropic</c>, <c>Ollama</c>…), or null.</param>
/// <param name="Model">The model named in the flow, or null for the default model.</param>
/// <param name="ApiKey">The API key from the node's field or its global variable, or null.</param>
/// <param name="BaseUrl">An endpoint named in the flow (OpenAIModel's <c>openai_api_base</c>), or null.</param>
public sealed record ModelSelection(string NodeId, string? Provider, string? Model, string? ApiKey, string? BaseUrl);

/// <summary>
/// Thrown by a resolver that refuses a node's choice (say a key for an endpoint it does not know): the run fails with
/// <see cref="Code"/> and nothing is charged, like a null from <see cref="IModelResolver.Resolve"/> but saying why.
/// </summary>
public sealed class ModelRefusedException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ModelRefusedException(string code, string message)
        : base(message)
    {
        Code = code;
    }

    /// <summary>Creates the exception.</summary>
    public ModelRefusedException()
    {
        Code = Execution.RunErrorCodes.ModelNotConfigured;
    }

    /// <summary>Creates the exception.</summary>
    public ModelRefusedException(string message)
        : base(message)
    {
        Code = Execution.RunErrorCodes.ModelNotConfigured;
    }

    /// <summary>Creates the exception.</summary>
    public ModelRefusedException(string message, Exception innerException)
        : base(message, innerException)
    {
        Code = Execution.RunErrorCodes.ModelNotConfigured;
    }

    /// <summary>The run's error code (<see cref="Execution.RunErrorCodes"/>).</summary>
    public string Code { get; }
}

/// <summary>A resolver with a single client for every node: for the CLI and tests.</summary>
/// <param name="client">The client; null means no model is configured.</param>
public sealed class SingleModelResolver(IChatClient? client) : IModelResolver
{
    /// <inheritdoc />
    public IChatClient? Resolve(ModelSelection selection) => client;
}
