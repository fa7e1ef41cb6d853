using System.Collections.Immutable;
using AgentMarket.Flows.Models;
using AgentMarket.Flows.Net;
using AgentMarket.Flows.Services;
using Microsoft.Extensions.AI;

namespace AgentMarket.Runtime.Cli;

/// <summary>A configuration value the CLI cannot use.</summary>
internal sealed class CliConfigurationException(string message) : Exception(message);

/// <summary>
/// The engine's services for one CLI run, from the host's configuration stack (appsettings.json, then environment
/// variables) without starting the host: the configured model, in-memory memory and knowledge, plain-text
/// documents, secrets from <c>Flows:Secrets</c> or the environment, and the outbound guard.
/// </summary>
internal sealed class CliServices : IAsyncDisposable
{
    readonly OutboundGuard _outbound;
    readonly IChatClient? _model;

    CliServices(FlowServices flow, OutboundGuard outbound, IChatClient? model)
    {
        Flow = flow;
        _outbound = outbound;
        _model = model;
    }

    public FlowServices Flow { get; }

    public static async Task<CliServices> CreateAsync(CliArguments arguments, TextWriter stderr, CancellationToken cancellationToken)
    {
        var environment = Environment.GetEnvironmentVariable("DOTNET_ENVIRONMENT") ?? Environment.GetEnvironmentVariable("ASPNETCORE_ENVIRONMENT") ?? "Production";
        var configuration = new ConfigurationBuilder()
            .SetBasePath(AppContext.BaseDirectory)
            .AddJsonFile("appsettings.json", optional: true)
            .AddJsonFile($"appsettings.{environment}.json", optional: true)
            .AddEnvironmentVariables()
            .Build();
        var model = Model(configuration, arguments.Model);
        var allowList = configuration.GetSection("Flows:OutboundAllowList").Get<string[]>()
            ?? (configuration["Flows:OutboundAllowList"] ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var outbound = new OutboundGuard(OutboundPolicy.FromAllowList(allowList));
        var documents = new PlainTextDocumentReader(arguments.DocumentFolder ?? Directory.GetCurrentDirectory());
        var secrets = configuration.GetSection("Flows:Secrets").GetChildren()
            .Where(secret => secret.Value is not null)
            .Select(secret => KeyValuePair.Create(secret.Key, secret.Value!));
        var knowledge = arguments.Knowledge.Count == 0 ? null : await KnowledgeAsync(arguments.Knowledge, stderr, cancellationToken);
        var flow = new FlowServices
        {
            Models = new SingleModelResolver(model),
            Messages = new InMemoryMessageStore(),
            Knowledge = knowledge,
            Documents = documents,
            Outbound = outbound,
            Secrets = new EnvironmentFallbackSecrets(new DictionarySecretResolver(secrets)),
        };
        return new CliServices(flow, outbound, model);
    }

    static IChatClient? Model(IConfiguration configuration, string? modelOverride)
    {
        var baseUrl = configuration["Llm:BaseUrl"];
        var apiKey = configuration["Llm:ApiKey"];
        if (string.IsNullOrWhiteSpace(baseUrl) && string.IsNullOrWhiteSpace(apiKey))
        {
            return null;
        }

        Uri? endpoint = null;
        if (!string.IsNullOrWhiteSpace(baseUrl) && !Uri.TryCreate(baseUrl, UriKind.Absolute, out endpoint))
        {
            throw new CliConfigurationException($"Llm:BaseUrl is not an absolute URL: {baseUrl}");
        }

        var timeout = int.TryParse(configuration["Llm:TimeoutSeconds"], out var seconds) && seconds > 0 ? TimeSpan.FromSeconds(seconds) : TimeSpan.FromSeconds(100);
        var model = modelOverride ?? configuration["Llm:Model"] ?? "gpt-4o-mini";
        var client = new OpenAiCompatibleChatClient(new OpenAiCompatibleChatClientOptions { BaseUrl = endpoint, ApiKey = apiKey, Model = model, Timeout = timeout });
        return modelOverride is null ? client : new FixedModelClient(client, modelOverride);
    }

    static async Task<InMemoryKnowledgeBase> KnowledgeAsync(IReadOnlyList<string> paths, TextWriter stderr, CancellationToken cancellationToken)
    {
        var knowledge = new InMemoryKnowledgeBase();
        var files = paths.SelectMany(path => Directory.Exists(path) ? Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories) : [path]);
        foreach (var file in files)
        {
            string text;
            try
            {
                var fullPath = Path.GetFullPath(file);
                text = await new PlainTextDocumentReader(Path.GetDirectoryName(fullPath)!).ReadTextAsync(Path.GetFileName(fullPath), cancellationToken);
            }
            catch (DocumentReadException exception)
            {
                await stderr.WriteLineAsync($"Knowledge: skipped {file}: {exception.Message}");
                continue;
            }

            var metadata = ImmutableDictionary<string, string>.Empty.Add("source", file);
            var chunks = Paragraphs(text).Select(chunk => new KnowledgeDocument(chunk, metadata)).ToList();
            await knowledge.IngestAsync(chunks, cancellationToken);
        }

        return knowledge;
    }

    /// <summary>Chunks of about a thousand characters on paragraph boundaries, as the platform's knowledge base stores them.</summary>
    static IEnumerable<string> Paragraphs(string text)
    {
        var current = new System.Text.StringBuilder();
        foreach (var paragraph in text.Split("\n\n", StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (current.Length > 0 && current.Length + paragraph.Length > 1000)
            {
                yield return current.ToString();
                current.Clear();
            }

            current.Append(current.Length > 0 ? "\n\n" : "").Append(paragraph);
        }

        if (current.Length > 0)
        {
            yield return current.ToString();
        }
    }

    public ValueTask DisposeAsync()
    {
        _model?.Dispose();
        _outbound.Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>Langflow resolves unknown global variables from the environment (LANGFLOW_FALLBACK_TO_ENV_VAR); so does the CLI.</summary>
    sealed class EnvironmentFallbackSecrets(ISecretResolver configured) : ISecretResolver
    {
        public async ValueTask<string?> GetAsync(string name, CancellationToken cancellationToken) =>
            await configured.GetAsync(name, cancellationToken) ?? Environment.GetEnvironmentVariable(name);
    }
}
