using System.Collections.Immutable;
using AgentMarket.Flows.Models;
using AgentMarket.Flows.Services;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Options;

namespace AgentMarket.Runtime.Cli;

/// <summary>A configuration value the CLI cannot use.</summary>
internal sealed class CliConfigurationException(string message) : Exception(message);

/// <summary>
/// The engine's services for one CLI run, from the host's configuration stack (appsettings.json, then environment
/// variables) without starting the host: the configured model, in-memory memory and knowledge, plain-text
/// documents, secrets from <c>Flows:Secrets</c> or the environment, and the host's outbound guard.
/// </summary>
internal sealed class CliServices : IAsyncDisposable
{
    readonly ServiceProvider _models;

    CliServices(FlowServices flow, ServiceProvider models)
    {
        Flow = flow;
        _models = models;
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
        var models = new ServiceCollection().AddSingleton<IConfiguration>(configuration).AddModelClients().BuildServiceProvider();
        try
        {
            var model = Model(models, arguments.Model);
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
                // The host's guard, with its reading of Flows:OutboundAllowList (the one the model clients use too).
                Outbound = models.GetRequiredService<PlatformOutbound>().Guard,
                Secrets = new EnvironmentFallbackSecrets(new DictionarySecretResolver(secrets)),
            };
            return new CliServices(flow, models);
        }
        catch
        {
            await models.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// The configured model (null: none), built by the host's <see cref="ModelClients"/> from the operator's keys
    /// (<c>Llm:*</c>), so its usage is what the platform would record for the run: the endpoint's figures, or an
    /// estimate from the text when it reports none (ADR-172), never zero tokens nobody counted.
    /// </summary>
    static IChatClient? Model(ServiceProvider models, string? modelOverride)
    {
        LlmOptions llm;
        try
        {
            llm = models.GetRequiredService<IOptionsMonitor<LlmOptions>>().CurrentValue;
        }
        catch (Exception exception) when (exception is OptionsValidationException or InvalidOperationException)
        {
            throw new CliConfigurationException($"Llm: {exception.Message}");
        }

        if (!llm.Configured)
        {
            return null;
        }

        Uri? endpoint = null;
        if (!string.IsNullOrWhiteSpace(llm.BaseUrl) && !Uri.TryCreate(llm.BaseUrl, UriKind.Absolute, out endpoint))
        {
            throw new CliConfigurationException($"Llm:BaseUrl is not an absolute URL: {llm.BaseUrl}");
        }

        var model = modelOverride ?? llm.Model;
        var client = models.GetRequiredService<ModelClients>().Get(new ModelEndpoint(endpoint, llm.ApiKey, model, Trusted: true), model);
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

    public async ValueTask DisposeAsync()
    {
        await _models.DisposeAsync();
    }

    /// <summary>Langflow resolves unknown global variables from the environment (LANGFLOW_FALLBACK_TO_ENV_VAR); so does the CLI.</summary>
    sealed class EnvironmentFallbackSecrets(ISecretResolver configured) : ISecretResolver
    {
        public async ValueTask<string?> GetAsync(string name, CancellationToken cancellationToken) =>
            await configured.GetAsync(name, cancellationToken) ?? Environment.GetEnvironmentVariable(name);
    }
}
