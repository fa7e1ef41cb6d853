using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using AgentMarket.Tests.Catalog;
using AgentMarket.Tests.Gateway;
using AgentMarket.Tests.Infrastructure;

namespace AgentMarket.Tests.Runtime;

/// <summary>
/// On a platform without a model endpoint of its own, a key a flow's model node carries without a base URL goes to the
/// endpoint of the provider the node names, and an unknown provider's key goes nowhere (ADR-166).
/// </summary>
public class ProviderEndpointTests(AgentMarketApp app) : IClassFixture<AgentMarketApp>
{
    [Fact]
    public async Task FlowKeyWithoutAnEndpoint_GoesToItsProvidersEndpoint_NeverToOpenAI()
    {
        var anthropicKey = $"sk-ant-{Guid.NewGuid():N}";
        var openAiKey = $"sk-{Guid.NewGuid():N}";
        using var outbound = new OutboundRecorder(anthropicKey, openAiKey);

        var anthropic = await app.SubscribedAsync(await PublishAsync("Anthropic", anthropicKey));
        await anthropic.KeyClient.RunAsync(anthropic.Config, "Which endpoint?");
        var openAi = await app.SubscribedAsync(await PublishAsync("OpenAI", openAiKey));
        await openAi.KeyClient.RunAsync(openAi.Config, "Which endpoint?");

        var anthropicCalls = outbound.Carrying(anthropicKey);
        Assert.NotEmpty(anthropicCalls);
        Assert.All(anthropicCalls, uri => Assert.Equal(("https", "api.anthropic.com", "/v1/chat/completions"), (uri.Scheme, uri.Host, uri.AbsolutePath)));
        var openAiCalls = outbound.Carrying(openAiKey);
        Assert.NotEmpty(openAiCalls);
        Assert.All(openAiCalls, uri => Assert.Equal(("https", "api.openai.com", "/v1/chat/completions"), (uri.Scheme, uri.Host, uri.AbsolutePath)));
    }

    [Fact]
    public async Task FlowKeyOfAnUnknownProviderWithoutAnEndpoint_IsRefused_AndSentNowhere()
    {
        var key = $"sk-{Guid.NewGuid():N}";
        using var outbound = new OutboundRecorder(key);

        var subscribed = await app.SubscribedAsync(await PublishAsync($"Vendor {CatalogIntents.UniqueWord()}", key));

        await Http.AssertProblemAsync(await subscribed.KeyClient.RunAsync(subscribed.Config, "Where does my key go?"), HttpStatusCode.UnprocessableEntity, "model_endpoint_unknown");
        Assert.Empty(outbound.Carrying(key));
    }

    /// <summary>Basic Prompting whose model node names <paramref name="provider"/> and carries <paramref name="apiKey"/>, with no base URL.</summary>
    async Task<PublishedAgent> PublishAsync(string provider, string apiKey)
    {
        var flow = JsonNode.Parse(CatalogIntents.ExampleFlow("Basic Prompting.json"))!;
        var node = flow["data"]!["nodes"]!.AsArray().Single(n => n?["data"]?["type"]?.GetValue<string>() == "LanguageModelComponent")!;
        var template = node["data"]!["node"]!["template"]!;
        template["model"]!["value"] = new JsonArray(new JsonObject { ["name"] = $"model-{CatalogIntents.UniqueWord()}", ["provider"] = provider });
        template["api_key"]!["value"] = apiKey;

        var (seller, handle) = await app.SellerAsync();
        var name = $"Provider endpoint agent {CatalogIntents.UniqueWord()}";
        var agentId = await seller.CreateAgentAsync(name);
        await Http.AssertStatusAsync(await seller.UploadFlowAsync(agentId, System.Text.Encoding.UTF8.GetBytes(flow.ToJsonString()), "provider-endpoint.json"), HttpStatusCode.Created);
        var slug = $"provider-{Guid.NewGuid():N}"[..20];
        var listing = await Http.ReadJsonAsync(await seller.Client.PostAsJsonAsync($"/api/provider-agents/{agentId}/publish/", CatalogIntents.PublishBody(slug)), HttpStatusCode.Created);
        return new PublishedAgent(seller, agentId, listing.GetProperty("uuid").GetGuid(), slug, name, handle);
    }

    /// <summary>
    /// Watches the process's outbound HTTP requests (HttpClient's diagnostics) and records, then stops before it
    /// connects, each one carrying one of <paramref name="keys"/>: the vendors' real endpoints are never called, and
    /// other tests' requests pass untouched.
    /// </summary>
    sealed class OutboundRecorder : IObserver<DiagnosticListener>, IObserver<KeyValuePair<string, object?>>, IDisposable
    {
        readonly string[] _keys;
        readonly List<(Uri Uri, string Authorization)> _requests = [];
        readonly List<IDisposable> _subscriptions = [];

        public OutboundRecorder(params string[] keys)
        {
            _keys = keys;
            _subscriptions.Add(DiagnosticListener.AllListeners.Subscribe(this));
        }

        /// <summary>The URLs of the requests that carried <paramref name="key"/>.</summary>
        public List<Uri> Carrying(string key)
        {
            lock (_requests)
            {
                return [.. _requests.Where(r => r.Authorization.Contains(key, StringComparison.Ordinal)).Select(r => r.Uri)];
            }
        }

        public void OnNext(DiagnosticListener value)
        {
            if (value.Name == "HttpHandlerDiagnosticListener")
            {
                lock (_subscriptions)
                {
                    _subscriptions.Add(value.Subscribe(this));
                }
            }
        }

        public void OnNext(KeyValuePair<string, object?> value)
        {
            if (value.Key != "System.Net.Http.Request" || value.Value?.GetType().GetProperty("Request")?.GetValue(value.Value) is not HttpRequestMessage request)
            {
                return;
            }

            var authorization = request.Headers.Authorization?.ToString() ?? "";
            if (request.RequestUri is null || !_keys.Any(key => authorization.Contains(key, StringComparison.Ordinal)))
            {
                return;
            }

            lock (_requests)
            {
                _requests.Add((request.RequestUri, authorization));
            }
            throw new InvalidOperationException("Outbound request stopped by the test.");
        }

        public void OnCompleted()
        {
        }

        public void OnError(Exception error)
        {
        }

        public void Dispose()
        {
            lock (_subscriptions)
            {
                _subscriptions.ForEach(subscription => subscription.Dispose());
            }
        }
    }
}
